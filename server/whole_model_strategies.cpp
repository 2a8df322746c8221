// The algorithms whose clients train a whole model with no server side:
// FedAvg, HeteroFL, DepthFL and RaFL.
#include "server/parts.hpp"
#include "server/strategies.hpp"

#include <algorithm>

namespace sflsim::server {

namespace {

// Base of the four: the client holds units 1..L itself, unless a subclass cuts it shorter.
class WholeModel : public Strategy {
 public:
  using Strategy::Strategy;
  ServerMode server_mode() const override { return ServerMode::none; }

 protected:
  void assign_part(const supernet::Architecture& arch, const Fleet&, int, ClientProfile& p) override {
    p.cut = arch.unit_count();
    p.split = false;
  }
};

class FedAvg final : public WholeModel {
 public:
  using WholeModel::WholeModel;

 protected:
  bool excludes_misfits() const override { return true; }
};

class HeteroFl final : public WholeModel {
 public:
  HeteroFl(StrategyOptions options, std::vector<at::Tensor> calibration)
      : WholeModel(std::move(options)), calibration_(std::move(calibration)) {}
  // Static BatchNorm (sBN): running statistics averaged over subnets of
  // different widths do not fit the widest one, so they are re-estimated on a
  // few training batches before each evaluation.
  void prepare_evaluation(supernet::BodyPart& model) const override {
    supernet::recalibrate_batchnorm(model, calibration_);
  }

 protected:
  // Width levels 1, 1/2, 1/4, 1/8: the widest whose share of the largest
  // device's memory this device has.
  void assign_part(const supernet::Architecture& arch, const Fleet& fleet, int c, ClientProfile& p) override {
    WholeModel::assign_part(arch, fleet, c, p);
    double level = 1.0;
    while (level > 0.125 && p.memory_gb < level * fleet.largest_memory_gb) level /= 2;
    p.config.width.fill(level);
  }

 private:
  std::vector<at::Tensor> calibration_;
};

class DepthFl final : public WholeModel {
 public:
  using WholeModel::WholeModel;
  protocol::ClientBehaviour client_behaviour() const override {
    return {.objective = protocol::Objective::self_distillation};
  }

 protected:
  // The deepest of the stage levels 1..S whose share k/S of the largest
  // device's memory this device has; a classifier after each stage it holds
  // (the last stage's is the supernet's own classifier).
  void assign_part(const supernet::Architecture& arch, const Fleet& fleet, int c, ClientProfile& p) override {
    WholeModel::assign_part(arch, fleet, c, p);
    const std::vector<int> exits = stage_end_units(arch);
    const int levels = static_cast<int>(exits.size());
    int level = levels;
    while (level > 1 && p.memory_gb < static_cast<double>(level) / levels * fleet.largest_memory_gb) --level;
    p.cut = level == levels ? arch.unit_count() : exits[static_cast<size_t>(level - 1)];
    p.head_cuts.assign(exits.begin(), exits.begin() + (level == levels ? level - 1 : level));
  }
};

class Rafl final : public WholeModel {
 public:
  Rafl(StrategyOptions options, DistillationOptions distillation, std::vector<at::Tensor> proxy)
      : WholeModel(std::move(options)), distillation_(distillation), proxy_(std::move(proxy)) {}
  protocol::ClientBehaviour client_behaviour() const override {
    return {.objective = protocol::Objective::mutual_learning};
  }

  // The uploads' softmax ensemble is distilled into the averaged knowledge network.
  std::optional<int64_t> finish(supernet::Supernet& net, supernet::WriteBack& sum,
                                const RoundResults& round) const override {
    WholeModel::finish(net, sum, round);
    std::vector<const protocol::ModelUpload*> uploads;
    for (const SessionResult& r : *round.results) {
      if (r.upload) uploads.push_back(&*r.upload);  // late uploads are dropped: RaFL does not reintegrate
    }
    if (uploads.empty()) return std::nullopt;
    return distill_ensemble(net, knowledge_, uploads, proxy_, distillation_);
  }

 protected:
  // A MAC budget in proportion to the device's speed (the fastest may run the
  // whole supernet); the knowledge network is trained whole.
  void assign_part(const supernet::Architecture& arch, const Fleet& fleet, int c, ClientProfile& p) override {
    WholeModel::assign_part(arch, fleet, c, p);
    const double share = static_cast<double>(p.flops_per_s) / static_cast<double>(fleet.fastest_flops_per_s);
    const auto budget = static_cast<int64_t>(share * static_cast<double>(arch.forward_flops(p.config, 1, p.cut)));
    core::RngStream rng(options().seed, core::EntityId{static_cast<uint64_t>(c) + 1}, "rafl-architecture");
    std::tie(p.own_config, p.own_depth) = sample_own_network(arch, budget, rng);
  }
  // The knowledge network: per stage, the narrowest own network covering it.
  supernet::SubnetConfig settle_parts(const supernet::Architecture& arch, std::vector<ClientProfile>& profiles) override {
    knowledge_ = arch.full_config();
    for (const ClientProfile& p : profiles) {
      for (int unit = 1; unit <= p.own_depth && unit < arch.unit_count(); ++unit) {
        double& width = knowledge_.width[static_cast<size_t>(arch.stage_of_unit(unit))];
        width = std::min(width, p.own_config->width[static_cast<size_t>(arch.stage_of_unit(unit))]);
      }
    }
    for (ClientProfile& p : profiles) p.config = knowledge_;
    return knowledge_;
  }

 private:
  DistillationOptions distillation_;
  std::vector<at::Tensor> proxy_;
  supernet::SubnetConfig knowledge_;
};

}  // namespace

std::unique_ptr<Strategy> make_fedavg(StrategyOptions options) { return std::make_unique<FedAvg>(std::move(options)); }

std::unique_ptr<Strategy> make_heterofl(StrategyOptions options, std::vector<at::Tensor> calibration_batches) {
  return std::make_unique<HeteroFl>(std::move(options), std::move(calibration_batches));
}

std::unique_ptr<Strategy> make_depthfl(StrategyOptions options) { return std::make_unique<DepthFl>(std::move(options)); }

std::unique_ptr<Strategy> make_rafl(StrategyOptions options, DistillationOptions distillation,
                                    std::vector<at::Tensor> proxy_batches) {
  return std::make_unique<Rafl>(std::move(options), distillation, std::move(proxy_batches));
}

}  // namespace sflsim::server
