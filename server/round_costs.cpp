#include "server/round_costs.hpp"

#include "server/parts.hpp"
#include "server/protocol.hpp"
#include "simulator/core/bandwidth.hpp"

#include <algorithm>

namespace sflsim::server {

namespace {

// The charges of a client's part, message by message, as its device, the
// server's device and its links make them when nothing else competes.
struct PartCharges {
  PartCharges(const supernet::Architecture& architecture, const ClientProfile& profile, int64_t server_flops)
      : arch(architecture), p(profile), server_flops_per_s(server_flops),
        batch(supernet::batch_charges(arch, {p.config, p.cut, p.head_cuts, p.own_config, p.own_depth})) {}
  const supernet::Architecture& arch;
  const ClientProfile& p;
  int64_t server_flops_per_s;
  supernet::BatchCharges batch;

  core::SimDuration on_client(int64_t flops) const { return core::duration_for(flops, p.flops_per_s); }
  core::SimDuration on_server(int64_t flops) const { return core::duration_for(flops, server_flops_per_s); }
  core::SimDuration up(int64_t bytes) const { return p.latency + core::transmission_time(bytes, p.up_bps); }
  core::SimDuration down(int64_t bytes) const { return p.latency + core::transmission_time(bytes, p.down_bps); }

  // The plan's and the upload's declared size: the prefix and its classifiers
  // (RaFL's own network travels only in the first plan and is not counted).
  int64_t model_bytes() const {
    int64_t bytes = arch.weight_bytes(p.config, 1, p.cut);
    for (int cut : p.head_cuts) bytes += arch.head_weight_bytes(p.config, cut);
    return bytes;
  }
  // Activations and labels up, the server's step, the cut gradient down.
  core::SimDuration server_round_trip(int64_t samples) const {
    return up(batch.activations_up(samples)) + on_server(batch.server_step(samples)) + down(batch.gradient_down(samples));
  }
};

}  // namespace

core::SimDuration nominal_round_time(const supernet::Architecture& arch, const ClientProfile& p, int batch_size,
                                     int64_t server_flops_per_s) {
  const PartCharges charges{arch, p, server_flops_per_s};
  const int64_t weights = charges.model_bytes();
  core::SimDuration total = charges.down(weights);
  for (int64_t done = 0; done < p.samples; done += batch_size) {
    const int64_t samples = std::min<int64_t>(batch_size, p.samples - done);
    total += charges.on_client(charges.batch.client_forward(samples));
    if (p.split) total += charges.server_round_trip(samples);
    total += charges.on_client(charges.batch.client_backward(samples));
  }
  return total + charges.up(weights);
}

core::SimDuration gradient_deadline(const supernet::Architecture& arch, const ClientProfile& p, int batch_size,
                                    int64_t server_flops_per_s, double timeout_factor) {
  return scaled(PartCharges{arch, p, server_flops_per_s}.server_round_trip(batch_size), timeout_factor);
}

core::SimDuration scaled(core::SimDuration d, double factor) {
  return core::SimDuration{static_cast<int64_t>(static_cast<double>(d.count()) * factor)};
}

}  // namespace sflsim::server
