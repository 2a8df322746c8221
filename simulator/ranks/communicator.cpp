// The Gloo communicator: the one file that includes c10d's process group and
// Gloo (see communicator.hpp for why). Its timer is in deadlines.hpp, the
// parsing of StoreAddress in store_address.cpp.
//
// What Debian's LibTorch 1.13.1 + Gloo (0.0~git20220518) do, measured with a
// prototype before this was written (3 ranks on one machine):
//  - ProcessGroupGloo is declared only with USE_C10D_GLOO defined (CMake sets
//    it for this file; without it: "error: 'c10d' has not been declared");
//    the Gloo headers come from libgloo-dev; CMake's `torch` target links.
//  - send()/recv() of a kByte tensor, 0 bytes included, work; recv() needs
//    the exact size, hence a header with the size, then the payload (same
//    tag). A send completes only once the receiver has posted its recv (Gloo's
//    TCP pairs exchange "send ready"/"recv ready" notices before the data): a
//    1 MiB send to a rank that called recv 500 ms later took 0.51 s.
//  - Work::wait(1000ms) on a recv with no sender throws after 1.02 s
//    "[./gloo/transport/tcp/unbound_buffer.cc:81] Timed out waiting 1000ms for
//    recv operation to complete", and then every other pair of the process is
//    closed too: the next exchange with a healthy rank threw "Application
//    timeout caused pair closure". Hence no Gloo timeouts here (kGlooNever):
//    Deadlines calls Work::abort() instead, after which wait() returns false
//    and the other pairs keep working.
//  - SIGKILL of a peer with a recv from it pending: wait() throws 5 ms later
//    "[./gloo/transport/tcp/pair.cc:598] Connection closed by peer
//    [127.0.0.1]:65227"; later send/recv with that peer throw the same at
//    once; the other peers keep working.
//  - SIGKILL of a peer while a large message to it is being written (512 MiB,
//    killed 0.4-0.8 s into the transfer): "Connection closed by peer" within
//    50 ms in 4 of 5 trials, in the 5th nothing until our deadline; with a
//    stream of 16 MiB sends, nothing until the deadline in 4 of 5. Gloo's
//    tcp::Pair::signalException fails pending sends and receives but not an
//    unbound-buffer send already in its write queue. A receive pending from
//    the same peer does fail at once ("Connection closed by peer", or "Read
//    error [127.0.0.1]:61863: Connection reset by peer" when the dead peer had
//    unread data), and lose() then aborts the stuck send. Afterwards the
//    socket thread was idle and the other peers kept working.
//  - Gloo's socket thread blocks all signals; SIGPIPE is not ignored by
//    LibTorch in C++ (Python ignores it): see NoSigpipe.
//  - SIGSTOP: nothing happens until our deadline; abort() returns control
//    and the other peers keep working. A send to the stopped peer never
//    completes (no "recv ready" comes); abort() ends it likewise.
//  - Destroying the group with one peer killed and one stopped took < 1 ms.
//  - Sends and receives with different peers from different threads at once
//    work (200 round trips per peer, one thread per peer).
//  - A join that cannot complete throws c10::Error ("Wait timeout",
//    "Timeout waiting for key: 0/rank_0 after 2000 ms", "Socket Timeout", "The
//    client socket has timed out after 2s while trying to connect to
//    (127.0.0.1, 29613).") after one to three times the timeout; a TCPStore
//    join takes about 1 s when workers start before rank 0 listens (c10d's
//    client retries connecting once a second).
#include "simulator/ranks/communicator.hpp"
#include "simulator/ranks/deadlines.hpp"
#include "simulator/ranks/escaped.hpp"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace sflsim::ranks {

namespace {

using Clock = Deadlines::Clock;
using std::chrono::milliseconds;

// The timeout handed to Gloo's waits: never reached, because Deadlines aborts
// the wait first (a Gloo timeout would close every pair; see the top).
constexpr milliseconds kGlooNever = std::chrono::hours(24 * 365);
// A header claiming more than this is not one of ours.
constexpr std::int64_t kMaxMessageBytes = std::int64_t{1} << 40;
constexpr std::int64_t kHeaderBytes = sizeof(std::int64_t);

// c10::Error's what() carries a multi-line C++ backtrace; keep the message.
std::string error_text(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    return escaped(c10_error->what_without_backtrace());
  }
  return escaped(e.what());
}

// Blocks SIGPIPE in this thread while it lives, and discards one raised
// meanwhile. Gloo writes to its sockets with writev(), which raises SIGPIPE
// (default action: end the process) when the peer has just died; Gloo expects
// EPIPE instead, as under Python, which ignores SIGPIPE. Its socket thread
// blocks all signals, but a send or recv posts its first write from the
// calling thread, and threads that join() starts inherit the mask. No
// process-wide signal disposition is changed.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &previous_);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;
  ~NoSigpipe() {
    if (sigismember(&previous_, SIGPIPE)) return;  // it was blocked before: leave it so
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec now{};
      while (sigtimedwait(&pipe, nullptr, &now) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }

 private:
  sigset_t previous_;
};

