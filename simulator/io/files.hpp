#pragma once
// Files a run writes and reads back: every output is replaced whole (written
// aside, flushed, renamed), so a reader never sees half of one.
// Errors: write_atomically throws std::runtime_error naming the file, or what
// `before_rename` threw; either way the old file stays and no temporary is left.
#include <filesystem>
#include <functional>
#include <string>

namespace sflsim::cli {

// The whole file, or "" if it cannot be read.
std::string read_text(const std::filesystem::path& path);

// Writes `contents` to `path` through a temporary file of its own (unique to
// this call, so two writers of one path never tear each other's bytes) and a
// rename, so a reader never sees a half-written file and an interrupted run
// leaves the old one. Just before the rename it checks the directory's cell
// owner (cell_owner.hpp); `before_rename`, when given, runs then too and may
// veto the rename by throwing.
void write_atomically(const std::filesystem::path& path, const std::string& contents,
                      const std::function<void()>& before_rename = {});

// Removes what write_atomically left in `dir` when its process died (kill -9
// between write and rename): temporaries whose writer's pid is no longer
// alive on this host. Returns how many it removed.
int remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace sflsim::cli
