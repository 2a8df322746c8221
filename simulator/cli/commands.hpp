#pragma once
// The subcommands of `sflsim` (one file each). Each add_*_command registers
// its subcommand and options on the app; after parsing, main calls the one
// that was parsed. Exit codes: 0 ok, 1 runtime failure, 2 bad input (thrown
// as std::invalid_argument, ScenarioError or DataError and mapped in main).
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sflsim::cli {

// The options before the subcommand.
struct GlobalOptions {
  int threads = 1;           // --threads (default: the number of cores)
  std::string device = "cpu";  // --device
};

struct Command {
  CLI::App* app = nullptr;
  std::function<int(const GlobalOptions&)> run;  // the process's exit code
};

Command add_run_command(CLI::App& app);
Command add_validate_command(CLI::App& app);
Command add_schema_command(CLI::App& app);
Command add_sweep_command(CLI::App& app);
Command add_train_central_command(CLI::App& app);
// `bench des|train|ranks|round|memory`: one Command per benchmark.
std::vector<Command> add_bench_commands(CLI::App& app);

}  // namespace sflsim::cli
