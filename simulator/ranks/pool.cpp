#include "simulator/ranks/pool.hpp"

#include "simulator/io/build_identity.hpp"
#include "simulator/ranks/communicator.hpp"

#include <stdexcept>

namespace sflsim::cli {

struct RankPool::Worker {
  int rank = 0;
  int threads = 0;
  bool ready = false;
  bool live = true;
  std::string other_build;  // the identity it greeted with, where that is not this build's
  int in_flight = 0;
  int payloads_in_transit = 0;  // requests carrying a supernet or model to it, not yet taken
  // What it keeps that requests refer to by version, by the kind of request:
  // supernets for jobs (the newest kWorkerSnapshots), the evaluated model for eval (one).
  std::map<RankMessageKind, std::set<std::uint64_t>> held;
  std::thread receiver;
};

struct RankPool::Pending {
  enum class State { waiting, replied, missing, lost };
  Worker* worker = nullptr;
  State state = State::waiting;
  RankMessage reply;
};

namespace {

std::string why_lost(const ranks::PeerLost& e, std::chrono::milliseconds timeout) {
  return e.timed_out() ? "silent for " + std::to_string(timeout.count() / 1000) + " s" : "its connection closed";
}

void hold(std::set<std::uint64_t>& held, std::uint64_t version, RankMessageKind kind) {
  held.insert(version);
  while (held.size() > (kind == RankMessageKind::job ? kWorkerSnapshots : 1)) held.erase(held.begin());
}

}  // namespace

RankPool::RankPool(ranks::Communicator& comm, const RankMessage& hello, RankPoolOptions options)
    : comm_(comm), options_(std::move(options)) {
  for (int rank = 1; rank < comm_.world(); ++rank) {
    auto worker = std::make_unique<Worker>();
    worker->rank = rank;
    workers_.push_back(std::move(worker));
  }
  RankMessage greeting_message = hello;
  greeting_message.number = options_.heartbeat.count();  // how often the worker says it is alive
  const std::string greeting = encode(greeting_message);
  for (auto& worker : workers_) {
    try {
      comm_.send(worker->rank, greeting, options_.ready_timeout);
    } catch (const ranks::PeerLost& e) {
      throw std::runtime_error("rank " + std::to_string(worker->rank) + " did not take its greeting: " + e.what());
    }
    worker->receiver = std::thread([this, w = worker.get()] { receive_from(*w); });
  }
  std::unique_lock lock(mutex_);
  const bool all_ready = changed_.wait_for(lock, options_.ready_timeout, [this] {
    for (const auto& w : workers_) {
      if (!w->ready && w->live && w->other_build.empty()) return false;
    }
    return true;
  });
  std::string refusal;
  for (const auto& w : workers_) {
    if (!w->other_build.empty()) {
      refusal = "rank " + std::to_string(w->rank) + " is another build (" + w->other_build + "; rank 0 is " +
                build_identity() + "): run the same build on every rank";
    } else if (!all_ready || !w->ready) {
      refusal = "rank " + std::to_string(w->rank) +
                " did not become ready (it could not load the scenario's data, or died; see its messages)";
    }
    if (!refusal.empty()) break;
  }
  lock.unlock();
  if (!refusal.empty()) {
    shut_down();  // the receivers must end before the pool's members go
    throw std::runtime_error(refusal);
  }
}

RankPool::~RankPool() { shut_down(); }

void RankPool::shut_down() {
  std::vector<int> live;
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;  // done once
    stopping_ = true;
    for (auto& w : workers_) {
      if (w->live) live.push_back(w->rank);
    }
  }
  const std::string bye = encode(rank_message(RankMessageKind::shutdown));
  for (int rank : live) {
    try {
      comm_.send(rank, bye, options_.timeout);
    } catch (const ranks::PeerLost&) {
      // Gone already: nothing to shut down.
    }
  }
  // Each worker closes its connection as it leaves, which ends its receiver.
  for (auto& w : workers_) {
    if (w->receiver.joinable()) w->receiver.join();
  }
}

int RankPool::live_workers() const {
  const std::lock_guard lock(mutex_);
  return count_live();
}

int RankPool::count_live() const {
  int n = 0;
  for (const auto& w : workers_) n += w->live ? 1 : 0;
  return n;
}

int RankPool::worker_threads() const {
  const std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& w : workers_) n += w->live ? w->threads : 0;
  return n;
}

RankPoolStats RankPool::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

std::int64_t RankPool::bytes() const { return comm_.bytes_sent() + comm_.bytes_received(); }

