#pragma once
// Files a run writes and reads back: every output is replaced whole (written
// aside, flushed, renamed), so a reader never sees half of one.
// Errors: write_atomically throws std::runtime_error naming the file.
#include <filesystem>
#include <string>

namespace sflsim::cli {

// The whole file, or "" if it cannot be read.
std::string read_text(const std::filesystem::path& path);

// Writes `contents` to `path` through a temporary file and a rename, so a
// reader never sees a half-written file and an interrupted run leaves the old one.
void write_atomically(const std::filesystem::path& path, const std::string& contents);

}  // namespace sflsim::cli