class GlooCommunicator final : public Communicator {
 public:
  GlooCommunicator(int rank, int world, c10::intrusive_ptr<c10d::Store> store,
                   c10::intrusive_ptr<c10d::ProcessGroupGloo> group)
      : rank_(rank),
        world_(world),
        store_(std::move(store)),
        group_(std::move(group)),
        lost_(static_cast<std::size_t>(world)) {
    for (int i = 0; i < world; ++i) peers_.push_back(std::make_unique<PeerLocks>());
  }

  ~GlooCommunicator() override {
    // The group, then the abandoned operations (each keeps Gloo's context and
    // its pairs alive until it goes; see Abandoned), then the store.
    group_.reset();
    abandoned_.clear();
    store_.reset();
  }

  int rank() const override { return rank_; }
  int world() const override { return world_; }

  void send(int peer, std::string_view message, milliseconds timeout) override {
    check(peer, timeout, "send");
    const auto deadline = Clock::now() + timeout;
    const NoSigpipe no_sigpipe;
    std::lock_guard serial(peers_[static_cast<std::size_t>(peer)]->send);
    throw_if_lost(peer);

    const auto size = static_cast<std::int64_t>(message.size());
    std::vector<at::Tensor> header{at::empty({1}, at::kLong)};
    header[0].data_ptr<std::int64_t>()[0] = size;
    // A copy Gloo may read after a timed-out send has returned (kept alive
    // with its Work in abandoned_).
    std::vector<at::Tensor> payload{at::empty({size}, at::kByte)};
    if (size > 0) std::memcpy(payload[0].data_ptr(), message.data(), message.size());

    // Tag: the sender's rank, so that each direction of a pair has its own slot.
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    try {
      works.push_back(group_->send(header, peer, rank_));
      if (size > 0) works.push_back(group_->send(payload, peer, rank_));
    } catch (const std::exception& e) {
      for (auto& work : works) abandon(work);
      lose(peer, false, "send failed: " + error_text(e));
    }
    for (std::size_t i = 0; i < works.size(); ++i) {
      await(peer, works[i], deadline, [&] {
        for (std::size_t j = i; j < works.size(); ++j) abandon(works[j]);
        return "send of " + std::to_string(size) + " bytes not taken within " +
               std::to_string(timeout.count()) + " ms";
      });
    }
    sent_ += kHeaderBytes + size;
  }