void RankPool::receive_from(Worker& worker) {
  while (true) {
    std::string bytes;
    try {
      bytes = comm_.receive(worker.rank, options_.timeout);
    } catch (const ranks::PeerLost& e) {
      const std::lock_guard lock(mutex_);
      lose(worker, why_lost(e, options_.timeout));
      return;
    }
    RankMessage message;
    try {
      message = decode_rank_message(bytes);
    } catch (const core::StateError& e) {
      const std::lock_guard lock(mutex_);
      lose(worker, std::string("it sent a malformed message (") + e.what() + ")");
      return;
    }
    const std::lock_guard lock(mutex_);
    switch (message.kind) {
      case RankMessageKind::ready:
        if (message.text != build_identity()) {  // its outputs would not be this build's
          worker.other_build = message.text;
          changed_.notify_all();
          break;
        }
        worker.threads = static_cast<int>(message.number);
        worker.ready = true;
        break;
      case RankMessageKind::result:
      case RankMessageKind::failed:
      case RankMessageKind::stopped:
      case RankMessageKind::missing: {
        const auto found = pending_.find(message.id);
        if (found == pending_.end() || found->second->worker != &worker) break;  // resent elsewhere meanwhile
        Pending& p = *found->second;
        p.state = message.kind == RankMessageKind::missing ? Pending::State::missing : Pending::State::replied;
        p.reply = std::move(message);
        break;
      }
      default:
        break;  // heartbeat: it lives
    }
    changed_.notify_all();
  }
}

void RankPool::lose(Worker& worker, const std::string& why) {
  if (!worker.live) return;
  worker.live = false;
  int orphans = 0;
  for (auto& [id, pending] : pending_) {
    if (pending->worker == &worker && pending->state == Pending::State::waiting) {
      pending->state = Pending::State::lost;
      ++orphans;
    }
  }
  if (stopping_) return;  // it leaves as told
  if (worker.ready) ++stats_.lost_workers;
  if (worker.ready && options_.log) {
    options_.log("rank " + std::to_string(worker.rank) + " lost (" + why + "); " + std::to_string(orphans) +
                 (count_live() > 0 ? " of its requests go to other ranks" : " of its requests, and all later work, are computed by rank 0"));
  }
  if (options_.on_lost) options_.on_lost(worker.rank);
  changed_.notify_all();
}

RankPool::Worker* RankPool::pick_worker() {
  Worker* best = nullptr;
  for (auto& w : workers_) {
    if (w->live && w->ready && (!best || w->in_flight < best->in_flight)) best = w.get();
  }
  return best;
}

std::optional<RankMessage> RankPool::request(RankMessage request, const std::shared_ptr<const SupernetSnapshot>& snapshot) {
  const auto sent_at = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  const std::uint64_t id = next_id_++;
  auto pending = std::make_shared<Pending>();
  pending_[id] = pending;
  request.id = id;
  if (snapshot) request.version = snapshot->version;
  ++stats_.requests;
  while (true) {
    Worker* worker = pick_worker();
    if (!worker) {
      pending_.erase(id);
      return std::nullopt;
    }
    std::set<std::uint64_t>& held = worker->held[request.kind];
    const bool carries = snapshot && !held.contains(snapshot->version);
    if (snapshot && !carries && worker->payloads_in_transit > 0) {
      // What this request needs may still be on its way there: sent after it,
      // this request would overtake it and come back "missing".
      changed_.wait(lock, [&] { return worker->payloads_in_transit == 0 || !worker->live; });
      continue;
    }
    RankMessage message = request;
    if (carries) {
      message.payload = snapshot->tensors;
      hold(held, snapshot->version, request.kind);
      ++worker->payloads_in_transit;
    }
    pending->worker = worker;
    pending->state = Pending::State::waiting;
    ++worker->in_flight;
    lock.unlock();
    try {
      comm_.send(worker->rank, encode(message), options_.timeout);
    } catch (const ranks::PeerLost& e) {
      lock.lock();
      lose(*worker, why_lost(e, options_.timeout));
      lock.unlock();
    }
    lock.lock();
    if (carries) {
      --worker->payloads_in_transit;
      changed_.notify_all();
    }
    changed_.wait(lock, [&] { return pending->state != Pending::State::waiting; });
    --worker->in_flight;
    switch (pending->state) {
      case Pending::State::replied:
        pending_.erase(id);
        stats_.round_trip_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count();
        return std::move(pending->reply);
      case Pending::State::missing:
        if (snapshot) worker->held[request.kind].erase(snapshot->version);
        break;
      default:
        ++stats_.resent;
        break;
    }
  }
}

std::string RankComputer::compute(const std::string& job, const std::shared_ptr<const SupernetSnapshot>& snapshot) {
  RankMessage message = rank_message(RankMessageKind::job);
  message.text = job;
  std::optional<RankMessage> reply = pool_.request(std::move(message), snapshot);
  if (!reply) return fallback_.compute(job, snapshot);
  if (reply->kind == RankMessageKind::failed) throw std::runtime_error("a worker rank failed: " + reply->text);
  return std::move(reply->text);
}

}  // namespace sflsim::cli
