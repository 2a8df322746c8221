#include "simulator/run/interrupt.hpp"

#include <array>
#include <atomic>
#include <csignal>
#include <signal.h>

namespace sflsim::cli {

namespace {

std::atomic<int> received{0};
std::atomic<bool> second_ends_process{true};
std::array<std::atomic<int>, 1024> forwarded{};  // 0 = a free slot

extern "C" void on_stop_signal(int signal_number) {
  if (received.exchange(signal_number) != 0) {
    if (!second_ends_process.load()) return;
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  for (const std::atomic<int>& pid : forwarded) {
    const int target = pid.load();
    if (target > 0) ::kill(target, signal_number);  // async-signal-safe
  }
}

}  // namespace

void install_stop_handlers(SecondSignal second) {
  second_ends_process.store(second == SecondSignal::ends_process);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

int stop_requested() { return received.load(); }

void forward_stop_signals_to(int pid) {
  for (std::atomic<int>& slot : forwarded) {
    int free_slot = 0;
    if (slot.compare_exchange_strong(free_slot, pid)) break;
  }
  // A stop that came before this process existed reaches it now.
  if (const int signal_number = received.load(); signal_number != 0) ::kill(pid, signal_number);
}

void stop_forwarding_to(int pid) {
  for (std::atomic<int>& slot : forwarded) {
    int expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) break;
  }
}

}  // namespace sflsim::cli
