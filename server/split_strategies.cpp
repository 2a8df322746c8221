// SuperSFL and the split baselines (SL, SFL-V1, SFL-V2).
#include "server/parts.hpp"
#include "server/strategies.hpp"

namespace sflsim::server {

namespace {

class SuperSfl final : public Strategy {
 public:
  using Strategy::Strategy;
  ServerMode server_mode() const override {
    return options().shared_server ? ServerMode::shared : ServerMode::replica_per_client;
  }
  bool server_steps_by_unit() const override { return options().shared_server; }

  // Shared server side (spec §1.6's alternative): each unit of the one model
  // joins the clients' copies of that unit with the weight mass of the
  // clients whose batches trained it (those cut above it), instead of
  // replacing the supernet's suffix as SFL-V2 does.
  std::optional<int64_t> finish(supernet::Supernet& net, supernet::WriteBack& sum,
                                const RoundResults& round) const override {
    if (!options().shared_server) return Strategy::finish(net, sum, round);
    const std::shared_ptr<ServerModel>& shared = round.shared_model;
    if (shared && shared->batches > 0) {
      shared->last_step.wait();
      std::vector<double> weights;  // each result's, once (0: its client sent no batch)
      for (const SessionResult& r : *round.results) {
        weights.push_back(r.server_batches > 0 ? fusion::aggregation_weight(server_side_update(r), aggregation()) : 0.0);
      }
      const int units = net.architecture().unit_count();
      for (int unit = shared->first_unit(); unit <= units; ++unit) {
        double mass = 0.0;
        for (size_t i = 0; i < weights.size(); ++i) {
          if (weights[i] > 0.0 && (*round.results)[i].cut < unit) mass += weights[i];
        }
        if (mass > 0.0) sum.add({&shared->unit_slices(unit), mass});
      }
    }
    sum.apply();
    return std::nullopt;
  }
  // Its local classifier lets a cut-off client keep training and upload later.
  protocol::ClientBehaviour client_behaviour() const override {
    return {.train_when_cut_off = true, .defer_uploads = true, .objective = protocol::Objective::fused};
  }
  bool reintegrates_late_uploads() const override { return true; }

 protected:
  void assign_part(const supernet::Architecture& arch, const Fleet& fleet, int, ClientProfile& p) override {
    p.cut = allocate_cut(options().cut, arch, options().batch_size, p.memory_gb, p.latency, fleet.latency_min,
                         fleet.latency_max);
    p.head_cuts = {p.cut};
  }
  fusion::AggregationOptions aggregation() const override { return options().aggregation; }
};

// One cut for every client (the fixed one, or the weakest device's); the
// server side as `mode` says.
class FixedCutSplit final : public Strategy {
 public:
  FixedCutSplit(StrategyOptions options, ServerMode mode) : Strategy(std::move(options)), mode_(mode) {
    CutRule fixed = this->options().cut;
    fixed.policy = CutRule::Policy::fixed;
    rule_ = fixed;
  }
  ServerMode server_mode() const override { return mode_; }

 protected:
  void assign_part(const supernet::Architecture& arch, const Fleet& fleet, int, ClientProfile& p) override {
    p.cut = rule_.weakest_fits ? memory_cut(arch, options().batch_size, fleet.smallest_memory_gb)
                               : allocate_cut(rule_, arch, options().batch_size, p.memory_gb, p.latency,
                                              fleet.latency_min, fleet.latency_max);
  }
  // At the weakest device's cut every client fits.
  bool excludes_misfits() const override { return !rule_.weakest_fits; }

 private:
  ServerMode mode_;
  CutRule rule_;
};

}  // namespace

std::unique_ptr<Strategy> make_supersfl(StrategyOptions options) { return std::make_unique<SuperSfl>(std::move(options)); }

std::unique_ptr<Strategy> make_sfl_v1(StrategyOptions options) {
  return std::make_unique<FixedCutSplit>(std::move(options), ServerMode::replica_per_client);
}

std::unique_ptr<Strategy> make_sfl_v2(StrategyOptions options) {
  return std::make_unique<FixedCutSplit>(std::move(options), ServerMode::shared);
}

std::unique_ptr<Strategy> make_sl(StrategyOptions options) {
  return std::make_unique<FixedCutSplit>(std::move(options), ServerMode::shared_in_turns);
}

}  // namespace sflsim::server
