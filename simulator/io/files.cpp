#include "simulator/io/files.hpp"

#include "simulator/io/cell_owner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace sflsim::cli {

namespace {

// A name no other writer of `path` uses, in this process or another (a stalled
// rank that wakes after its cell went elsewhere writes beside, not into, the new owner's file).
std::filesystem::path temporary_for(const std::filesystem::path& path) {
  static std::atomic<std::uint64_t> written{0};
  return path.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++written);
}

[[noreturn]] void fail(const std::filesystem::path& temporary, int fd, const char* what, int error) {
  if (fd >= 0) ::close(fd);
  ::unlink(temporary.c_str());
  throw std::runtime_error(temporary.string() + ": " + what + ": " + std::strerror(error));
}

}  // namespace

void write_atomically(const std::filesystem::path& path, const std::string& contents,
                      const std::function<void()>& before_rename) {
  // Written aside, flushed to the disk, then renamed over the old file and the
  // rename itself flushed: after a crash or kill -9 the file is the old one or
  // the new one, never a torn mix.
  const std::filesystem::path temporary = temporary_for(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(temporary, -1, "cannot write", errno);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(temporary, fd, "write failed", errno);
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail(temporary, fd, "write failed", errno);
  if (::close(fd) != 0) fail(temporary, -1, "write failed", errno);
  try {
    check_cell_owner(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."));
    if (before_rename) before_rename();
    std::filesystem::rename(temporary, path);
  } catch (...) {
    ::unlink(temporary.c_str());
    throw;
  }
  const std::filesystem::path parent = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int dir = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

int remove_stale_temporaries(const std::filesystem::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    // NAME.tmp.PID.N, as temporary_for() names them.
    const std::string name = entry.path().filename().string();
    const size_t mark = name.rfind(".tmp.");
    if (mark == std::string::npos) continue;
    const std::string rest = name.substr(mark + 5);
    const size_t dot = rest.find('.');
    if (dot == 0 || dot == std::string::npos || rest.find_first_not_of("0123456789.") != std::string::npos) continue;
    const long pid = std::strtol(rest.substr(0, dot).c_str(), nullptr, 10);
    const bool valid = pid > 0 && pid <= std::numeric_limits<pid_t>::max();
    if (valid && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;  // alive (EPERM: someone else's)
    removed += std::filesystem::remove(entry.path(), ec) ? 1 : 0;
  }
  return removed;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace sflsim::cli
