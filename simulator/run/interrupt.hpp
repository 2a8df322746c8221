#pragma once
// SIGINT and SIGTERM as requests: the run stops at its next round boundary at
// rest, with a checkpoint, and the command exits 128 + the signal (130, 143).
// A second signal ends the process at once.
#include <stdexcept>
#include <string>

namespace sflsim::cli {

void install_stop_handlers();
int stop_requested();  // the signal received, or 0

struct Interrupted : std::runtime_error {
  Interrupted(int signal_number, int rounds_done)
      : std::runtime_error("stopped by signal " + std::to_string(signal_number) + " after round " +
                           std::to_string(rounds_done)),
        signal(signal_number),
        rounds(rounds_done) {}
  int signal;
  int rounds;
};

}  // namespace sflsim::cli
