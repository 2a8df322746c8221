#pragma once
// Who may write a sweep cell's directory. A rank that takes a cell claims it:
// it writes a token of its own to DIR/cell.owner, and from then on every
// write_atomically into DIR by this process checks, just before its rename,
// that the file still holds that token. A stalled rank (srun, mpirun) that
// wakes after its cell was given to another rank therefore fails its next
// write instead of replacing the new owner's files.
//
// Errors: write_atomically into a claimed directory whose owner file holds
// another token throws std::runtime_error naming the directory and both
// owners; the old file stays. Threads: claims and checks from any thread.
#include <filesystem>
#include <string>

namespace sflsim::cli {

inline constexpr const char* kCellOwnerFile = "cell.owner";

class CellClaim {
 public:
  // Writes a new token (host, pid, a per-process count) to DIR/cell.owner.
  explicit CellClaim(const std::filesystem::path& dir);
  ~CellClaim();  // stops checking (the owner file stays: a later claim replaces it)
  CellClaim(const CellClaim&) = delete;
  CellClaim& operator=(const CellClaim&) = delete;
  const std::string& token() const { return token_; }

 private:
  std::filesystem::path dir_;
  std::string token_;
};

// Throws if `dir` is claimed by this process and its owner file now names
// another owner (what write_atomically calls before each rename).
void check_cell_owner(const std::filesystem::path& dir);

}  // namespace sflsim::cli
