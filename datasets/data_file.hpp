#pragma once
// Reading a data file byte by byte with errors that name it: a sequential
// reader over a gzipped or plain file (zlib reads plain files transparently)
// that tracks the decompressed byte offset, so every DataError it throws says
// "<file>: truncated: data ends at byte offset N ..." and the like.
#include "datasets/dataset.hpp"

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sflsim::datasets {

// Throws DataError("<file>: <what>").
[[noreturn]] void fail_in(const std::filesystem::path& file, const std::string& what);
// Throws unless `file` exists and is not a directory.
void require_file(const std::filesystem::path& file);
// "0x%08x".
std::string hex32(uint32_t v);

class DataFileReader {
 public:
  explicit DataFileReader(std::filesystem::path path);
  DataFileReader(const DataFileReader&) = delete;
  DataFileReader& operator=(const DataFileReader&) = delete;
  ~DataFileReader();

  const std::filesystem::path& path() const { return path_; }
  int64_t offset() const { return offset_; }
  bool compressed() const { return file_ != nullptr && gzdirect(file_) == 0; }

  // Reads up to n bytes; fewer only at the end of the data.
  size_t read_some(void* dst, size_t n);
  // Reads exactly n bytes or throws a "truncated" DataError.
  void read_exact(void* dst, size_t n, const std::string& what);
  // read_exact in pieces of at most `chunk` bytes, each allocated only once the
  // data before it has arrived: a short stream fails without the memory its
  // header claimed.
  std::vector<std::vector<unsigned char>> read_exact_chunked(size_t n, size_t chunk, const std::string& what);
  uint32_t read_be32(const std::string& what);
  [[noreturn]] void truncated(const std::string& what, int64_t start, size_t n) const;
  // Throws if any data follows the current position.
  void expect_end(const std::string& what);

 private:
  std::filesystem::path path_;
  gzFile file_ = nullptr;
  int64_t offset_ = 0;
  bool cut_short_ = false;
};

}  // namespace sflsim::datasets
