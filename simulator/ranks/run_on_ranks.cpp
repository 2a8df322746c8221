#include "simulator/ranks/run_on_ranks.hpp"

#include "simulator/ranks/pool.hpp"
#include "simulator/ranks/communicator.hpp"
#include "simulator/parts/part_codec.hpp"
#include "simulator/world/world.hpp"
#include "supernet/evaluate.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <exception>

namespace sflsim::cli {

namespace {

double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

RankPoolOptions rank_pool_options(const RankOptions& rank_options, RankWorld& ranks) {
  RankPoolOptions pool_options;
  pool_options.timeout = rank_options.timeout();
  pool_options.heartbeat = std::min<std::chrono::milliseconds>(kHeartbeatPeriod, pool_options.timeout / 4);
  pool_options.log = [](const std::string& line) { std::fprintf(stderr, "\nsflsim: %s\n", line.c_str()); };
  pool_options.on_lost = [&ranks](int rank) { ranks.kill_worker(rank); };
  return pool_options;
}

RunResult run_on_ranks(const Scenario& scenario, RunOptions options, RankWorld& ranks, const RankOptions& rank_options) {
  const RankPoolOptions pool_options = rank_pool_options(rank_options, ranks);
  RankMessage hello = rank_message(RankMessageKind::hello);
  hello.text = options.scenario_text;
  RankPool pool(ranks.comm(), hello, pool_options);

  // The computers outlive the world, whose scripts' tickets use them.
  std::unique_ptr<LocalComputer> fallback;
  std::unique_ptr<RankComputer> computer;
  // Rank 0's pool keeps about two requests per worker thread in flight (each
  // waits for its reply), and evaluates the supernet.
  World world(scenario, std::max(options.threads, 2 * pool.worker_threads()));
  if (!world.strategy->rounds_are_independent() && options.progress) {
    std::fprintf(stderr, "sflsim: %s trains one server model that every client's steps go through: its rounds run on "
                         "rank 0, the workers wait\n", scenario.algorithm.name.c_str());
  }
  fallback = std::make_unique<LocalComputer>(world.net->architecture().options(), world.data.train);
  computer = std::make_unique<RankComputer>(pool, *fallback);
  options.round_computer = computer.get();
  std::uint64_t evaluated_models = 0;
  options.evaluate_elsewhere = [&pool, &world, &evaluated_models](const supernet::BodyPart& model,
                                                                  int batch_size) -> std::optional<supernet::Evaluation> {
    if (pool.live_workers() == 0) return std::nullopt;
    // The model goes along with each worker's first batch of it.
    auto bytes = std::make_shared<SupernetSnapshot>();
    bytes->version = ++evaluated_models;
    core::StateWriter part;
    put(part, body_data(model));
    bytes->tensors = part.take();
    const std::shared_ptr<const SupernetSnapshot> evaluated = bytes;
    const datasets::ImageDataset& test = world.data.test;
    const int64_t batches = (test.size() + batch_size - 1) / batch_size;
    std::vector<supernet::BatchScore> scores(static_cast<size_t>(batches));
    std::vector<core::WorkTicket> tickets;
    for (int64_t b = 0; b < batches; ++b) {
      tickets.push_back(core::submit_work(world.work.get(), [&, b] {
        const int64_t begin = b * batch_size;
        const int64_t count = std::min<int64_t>(batch_size, test.size() - begin);
        RankMessage request = rank_message(RankMessageKind::eval);
        request.number = begin;
        request.text = std::to_string(count);
        const std::optional<RankMessage> reply = pool.request(std::move(request), evaluated);
        if (!reply) {
          scores[static_cast<size_t>(b)] = supernet::score_batch(model, test, begin, count);  // no worker left
          return;
        }
        if (reply->kind == RankMessageKind::failed) throw std::runtime_error("a worker rank failed: " + reply->text);
        core::StateReader in(reply->text);
        scores[static_cast<size_t>(b)].correct = in.i64();
        scores[static_cast<size_t>(b)].loss_sum = in.f64();
      }));
    }
    std::exception_ptr failure;  // every batch is waited for before `scores` goes
    for (const core::WorkTicket& ticket : tickets) {
      try {
        ticket.wait();
      } catch (...) {
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
    return supernet::combine(scores, test.size());
  };
  options.wall_counters = [&pool, &world] {
    const auto* remote = dynamic_cast<const RemoteRounds*>(world.scripts.get());
    const RankPoolStats stats = pool.stats();
    return std::vector<std::pair<std::string, double>>{
        {"rank_bytes", static_cast<double>(pool.bytes())},
        {"worker_compute_s", remote ? remote->compute_seconds() : 0.0},
        {"worker_queue_s", remote ? remote->queued_seconds() : 0.0},
        {"round_trip_s", stats.round_trip_seconds},
        {"rank0_cpu_s", process_cpu_seconds()},
        {"jobs", remote ? static_cast<double>(remote->jobs()) : 0.0},
        {"jobs_resent", static_cast<double>(stats.resent)}};
  };
  return run_world(world, options);
}

}  // namespace sflsim::cli
