// SuperSFL and the split baselines (SL, SFL-V1, SFL-V2).
#include "server/parts.hpp"
#include "server/strategies.hpp"

namespace sflsim::server {

namespace {

class SuperSfl final : public Strategy {
 public:
  using Strategy::Strategy;
  ServerMode server_mode() const override { return ServerMode::replica_per_client; }
  // Its local classifier lets a cut-off client keep training and upload later.
  protocol::ClientBehaviour client_behaviour() const override {
    return {.train_when_cut_off = true, .defer_uploads = true, .objective = protocol::Objective::fused};
  }

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
