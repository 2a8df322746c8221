#pragma once
// What one mini-batch of a client's part costs, charge by charge: the one
// cost formula that the client and its session charge as they train
// (client/client.cpp, server/session.cpp) and that the strategies' nominal
// round times and deadlines sum (server/round_costs.hpp). Torch-free.
//
//   client forward    1 x the forward FLOPs of prefix, heads and own network
//   activations up    activations at the cut (fp32) and labels (int64)
//   server step       3 x the suffix's forward FLOPs (forward + backward)
//   gradient down     the cut gradient (fp32, the activations' size)
//   client backward   2 x the client's forward FLOPs
#include "supernet/architecture.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace sflsim::supernet {

inline constexpr int64_t kLabelBytes = 8;

// What a client trains, as the charges see it.
struct PartShape {
  SubnetConfig config;                  // of the prefix (and the server's suffix)
  int cut = 0;                          // the prefix's last unit
  std::vector<int> head_cuts;           // local classifiers, by the unit they follow
  std::optional<SubnetConfig> own_config;  // RaFL's own network, kept on the device
  int own_depth = 0;                    // its last unit (a head follows it when shallower than the supernet)
};

struct BatchCharges {
  int64_t client_flops_per_sample = 0;      // forward of prefix, heads and own network
  int64_t server_flops_per_sample = 0;      // forward of the suffix, units cut+1..L (0: the client trains it all)
  int64_t activation_bytes_per_sample = 0;  // fp32 activations leaving the cut (0: likewise)

  int64_t client_forward(int64_t samples) const { return client_flops_per_sample * samples; }
  int64_t client_backward(int64_t samples) const { return 2 * client_flops_per_sample * samples; }
  int64_t server_step(int64_t samples) const { return 3 * server_flops_per_sample * samples; }
  int64_t activations_up(int64_t samples) const { return samples * (activation_bytes_per_sample + kLabelBytes); }
  int64_t activations(int64_t samples) const { return samples * activation_bytes_per_sample; }  // without labels
  int64_t gradient_down(int64_t samples) const { return activations(samples); }
};

BatchCharges batch_charges(const Architecture& arch, const PartShape& part);

// Forward FLOPs per sample of a whole network of `depth` units with its
// classifier (a local head when shallower than the supernet).
int64_t network_flops(const Architecture& arch, const SubnetConfig& config, int depth);

}  // namespace sflsim::supernet
