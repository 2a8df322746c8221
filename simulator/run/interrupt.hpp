#pragma once
// SIGINT and SIGTERM as requests: the run stops at its next round boundary at
// rest, with a checkpoint, and the command exits 128 + the signal (130, 143).
// A second signal ends the process at once (not a worker rank's: its rank 0
// decides, and a worker dies with it).
#include <stdexcept>
#include <string>

namespace sflsim::cli {

enum class SecondSignal { ends_process, ignored };
void install_stop_handlers(SecondSignal second = SecondSignal::ends_process);
int stop_requested();  // the signal received, or 0

// The first stop signal is passed on to `pid` too (a spawned worker rank), so
// a SIGTERM sent to rank 0 alone stops the workers' cells at their boundaries,
// each with its checkpoint. Up to 1024 processes; safe to call from any thread.
void forward_stop_signals_to(int pid);
void stop_forwarding_to(int pid);

struct Interrupted : std::runtime_error {
  Interrupted(int signal_number, int rounds_done)
      : std::runtime_error("stopped by signal " + std::to_string(signal_number) + " after round " +
                           std::to_string(rounds_done)),
        signal(signal_number),
        rounds(rounds_done) {}
  Interrupted(int signal_number, const std::string& what) : std::runtime_error(what), signal(signal_number), rounds(0) {}
  int signal;
  int rounds;
};

}  // namespace sflsim::cli
