#include "simulator/ranks/worker.hpp"

#include "simulator/core/work_pool.hpp"
#include "simulator/io/build_identity.hpp"
#include "simulator/io/cell_owner.hpp"
#include "simulator/parts/part_codec.hpp"
#include "simulator/ranks/messages.hpp"
#include "simulator/ranks/communicator.hpp"
#include "simulator/rounds/remote_rounds.hpp"
#include "simulator/rounds/round_job.hpp"
#include "simulator/run/interrupt.hpp"
#include "simulator/run/run_scenario.hpp"
#include "simulator/scenario/scenario_io.hpp"
#include "simulator/world/world.hpp"

#include "supernet/evaluate.hpp"
#include "supernet/supernet.hpp"

#include <ATen/Parallel.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

namespace sflsim::cli {

namespace {

constexpr std::chrono::hours kForever{24 * 365};

// Sends to rank 0 from any thread; remembers that rank 0 is gone.
struct ToRankZero {
  ranks::Communicator& comm;
  std::chrono::milliseconds timeout;
  std::atomic<bool> gone{false};

  void send(const RankMessage& message) {
    if (gone) return;
    try {
      comm.send(0, encode(message), timeout);
    } catch (const ranks::PeerLost&) {
      gone = true;
    }
  }
};

// Says "alive" every period until stopped.
class Heartbeat {
 public:
  Heartbeat(ToRankZero& to, std::chrono::milliseconds period)
      : thread_([this, &to, period] {
          std::unique_lock lock(mutex_);
          while (!stop_) {
            if (stopped_.wait_for(lock, period, [this] { return stop_; })) break;
            lock.unlock();
            to.send(rank_message(RankMessageKind::heartbeat));
            lock.lock();
          }
        }) {}
  ~Heartbeat() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    stopped_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::thread thread_;
};

RankMessage reply_to(const RankMessage& request, RankMessageKind kind, std::string text = {}) {
  RankMessage reply = rank_message(kind);
  reply.id = request.id;
  reply.text = std::move(text);
  return reply;
}

}  // namespace

int serve_rank_zero(ranks::Communicator& comm, int threads) {
  RankMessage hello;
  try {
    hello = decode_rank_message(comm.receive(0, kForever));
  } catch (const ranks::PeerLost&) {
    return 1;
  }
  const std::chrono::milliseconds period{std::max<std::int64_t>(hello.number, 10)};
  ToRankZero to{comm, 30 * period};
  Heartbeat heartbeat(to, period);

  // A run's worker loads the scenario's data and keeps the supernets it is sent.
  std::unique_ptr<Scenario> scenario;
  datasets::DatasetSplits data;
  std::unique_ptr<SupernetCache> nets;
  std::unique_ptr<supernet::Supernet> shapes;  // what evaluated models are shaped from
  std::pair<std::uint64_t, std::shared_ptr<const supernet::BodyPart>> evaluated;  // the last model sent to be evaluated
  if (!hello.text.empty()) {
    try {
      scenario = std::make_unique<Scenario>(parse_scenario(hello.text, "rank 0's scenario"));
      data = load_world_data(*scenario);
      nets = std::make_unique<SupernetCache>(supernet_options(*scenario, data), kWorkerSnapshots);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sflsim: rank %d: cannot load the scenario's data: %s\n", comm.rank(), e.what());
      return 1;
    }
  }
  RankMessage ready = rank_message(RankMessageKind::ready);
  ready.number = threads;
  ready.text = build_identity();  // rank 0 refuses a worker of another build
  to.send(ready);

  {
    // Jobs side by side on `threads` threads; sweep cells one at a time (each uses `threads` itself).
    core::WorkPool jobs(threads, [] { at::set_num_threads(1); });
    core::WorkPool cells(1, [] { at::set_num_threads(1); });
    while (!to.gone) {
      RankMessage message;
      try {
        message = decode_rank_message(comm.receive(0, kForever));
      } catch (const ranks::PeerLost&) {
        to.gone = true;
        break;
      }
      if (message.kind == RankMessageKind::shutdown) break;
      if (message.kind == RankMessageKind::job && nets) {
        std::shared_ptr<const supernet::Supernet> net =
            message.payload.empty() ? nets->find(message.version) : nets->get(message.version, message.payload);
        if (!net) {
          to.send(reply_to(message, RankMessageKind::missing));
          continue;
        }
        jobs.submit([&to, &data, net, request = std::move(message), received = std::chrono::steady_clock::now()] {
          try {
            const double queued = std::chrono::duration<double>(std::chrono::steady_clock::now() - received).count();
            RoundJobResult result = compute_round(decode_job(request.text), *net, data.train);
            result.queued_seconds = queued;
            to.send(reply_to(request, RankMessageKind::result, encode(result)));
          } catch (const std::exception& e) {
            to.send(reply_to(request, RankMessageKind::failed, e.what()));
          }
        });
      } else if (message.kind == RankMessageKind::eval && nets) {
        if (!message.payload.empty()) {  // a new model to score (the first batch of it sent here)
          evaluated = {};  // rank 0 holds this one as the worker's now, whatever becomes of it
          try {
            core::StateReader in(message.payload);
            const PartData part = get_part(in);
            if (!shapes) shapes = std::make_unique<supernet::Supernet>(supernet_options(*scenario, data));
            auto model = std::make_shared<supernet::BodyPart>(shapes->extract(config_of(part), part.first, part.last));
            copy_slices(model->slices(), part, "the evaluated model");
            evaluated = {message.version, std::move(model)};
          } catch (const std::exception& e) {
            to.send(reply_to(message, RankMessageKind::failed, std::string("the evaluated model: ") + e.what()));
            continue;
          }
        }
        if (evaluated.first != message.version || !evaluated.second) {
          to.send(reply_to(message, RankMessageKind::missing));
          continue;
        }
        jobs.submit([&to, &data, model = evaluated.second, request = std::move(message)] {
          // Every request is answered: a throw here would leave rank 0 waiting while the heartbeats go on.
          try {
            const supernet::BatchScore score =
                supernet::score_batch(*model, data.test, request.number, std::stoll(request.text));
            core::StateWriter out;
            out.i64(score.correct);
            out.f64(score.loss_sum);
            to.send(reply_to(request, RankMessageKind::result, out.take()));
          } catch (const std::exception& e) {
            to.send(reply_to(request, RankMessageKind::failed, std::string("scoring test samples: ") + e.what()));
          }
        });
      } else if (message.kind == RankMessageKind::cell) {
        cells.submit([&to, threads, request = std::move(message)] {
          try {
            RunOptions options;
            options.out_dir = request.text;
            options.scenario_text = request.payload;
            options.progress = false;
            options.threads = threads;
            options.checkpoint_every = static_cast<int>(request.version);
            options.resume = true;
            // Ours until rank 0 gives it to another rank: then our writes there fail, not tear its files.
            const CellClaim claim(options.out_dir);
            run_scenario(parse_scenario(options.scenario_text, request.text), options);
            to.send(reply_to(request, RankMessageKind::result));
          } catch (const Interrupted& e) {
            RankMessage stopped = reply_to(request, RankMessageKind::stopped, e.what());
            stopped.number = e.signal;
            to.send(std::move(stopped));
          } catch (const std::exception& e) {
            to.send(reply_to(request, RankMessageKind::failed, e.what()));
          }
        });
      }
    }
  }  // the pools finish what they hold (their replies go nowhere if rank 0 is gone)
  return to.gone ? 1 : 0;
}

}  // namespace sflsim::cli