  std::string receive(int peer, milliseconds timeout) override {
    check(peer, timeout, "receive");
    const auto deadline = Clock::now() + timeout;
    const NoSigpipe no_sigpipe;
    std::lock_guard serial(peers_[static_cast<std::size_t>(peer)]->receive);
    throw_if_lost(peer);
    const auto why_timeout = [&] {
      return "no complete message within " + std::to_string(timeout.count()) + " ms";
    };

    std::vector<at::Tensor> header{at::empty({1}, at::kLong)};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = group_->recv(header, peer, peer);
    } catch (const std::exception& e) {
      lose(peer, false, "receive failed: " + error_text(e));
    }
    await(peer, work, deadline, [&] {
      abandon(work);
      return why_timeout();
    });
    const std::int64_t size = header[0].data_ptr<std::int64_t>()[0];
    if (size < 0 || size > kMaxMessageBytes) {
      lose(peer, false, "bad message header (size " + std::to_string(size) + ")");
    }
    // Gloo writes straight into the string we return; a string whose
    // receive timed out stays alive with its Work (abandoned_).
    auto buffer = std::make_unique<std::string>(static_cast<std::size_t>(size), '\0');
    if (size > 0) {
      std::vector<at::Tensor> payload{at::from_blob(buffer->data(), {size}, at::kByte)};
      try {
        work = group_->recv(payload, peer, peer);
      } catch (const std::exception& e) {
        lose(peer, false, "receive failed: " + error_text(e));
      }
      await(peer, work, deadline, [&] {
        abandon(work, std::move(buffer));
        return why_timeout();
      });
    }
    received_ += kHeaderBytes + size;
    return std::move(*buffer);
  }

  std::int64_t bytes_sent() const override { return sent_.load(); }
  std::int64_t bytes_received() const override { return received_.load(); }

 private:
  struct PeerLocks {
    std::mutex send;
    std::mutex receive;
  };
  // An operation that did not complete, and the memory that Gloo may still
  // write or read for it (a send's tensors are held by its Work). The Work
  // (with Gloo's buffer, which the pair only reaches through a weak pointer)
  // goes before the memory: members are destroyed in reverse order.
  struct Abandoned {
    std::unique_ptr<std::string> memory;
    c10::intrusive_ptr<c10d::Work> work;
  };

  void check(int peer, milliseconds timeout, const char* what) const {
    if (peer < 0 || peer >= world_ || peer == rank_) {
      throw std::invalid_argument(std::string(what) + ": peer " + std::to_string(peer) +
                                  " is not another rank of this world of " + std::to_string(world_) +
                                  " (this is rank " + std::to_string(rank_) + ")");
    }
    if (timeout <= milliseconds::zero()) {
      throw std::invalid_argument(std::string(what) + ": the timeout must be positive, not " +
                                  std::to_string(timeout.count()) + " ms");
    }
  }

  // Waits for `work` until `deadline`. If it failed or the deadline passed,
  // calls give_up() (which abandons what is pending and says what did not
  // happen in time) and throws PeerLost; the peer is then lost.
  template <typename GiveUp>
  void await(int peer, const c10::intrusive_ptr<c10d::Work>& work, Clock::time_point deadline,
             GiveUp&& give_up) {
    const auto id = deadlines_.arm(peer, deadline, work);
    bool completed = false;
    try {
      completed = work->wait(kGlooNever);
    } catch (const std::exception& e) {
      // Gloo closed the pair (a dead peer: "Connection closed by peer ...").
      deadlines_.disarm(id);
      give_up();
      lose(peer, false, error_text(e));
    }
    deadlines_.disarm(id);
    if (!completed) {  // aborted: our deadline, or the peer was lost in another thread
      const std::string why = give_up();
      throw_if_lost(peer);
      lose(peer, true, why);
    }
  }

  void abandon(c10::intrusive_ptr<c10d::Work> work, std::unique_ptr<std::string> memory = nullptr) {
    std::lock_guard lock(lost_mutex_);
    abandoned_.push_back({std::move(memory), std::move(work)});
  }

  void throw_if_lost(int peer) const {
    std::lock_guard lock(lost_mutex_);
    if (const auto& lost = lost_[static_cast<std::size_t>(peer)]) throw *lost;
  }

  // Marks `peer` lost (the first reason stays), cuts short its operations in
  // other threads, and throws.
  [[noreturn]] void lose(int peer, bool timed_out, const std::string& why) {
    std::optional<PeerLost> lost;
    {
      std::lock_guard lock(lost_mutex_);
      auto& slot = lost_[static_cast<std::size_t>(peer)];
      if (!slot) {
        slot.emplace(peer, timed_out,
                     "rank " + std::to_string(rank_) + " lost rank " + std::to_string(peer) + ": " + why);
      }
      lost = slot;
    }
    deadlines_.abort_peer(peer);
    throw *lost;
  }

  const int rank_;
  const int world_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group_;
  std::vector<std::unique_ptr<PeerLocks>> peers_;
  mutable std::mutex lost_mutex_;  // guards lost_ and abandoned_
  std::vector<std::optional<PeerLost>> lost_;
  std::vector<Abandoned> abandoned_;
  std::atomic<std::int64_t> sent_{0};
  std::atomic<std::int64_t> received_{0};
  Deadlines deadlines_;  // last: its thread stops before the rest goes
};

std::shared_ptr<::gloo::transport::Device> make_device(const StoreAddress& store, std::string_view bind_host) {
  if (!bind_host.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(std::string(bind_host));
  if (store.file.empty()) {
    if (store.host == "localhost" || store.host.rfind("127.", 0) == 0) {
      return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    }
    if (store.host == "::1") return c10d::ProcessGroupGloo::createDeviceForHostname("::1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

Communicator::~Communicator() = default;

std::unique_ptr<Communicator> Communicator::join(const StoreAddress& store, int rank, int world,
                                                 milliseconds timeout, std::string_view bind_host) {
  if (world < 1 || rank < 0 || rank >= world) {
    throw std::invalid_argument("join: rank " + std::to_string(rank) + " is not in a world of " +
                                std::to_string(world) + " ranks");
  }
  if (timeout <= milliseconds::zero()) {
    throw std::invalid_argument("join: the timeout must be positive, not " + std::to_string(timeout.count()) +
                                " ms");
  }
  if (store.file.empty() && (store.host.empty() || store.port < 1 || store.port > 65535)) {
    throw std::invalid_argument("join: the store address '" + escaped(store.text()) +
                                "' has neither a file nor a host and port");
  }
  const NoSigpipe no_sigpipe;  // also for the threads started here
  try {
    c10::intrusive_ptr<c10d::Store> meeting;
    if (!store.file.empty()) {
      auto file_store = c10::make_intrusive<c10d::FileStore>(store.file, world);
      file_store->setTimeout(timeout);
      meeting = file_store;
    } else {
      c10d::TCPStoreOptions options;
      options.port = static_cast<std::uint16_t>(store.port);
      options.isServer = rank == 0;
      options.numWorkers = static_cast<std::size_t>(world);
      options.waitWorkers = true;
      options.timeout = timeout;
      meeting = c10::make_intrusive<c10d::TCPStore>(store.host, options);
    }
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(make_device(store, bind_host));
    // Its worker threads run collectives, which we never start.
    options->threads = 1;
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(meeting, rank, world, options);
    return std::make_unique<GlooCommunicator>(rank, world, std::move(meeting), std::move(group));
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(world) +
                             " could not join the world at " + escaped(store.text()) + " within " +
                             std::to_string(timeout.count()) + " ms: " + error_text(e));
  }
}

}  // namespace sflsim::ranks
