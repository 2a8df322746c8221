#pragma once
// The algorithms, one Strategy each (see strategy.hpp). The runner's factory
// picks one by the scenario's algorithm name; tests may build them directly.
#include "server/ensemble_distillation.hpp"
#include "server/strategy.hpp"

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

namespace sflsim::server {

// SuperSFL: resource-aware cut and a local classifier at it (TPGF), per-client
// server replicas, performance-weighted overlap averaging; a client keeps
// training through outages and uploads at its next contact.
std::unique_ptr<Strategy> make_supersfl(StrategyOptions options);

// The split baselines at one fixed cut (options.cut.fixed), excluding clients
// whose memory cannot hold it unless options.include_excluded.
std::unique_ptr<Strategy> make_sfl_v1(StrategyOptions options);  // per-client replicas, averaged
std::unique_ptr<Strategy> make_sfl_v2(StrategyOptions options);  // one shared server model
std::unique_ptr<Strategy> make_sl(StrategyOptions options);      // one shared model, clients in turns

// The whole-model baselines: no split.
std::unique_ptr<Strategy> make_fedavg(StrategyOptions options);    // the whole supernet, misfits excluded
std::unique_ptr<Strategy> make_heterofl(StrategyOptions options,   // width by memory, static BatchNorm
                                        std::vector<at::Tensor> calibration_batches);
std::unique_ptr<Strategy> make_depthfl(StrategyOptions options);   // depth by memory, an exit per stage
// RaFL: own networks within MAC budgets, the knowledge network trained by
// mutual learning and distilled on the server's unlabelled `proxy_batches`.
std::unique_ptr<Strategy> make_rafl(StrategyOptions options, DistillationOptions distillation,
                                    std::vector<at::Tensor> proxy_batches);

}  // namespace sflsim::server
