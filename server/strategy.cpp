#include "server/strategy.hpp"

#include "server/round_costs.hpp"

#include <algorithm>

namespace sflsim::server {

supernet::SubnetConfig Strategy::assign_parts(const supernet::Architecture& arch, std::vector<ClientProfile>& profiles) {
  Fleet fleet;
  fleet.latency_min = fleet.latency_max = profiles.front().latency;
  fleet.smallest_memory_gb = profiles.front().memory_gb;
  for (const ClientProfile& p : profiles) {
    fleet.largest_memory_gb = std::max(fleet.largest_memory_gb, p.memory_gb);
    fleet.smallest_memory_gb = std::min(fleet.smallest_memory_gb, p.memory_gb);
    fleet.fastest_flops_per_s = std::max(fleet.fastest_flops_per_s, p.flops_per_s);
    fleet.latency_min = std::min(fleet.latency_min, p.latency);
    fleet.latency_max = std::max(fleet.latency_max, p.latency);
  }
  for (size_t c = 0; c < profiles.size(); ++c) {
    ClientProfile& p = profiles[c];
    p.config = arch.full_config();
    p.head_cuts.clear();
    p.split = true;
    assign_part(arch, fleet, static_cast<int>(c), p);
  }
  const supernet::SubnetConfig evaluated = settle_parts(arch, profiles);
  for (ClientProfile& p : profiles) {
    p.memory_needed = arch.training_memory_bytes(p.config, 1, p.cut, options_.batch_size);
    if (p.own_config) p.memory_needed += arch.training_memory_bytes(*p.own_config, 1, p.own_depth, options_.batch_size);
    const bool fits = static_cast<double>(p.memory_needed) <= p.memory_gb * 1e9;
    p.excluded = excludes_misfits() && !fits && !options_.include_excluded;
    p.nominal_round_time = nominal_round_time(arch, p, options_.batch_size, options_.server_flops_per_s);
    if (p.split) {
      p.gradient_timeout = gradient_deadline(arch, p, options_.batch_size, options_.server_flops_per_s,
                                             options_.timeout_factor);
    }
  }
  return evaluated;
}

supernet::SubnetConfig Strategy::settle_parts(const supernet::Architecture& arch, std::vector<ClientProfile>&) {
  return arch.full_config();
}

core::SimDuration Strategy::round_period(const std::vector<const ClientProfile*>& selected) const {
  // Clients run side by side (the slowest sets the pace), or one after another.
  core::SimDuration longest{1}, sum{1};
  for (const ClientProfile* p : selected) {
    longest = std::max(longest, p->nominal_round_time);
    sum += p->nominal_round_time;
  }
  return scaled(server_mode() == ServerMode::shared_in_turns ? sum : longest, options_.timeout_factor);
}

std::shared_ptr<ServerModel> Strategy::server_model(const supernet::Supernet& net, const ClientProfile& client,
                                                    const std::vector<const ClientProfile*>& round_clients,
                                                    std::shared_ptr<ServerModel>& round_shared) const {
  if (!client.split) return nullptr;
  const bool one_model = server_mode() == ServerMode::shared || server_mode() == ServerMode::shared_in_turns;
  if (one_model && round_shared) return round_shared;
  const int units = net.architecture().unit_count();
  int first = client.cut + 1;
  if (one_model) {
    for (const ClientProfile* p : round_clients) {
      if (p->split) first = std::min(first, p->cut + 1);
    }
  }
  auto model = std::make_shared<ServerModel>(net, client.config, first, units, options_.server_optimizer,
                                             server_steps_by_unit());
  if (one_model) round_shared = model;
  return model;
}

core::SimDuration Strategy::turn_period(const ClientProfile& client) const {
  return scaled(client.nominal_round_time, options_.timeout_factor);
}

fusion::AggregationOptions Strategy::aggregation() const {
  fusion::AggregationOptions by_samples = options_.aggregation;
  by_samples.performance_weighting = false;
  return by_samples;
}

fusion::ClientUpdate Strategy::update_from(const protocol::ModelUpload& upload, int round) const {
  fusion::ClientUpdate update;
  update.samples = upload.samples;
  const protocol::RoundLosses& losses = upload.trained.get();
  update.mean_loss = losses.mean_server() >= 0 ? losses.mean_server() : losses.mean_local();
  update.staleness = round - upload.round_trained;
  update.slices = {&upload.prefix->slices()};
  for (const auto& head : upload.heads) update.slices.push_back(&head->slices());
  return update;
}

fusion::ClientUpdate Strategy::server_side_update(const SessionResult& result) const {
  fusion::ClientUpdate update;
  update.samples = result.server_samples;
  update.mean_loss = result.server_loss_sum.get() / static_cast<double>(result.server_batches);
  return update;
}

void Strategy::fold(supernet::WriteBack& sum, const SessionResult& result, int round) const {
  const ServerMode mode = server_mode();
  if (mode == ServerMode::shared_in_turns) return;  // written before the next turn (after_turn)
  const fusion::AggregationOptions weights = aggregation();
  if (reintegrates_late_uploads()) {
    for (const protocol::ModelUpload& stale : result.stale_uploads) fusion::fold(sum, update_from(stale, round), weights);
  }
  const bool upload = result.upload.has_value();
  fusion::ClientUpdate update;
  if (upload) update = update_from(*result.upload, round);
  // A replica counts even when its client's upload did not come: the server's copy was trained.
  if (mode == ServerMode::replica_per_client && result.server_model) {
    update.slices.push_back(&result.server_model->suffix->slices());
    if (!upload) {
      const fusion::ClientUpdate served = server_side_update(result);
      update.samples = served.samples;
      update.mean_loss = served.mean_loss;
    }
  }
  if (!update.slices.empty()) fusion::fold(sum, update, weights);
}

void Strategy::after_turn(supernet::Supernet& net, const SessionResult& result, int round) const {
  // Only SL takes turns, and it drops late uploads (split_strategies.cpp).
  if (!result.upload) return;
  const fusion::ClientUpdate update = update_from(*result.upload, round);
  fusion::aggregate(net, std::span(&update, 1), aggregation());
}

std::optional<int64_t> Strategy::finish(supernet::Supernet& net, supernet::WriteBack& sum,
                                        const RoundResults& round) const {
  sum.apply();
  const std::shared_ptr<ServerModel>& shared = round.shared_model;
  if (shared && shared->batches > 0) {
    // The one server model replaces the supernet's suffix (not averaged).
    shared->last_step.wait();
    const supernet::Contribution replace{&shared->suffix->slices(), 1.0};
    net.write_back(std::span(&replace, 1));
  }
  return std::nullopt;
}

std::optional<int64_t> Strategy::aggregate(supernet::Supernet& net, const RoundResults& round) const {
  supernet::WriteBack sum(net);
  for (const SessionResult& result : *round.results) fold(sum, result, round.round);
  return finish(net, sum, round);
}

}  // namespace sflsim::server
