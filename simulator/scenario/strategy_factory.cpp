#include "simulator/scenario/strategy_factory.hpp"

#include "datasets/random.hpp"
#include "server/strategies.hpp"
#include "simulator/core/rng.hpp"
#include "simulator/scenario/json_reader.hpp"

#include <algorithm>
#include <numeric>
#include <random>

namespace sflsim::cli {

namespace {

constexpr core::EntityId kServer{0};
constexpr int64_t kServerBatchSize = 128;       // of the server's own batches (calibration, proxy)
constexpr int64_t kCalibrationSamples = 512;  // HeteroFL's static BatchNorm re-estimation

// The first `samples` images of a seeded shuffle of the training set, in batches of kServerBatchSize.
std::vector<at::Tensor> server_held_batches(const Scenario& s, const datasets::ImageDataset& train, int64_t samples,
                                            const char* purpose) {
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 shuffle_rng(core::RngStream(s.seed, kServer, purpose).next_u64());
  datasets::shuffle_in_place(std::span<int64_t>(order), shuffle_rng);
  samples = std::min(samples, train.size());
  std::vector<at::Tensor> batches;
  for (int64_t first = 0; first < samples; first += kServerBatchSize) {
    const auto indices = std::span<const int64_t>(order).subspan(static_cast<size_t>(first),
                                                                 std::min(kServerBatchSize, samples - first));
    batches.push_back(datasets::make_batch(train, indices, nullptr, nullptr).images);
  }
  return batches;
}

server::CutRule::Policy cut_policy(const std::string& name) {
  if (name == "fixed") return server::CutRule::Policy::fixed;
  if (name == "flops") return server::CutRule::Policy::flops;
  if (name == "resource") return server::CutRule::Policy::resource;
  if (name == "memory") return server::CutRule::Policy::memory;
  throw ScenarioError("scenario: $.algorithm.cut.policy: unknown policy '" + name + "'");
}

server::StrategyOptions strategy_options(const Scenario& s) {
  const AlgorithmOptions& a = s.algorithm;
  server::StrategyOptions o;
  o.seed = s.seed;
  o.batch_size = s.training.batch_size;
  o.server_flops_per_s = static_cast<int64_t>(s.server.gflops * 1e9);
  o.timeout_factor = a.timeout_factor;
  o.cut = {cut_policy(a.cut.policy), a.cut.alpha, a.cut.beta, a.cut.fixed, a.cut.flops_budget_gflops,
           a.cut.baseline == "weakest"};
  o.include_excluded = a.include_excluded;
  o.aggregation = {a.performance_weights, a.temperature, a.staleness_gamma};
  o.shared_server = a.server_side == "shared";
  o.server_optimizer = {s.training.learning_rate, s.training.momentum, s.training.weight_decay};
  return o;
}

}  // namespace

const std::vector<std::string>& algorithm_names() {
  static const std::vector<std::string> names{"supersfl", "sl",       "sfl-v1",  "sfl-v2",
                                              "fedavg",   "heterofl", "depthfl", "rafl"};
  return names;
}

std::unique_ptr<server::Strategy> make_strategy(const Scenario& s, const datasets::ImageDataset& train) {
  const std::string& name = s.algorithm.name;
  server::StrategyOptions options = strategy_options(s);
  if (name == "supersfl") return server::make_supersfl(std::move(options));
  if (name == "sl") return server::make_sl(std::move(options));
  if (name == "sfl-v1") return server::make_sfl_v1(std::move(options));
  if (name == "sfl-v2") return server::make_sfl_v2(std::move(options));
  if (name == "fedavg") return server::make_fedavg(std::move(options));
  if (name == "heterofl") return server::make_heterofl(std::move(options), server_held_batches(s, train, kCalibrationSamples, "calibration"));
  if (name == "depthfl") return server::make_depthfl(std::move(options));
  if (name == "rafl") {
    const RaflOptions& r = s.algorithm.rafl;
    const server::DistillationOptions distillation{r.temperature, r.distill_epochs,
                                                   {r.learning_rate, server::kDistillationMomentum, s.training.weight_decay}};
    return server::make_rafl(std::move(options), distillation, server_held_batches(s, train, r.proxy_samples, "proxy"));
  }
  throw ScenarioError("scenario: $.algorithm.name: unknown algorithm '" + name + "'");
}

}  // namespace sflsim::cli
