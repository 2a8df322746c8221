#include "simulator/io/cell_owner.hpp"

#include "simulator/io/files.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>

namespace sflsim::cli {

namespace {

std::mutex claims_mutex;
std::map<std::filesystem::path, std::string> claims;  // claimed directory -> this process's token

std::filesystem::path key(const std::filesystem::path& dir) { return std::filesystem::weakly_canonical(dir); }

std::string new_token() {
  static std::atomic<std::uint64_t> count{0};
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + std::to_string(++count);
}

}  // namespace

CellClaim::CellClaim(const std::filesystem::path& dir) : dir_(key(dir)), token_(new_token()) {
  {
    const std::lock_guard lock(claims_mutex);
    claims.erase(dir_);  // this process's earlier claim (if any) gives way to this one
  }
  write_atomically(dir_ / kCellOwnerFile, token_ + "\n");
  const std::lock_guard lock(claims_mutex);
  claims[dir_] = token_;
}

CellClaim::~CellClaim() {
  const std::lock_guard lock(claims_mutex);
  const auto found = claims.find(dir_);
  if (found != claims.end() && found->second == token_) claims.erase(found);
}

void check_cell_owner(const std::filesystem::path& dir) {
  std::string mine;
  {
    const std::lock_guard lock(claims_mutex);
    if (claims.empty()) return;  // nothing claimed here: the common case costs no file system call
    const auto found = claims.find(key(dir));
    if (found == claims.end()) return;
    mine = found->second;
  }
  std::string now = read_text(dir / kCellOwnerFile);
  if (!now.empty() && now.back() == '\n') now.pop_back();
  if (now != mine) {
    throw std::runtime_error(dir.string() + ": the cell now belongs to " + (now.empty() ? "nobody" : now) +
                             ", not to this rank (" + mine + "): its writes stop here");
  }
}

}  // namespace sflsim::cli
