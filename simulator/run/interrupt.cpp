#include "simulator/run/interrupt.hpp"

#include <atomic>
#include <csignal>

namespace sflsim::cli {

namespace {

std::atomic<int> received{0};

extern "C" void on_stop_signal(int signal_number) {
  if (received.exchange(signal_number) != 0) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
  }
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

int stop_requested() { return received.load(); }

}  // namespace sflsim::cli
