#pragma once
// The options of `run` and `sweep` that spread them over processes
// (--ranks, or --world/--rank/--store/--bind from a launcher), and what a
// process started as a worker rank does instead of the subcommand.
#include "simulator/ranks/launch.hpp"

#include <string>

namespace CLI {
class App;
}

namespace sflsim::cli {

void add_rank_flags(CLI::App& command, RankOptions& options);

// A worker rank: serves rank 0 until it says shutdown; returns the exit code.
// `subcommand` and `target` are the command line's (run FILE, sweep FILE).
int serve_as_worker(const RankOptions& options, int threads, const std::string& device, const std::string& subcommand,
                    const std::string& target);

}  // namespace sflsim::cli
