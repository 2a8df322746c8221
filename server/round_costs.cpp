#include "server/round_costs.hpp"

#include "server/parts.hpp"
#include "server/protocol.hpp"

#include <cmath>

namespace sflsim::server {

namespace {
core::SimDuration seconds(double s) { return core::SimDuration{static_cast<int64_t>(std::llround(s * 1e9))}; }
}  // namespace

core::SimDuration nominal_round_time(const supernet::Architecture& arch, const ClientProfile& p, int batch_size,
                                     int64_t server_flops_per_s) {
  const supernet::SubnetConfig& subnet = p.config;
  const double samples = static_cast<double>(p.samples);
  const int64_t batches = (p.samples + batch_size - 1) / batch_size;
  int64_t client_forward = arch.forward_flops(subnet, 1, p.cut);
  int64_t weights = 4 * arch.params(subnet, 1, p.cut);
  for (int cut : p.head_cuts) {
    client_forward += arch.head_forward_flops(subnet, cut);
    weights += 4 * arch.head_params(subnet, cut);
  }
  if (p.own_config) client_forward += network_flops(arch, *p.own_config, p.own_depth);
  const double client_flops = 3.0 * samples * static_cast<double>(client_forward);
  const double server_flops =
      p.split ? 3.0 * samples * static_cast<double>(arch.forward_flops(subnet, p.cut + 1, arch.unit_count())) : 0.0;
  const double activations = p.split ? samples * static_cast<double>(arch.activation_bytes(subnet, p.cut)) : 0.0;
  const double labels = p.split ? samples * protocol::kLabelBytes : 0.0;
  const double w = static_cast<double>(weights);
  const double seconds_total =
      client_flops / static_cast<double>(p.flops_per_s) + server_flops / static_cast<double>(server_flops_per_s) +
      8.0 * (w + activations + labels) / static_cast<double>(p.up_bps) +
      8.0 * (w + activations) / static_cast<double>(p.down_bps) +
      1e-9 * static_cast<double>(p.latency.count()) * static_cast<double>(p.split ? 2 * batches + 2 : 2);
  return seconds(seconds_total);
}

core::SimDuration gradient_deadline(const supernet::Architecture& arch, const ClientProfile& p, int batch_size,
                                    int64_t server_flops_per_s, double timeout_factor) {
  const int64_t batch = batch_size;
  const double up = static_cast<double>(batch * (arch.activation_bytes(p.config, p.cut) + protocol::kLabelBytes) * 8) /
                    static_cast<double>(p.up_bps);
  const double down = static_cast<double>(batch * arch.activation_bytes(p.config, p.cut) * 8) / static_cast<double>(p.down_bps);
  const double server = static_cast<double>(3 * batch * arch.forward_flops(p.config, p.cut + 1, arch.unit_count())) /
                        static_cast<double>(server_flops_per_s);
  const double rtt = up + down + server + 2e-9 * static_cast<double>(p.latency.count());
  return seconds(timeout_factor * rtt);
}

core::SimDuration scaled(core::SimDuration d, double factor) {
  return core::SimDuration{static_cast<int64_t>(static_cast<double>(d.count()) * factor)};
}

}  // namespace sflsim::server
