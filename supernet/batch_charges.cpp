#include "supernet/batch_charges.hpp"

namespace sflsim::supernet {

int64_t network_flops(const Architecture& arch, const SubnetConfig& config, int depth) {
  return arch.forward_flops(config, 1, depth) + (depth < arch.unit_count() ? arch.head_forward_flops(config, depth) : 0);
}

BatchCharges batch_charges(const Architecture& arch, const PartShape& part) {
  BatchCharges charges;
  charges.client_flops_per_sample = arch.forward_flops(part.config, 1, part.cut);
  for (int cut : part.head_cuts) charges.client_flops_per_sample += arch.head_forward_flops(part.config, cut);
  if (part.own_config) charges.client_flops_per_sample += network_flops(arch, *part.own_config, part.own_depth);
  if (part.cut < arch.unit_count()) {  // a split part: the rest is the server's
    charges.server_flops_per_sample = arch.forward_flops(part.config, part.cut + 1, arch.unit_count());
    charges.activation_bytes_per_sample = arch.activation_bytes(part.config, part.cut);
  }
  return charges;
}

}  // namespace sflsim::supernet
