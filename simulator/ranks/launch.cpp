#include "simulator/ranks/launch.hpp"

#include "simulator/ranks/communicator.hpp"
#include "simulator/run/interrupt.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace sflsim::cli {

std::chrono::milliseconds RankOptions::timeout() const {
  return std::chrono::milliseconds{static_cast<std::int64_t>(timeout_s * 1000)};
}

void RankOptions::check() const {
  if (spawn > 0 && (world > 0 || rank > 0 || !store.empty())) {
    throw std::invalid_argument("--ranks starts its own workers: drop --rank, --world and --store");
  }
  if (spawn == 0 && (rank > 0 || !store.empty()) && world < 2) {
    throw std::invalid_argument("--rank and --store need --world N (N >= 2: rank 0 and at least one worker)");
  }
  if (world > 1 && (rank < 0 || rank >= world)) {
    throw std::invalid_argument("--rank " + std::to_string(rank) + " is not in 0.." + std::to_string(world - 1));
  }
  if (world > 1 && store.empty()) throw std::invalid_argument("--world needs --store HOST:PORT or a shared file path");
  if (world > 1) ranks::StoreAddress::parse(store);  // throws with the reason
  if (!(timeout_s >= 1)) throw std::invalid_argument("--rank-timeout must be at least 1 second");
}

int threads_per_worker(int threads, int workers) { return std::max(1, threads / std::max(1, workers)); }

namespace {

pid_t spawn_worker(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start a worker rank (fork failed)");
  if (pid == 0) {
    // A worker must not outlive rank 0, even one killed with -9.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    // The worker installs its own stop handlers (serve_as_worker); until then
    // a Ctrl-C to the group must not kill it before rank 0 stops.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    ::execv("/proc/self/exe", argv.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

RankWorld::RankWorld(const RankOptions& options, int threads, const std::string& device, const std::string& subcommand,
                     const std::string& target) {
  options.check();
  ranks::StoreAddress store;
  int world = options.world;
  int rank = options.rank;
  if (options.spawn > 0) {
    char dir[] = "/tmp/sflsim-ranks-XXXXXX";
    if (::mkdtemp(dir) == nullptr) throw std::runtime_error("cannot make a directory for the ranks' store in /tmp");
    store_dir_ = dir;
    store.file = store_dir_ + "/store";
    world = options.spawn + 1;
    rank = 0;
    const std::string worker_threads = std::to_string(threads_per_worker(threads, options.spawn));
    for (int r = 1; r < world; ++r) {
      const std::string worker_device = device == "cuda" ? "cuda:" + std::to_string(r - 1) : device;
      children_.push_back(spawn_worker({"sflsim", "--threads", worker_threads, "--device", worker_device, subcommand,
                                        target, "--rank",
                                        std::to_string(r), "--world", std::to_string(world), "--store",
                                        store.text(), "--rank-timeout", std::to_string(options.timeout_s)}));
      forward_stop_signals_to(children_.back());
    }
  } else {
    store = ranks::StoreAddress::parse(options.store);
  }
  comm_ = ranks::Communicator::join(store, rank, world, options.timeout(), options.bind_host);
}

void RankWorld::kill_worker(int rank) {
  if (rank >= 1 && static_cast<size_t>(rank) <= children_.size()) ::kill(children_[static_cast<size_t>(rank) - 1], SIGKILL);
}

RankWorld::~RankWorld() {
  for (pid_t child : children_) stop_forwarding_to(child);
  comm_.reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t child : children_) {
    int status = 0;
    while (::waitpid(child, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (!store_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(store_dir_, ignored);
  }
}

}  // namespace sflsim::cli
