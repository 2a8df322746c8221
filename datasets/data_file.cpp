#include "datasets/data_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

namespace sflsim::datasets {
namespace fs = std::filesystem;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

[[noreturn]] void fail_in(const fs::path& file, const std::string& what) {
  throw DataError(file.string() + ": " + what);
}

void require_file(const fs::path& file) {
  std::error_code ec;
  const auto st = fs::status(file, ec);
  if (!fs::exists(st)) fail_in(file, "file not found");
  if (fs::is_directory(st)) fail_in(file, "is a directory, expected a data file");
}

DataFileReader::DataFileReader(fs::path path) : path_(std::move(path)) {
  require_file(path_);
  errno = 0;
  file_ = gzopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    fail_in(path_, std::string("cannot open: ") + (errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  gzbuffer(file_, 1U << 17);
}

DataFileReader::~DataFileReader() {
  if (file_ != nullptr) gzclose_r(file_);
}

size_t DataFileReader::read_some(void* dst, size_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  size_t got = 0;
  while (got < n) {
    const auto chunk = static_cast<unsigned>(std::min<size_t>(n - got, size_t{1} << 30));
    const int r = gzread(file_, out + got, chunk);
    if (r < 0) {
      int err = Z_OK;
      const char* msg = gzerror(file_, &err);
      fail_in(path_, "corrupt gzip data near decompressed byte offset " +
                      std::to_string(offset_ + static_cast<int64_t>(got)) + " (" + msg + ")");
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  offset_ += static_cast<int64_t>(got);
  if (got < n) {
    int err = Z_OK;
    gzerror(file_, &err);
    cut_short_ = err == Z_BUF_ERROR;
  }
  return got;
}

void DataFileReader::read_exact(void* dst, size_t n, const std::string& what) {
  const int64_t start = offset_;
  if (read_some(dst, n) < n) truncated(what, start, n);
}

std::vector<std::vector<unsigned char>> DataFileReader::read_exact_chunked(size_t n, size_t chunk,
                                                                          const std::string& what) {
  const int64_t start = offset_;
  std::vector<std::vector<unsigned char>> pieces;
  for (size_t done = 0; done < n; done += pieces.back().size()) {
    pieces.emplace_back(std::min(chunk, n - done));
    if (read_some(pieces.back().data(), pieces.back().size()) < pieces.back().size()) truncated(what, start, n);
  }
  return pieces;
}

uint32_t DataFileReader::read_be32(const std::string& what) {
  std::array<unsigned char, 4> b{};
  read_exact(b.data(), b.size(), what);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

void DataFileReader::truncated(const std::string& what, int64_t start, size_t n) const {
  fail_in(path_, "truncated: data ends at byte offset " + std::to_string(offset_) +
                  (compressed() ? " of the decompressed stream" : "") + " while reading " + what +
                  " (needed " + std::to_string(n) + " bytes from offset " + std::to_string(start) + ")" +
                  (cut_short_ ? "; the gzip stream itself is cut short" : ""));
}

void DataFileReader::expect_end(const std::string& what) {
  const int64_t end = offset_;
  unsigned char extra = 0;
  if (read_some(&extra, 1) != 0) {
    fail_in(path_, "wrong size: unexpected data after byte offset " + std::to_string(end) +
                    " (the end of " + what + ")");
  }
  if (cut_short_) {
    fail_in(path_, "truncated: the gzip stream is cut short after decompressed byte offset " +
                    std::to_string(end));
  }
}

}  // namespace sflsim::datasets
