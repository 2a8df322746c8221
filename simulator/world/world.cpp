#include "simulator/world/world.hpp"

#include "datasets/loaders.hpp"
#include "datasets/partition.hpp"
#include "simulator/core/network_profiles.hpp"
#include "simulator/rounds/chain_rounds.hpp"
#include "simulator/scenario/json_reader.hpp"
#include "simulator/scenario/strategy_factory.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace sflsim::cli {

namespace {
constexpr core::EntityId kServer{0};
constexpr int64_t kServerMemory = int64_t{1} << 40;

void check_client(int client, int count, const std::string& path) {
  if (client >= count) {
    throw ScenarioError("scenario: " + path + ": client " + std::to_string(client) + " does not exist (clients.count is " +
                        std::to_string(count) + ")");
  }
}

// An in-process mailbox between the coordinator, the sessions and the
// clients: free and never faulty.
template <typename Link>
Link& mailbox_link(core::Simulation& sim, core::FaultPlan& faults, const std::string& name) {
  const core::EntityId mailbox{uint64_t{1} << 62};
  faults.link_drop_probability[name] = 0.0;
  return sim.create<Link>(core::LinkOptions{name, mailbox, mailbox, {}, core::gbps(1000), {}, nullptr});
}

core::SimDuration seconds(double s) { return core::SimDuration{static_cast<int64_t>(std::llround(s * 1e9))}; }

std::vector<std::vector<int64_t>> partition(const Scenario& s, const datasets::ImageDataset& train) {
  const uint64_t seed = core::RngStream(s.seed, kServer, "partition").next_u64();
  const auto labels = train.label_span();
  const int n = s.clients.count;
  if (s.dataset.partition == "iid") return datasets::partition_iid(labels, n, seed);
  if (s.dataset.partition == "shards") return datasets::partition_shards(labels, n, s.dataset.classes_per_client, seed);
  if (s.dataset.partition == "quantity") return datasets::partition_quantity_skew(labels, n, s.dataset.alpha, seed);
  if (s.dataset.partition == "dirichlet") {
    return datasets::partition_dirichlet(labels, train.num_classes, n, s.dataset.alpha, seed);
  }
  throw ScenarioError("scenario: $.dataset.partition: unknown partition '" + s.dataset.partition +
                      "'; valid: iid, shards, quantity, dirichlet");
}

}  // namespace

datasets::DatasetSplits load_world_data(const Scenario& s) {
  datasets::DatasetSplits data = datasets::load_dataset(s.dataset.name, s.dataset.dir);
  if (s.dataset.train_fraction < 1.0) {
    const int64_t keep = std::max<int64_t>(
        s.clients.count, std::llround(s.dataset.train_fraction * static_cast<double>(data.train.size())));
    data.train.images = data.train.images.narrow(0, 0, std::min(keep, data.train.size()));
    data.train.labels = data.train.labels.narrow(0, 0, std::min(keep, data.train.size()));
  }
  if (s.training.eval_samples > 0 && s.training.eval_samples < data.test.size()) {
    data.test.images = data.test.images.narrow(0, 0, s.training.eval_samples);
    data.test.labels = data.test.labels.narrow(0, 0, s.training.eval_samples);
  }
  return data;
}

supernet::SupernetOptions supernet_options(const Scenario& s, const datasets::DatasetSplits& data) {
  supernet::SupernetOptions net_options;
  net_options.in_channels = data.train.channels();
  net_options.num_classes = data.train.num_classes;
  net_options.image_height = data.train.height();
  net_options.image_width = data.train.width();
  net_options.width_multiplier = s.model.width_multiplier;
  net_options.init_seed = core::RngStream(s.seed, kServer, "init").next_u64();
  return net_options;
}

World::World(const Scenario& s, int threads) : scenario(s) {
  data = load_world_data(s);
  if (data.train.size() < s.clients.count) {
    throw ScenarioError("scenario: $.clients.count: " + std::to_string(s.clients.count) + " clients but only " +
                        std::to_string(data.train.size()) + " training samples");
  }
  partition = cli::partition(s, data.train);

  net = std::make_unique<supernet::Supernet>(supernet_options(s, data));
  strategy = make_strategy(s, data.train);

  // Device tiers by cumulative fraction over client indices; networks drawn per client.
  double total_fraction = 0.0;
  for (const DeviceTier& t : s.clients.tiers) total_fraction += t.fraction;
  if (s.clients.tiers.empty() || !(total_fraction > 0.0)) {
    throw ScenarioError("scenario: $.clients.tiers: needs at least one tier with a positive fraction");
  }
  const int n = s.clients.count;
  profiles.resize(static_cast<size_t>(n));
  int tier = 0;
  double boundary = s.clients.tiers[0].fraction / total_fraction * n;
  for (int c = 0; c < n; ++c) {
    while (c >= std::llround(boundary) && tier + 1 < static_cast<int>(s.clients.tiers.size())) {
      boundary += s.clients.tiers[static_cast<size_t>(++tier)].fraction / total_fraction * n;
    }
    const DeviceTier& t = s.clients.tiers[static_cast<size_t>(tier)];
    core::RngStream rng(s.seed, client_entity(c), "network");
    const core::ClientNetwork network = core::draw_client_network(core::network_profile(s.clients.network == "per-tier" ? t.network : s.clients.network), rng);
    server::ClientProfile& p = profiles[static_cast<size_t>(c)];
    p.tier = tier;
    p.memory_gb = t.memory_gb;
    p.flops_per_s = static_cast<int64_t>(t.gflops * 1e9);
    p.up_bps = network.up_bps;
    p.down_bps = network.down_bps;
    p.latency = network.latency;
    p.samples = samples_per_round(c);
  }
  try {
    config = strategy->assign_parts(net->architecture(), profiles);
  } catch (const std::invalid_argument& e) {
    throw ScenarioError(e.what());
  }
  std::vector<int> eligible;
  for (int c = 0; c < s.clients.count; ++c) {
    if (!profiles[static_cast<size_t>(c)].excluded) eligible.push_back(c);
  }
  excluded_clients = n - static_cast<int>(eligible.size());
  if (eligible.empty()) {
    throw ScenarioError("scenario: $.clients.tiers: no client has the memory for its " + s.algorithm.name +
                        " part (" + std::to_string(profiles[0].memory_needed / 1000000) +
                        " MB needed); give the tiers more memory_gb or set algorithm.include_excluded");
  }

  // Who takes part in which round: a partial shuffle per round from the server's stream.
  const int pool = static_cast<int>(eligible.size());
  const int per_round = std::max(1, static_cast<int>(std::llround(s.clients.participation * pool)));
  selected.resize(static_cast<size_t>(s.training.rounds) + 1);
  core::RngStream selection(s.seed, kServer, "selection");
  std::vector<int> everyone;
  for (int r = 1; r <= s.training.rounds; ++r) {
    everyone = eligible;
    for (int k = 0; k < per_round; ++k) {
      std::swap(everyone[static_cast<size_t>(k)],
                everyone[static_cast<size_t>(k) + selection.uniform_below(static_cast<uint64_t>(pool - k))]);
    }
    selected[static_cast<size_t>(r)].assign(everyone.begin(), everyone.begin() + per_round);
    std::sort(selected[static_cast<size_t>(r)].begin(), selected[static_cast<size_t>(r)].end());
  }

  // The simulation, its fault plan and its wiring.
  // The simulation thread claims tasks no worker has started, so `threads`
  // workers plus it keep every core busy while it waits.
  if (threads > 1) work = std::make_unique<core::WorkPool>(threads, [] { at::set_num_threads(1); });
  sim = std::make_unique<core::Simulation>(s.seed);
  core::FaultPlan faults;
  faults.drop_probability = s.faults.drop_probability;
  for (size_t k = 0; k < s.faults.link_down.size(); ++k) {
    const LinkDown& down = s.faults.link_down[k];
    check_client(down.client, n, "$.faults.link_down[" + std::to_string(k) + "].client");
    const core::TimeWindow window{core::at(seconds(down.start_s)), core::at(seconds(down.start_s + down.duration_s))};
    faults.link_down.push_back({"c" + std::to_string(down.client) + ".up", window});
    faults.link_down.push_back({"c" + std::to_string(down.client) + ".down", window});
  }
  for (size_t k = 0; k < s.faults.crashes.size(); ++k) {
    const Crash& crash = s.faults.crashes[k];
    check_client(crash.client, n, "$.faults.crashes[" + std::to_string(k) + "].client");
    core::CrashSpec spec{client_entity(crash.client), core::at(seconds(crash.at_s)), std::nullopt};
    if (crash.rejoin_after_s >= 0) spec.rejoin_after = seconds(crash.rejoin_after_s);
    faults.crashes.push_back(spec);
  }
  for (const ServerOutage& outage : s.faults.server_outages) {
    if (outage.start_round > s.training.rounds) {
      throw ScenarioError("scenario: $.faults.server_outages: start_round " + std::to_string(outage.start_round) +
                          " is after the last round (" + std::to_string(s.training.rounds) + ")");
    }
  }

  server_device = &sim->create<core::Device>(
      core::DeviceSpec{"server", kServer, static_cast<int64_t>(s.server.gflops * 1e9), kServerMemory,
                       s.server.concurrency, {}});
  ingress = &sim->create<core::SharedBandwidth>("server.ingress", core::BandwidthSchedule(static_cast<int64_t>(s.server.ingress_mbps * 1e6)));
  egress = &sim->create<core::SharedBandwidth>("server.egress", core::BandwidthSchedule(static_cast<int64_t>(s.server.egress_mbps * 1e6)));
  results = &mailbox_link<server::ResultLink>(*sim, faults, "server.results");

  const client::OptimizerOptions optimizer{s.training.learning_rate, s.training.momentum, s.training.weight_decay};
  fusion::LambdaPolicy lambda;
  lambda.rule = fusion::parse_lambda_rule(s.algorithm.lambda);
  lambda.fixed_value = s.algorithm.lambda_fixed;
  client_states.resize(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) {
    const server::ClientProfile& p = profiles[static_cast<size_t>(c)];
    const DeviceTier& t = s.clients.tiers[static_cast<size_t>(p.tier)];
    const std::string name = "c" + std::to_string(c);
    const core::PowerModel power{std::llround(t.idle_w * 1e3), std::llround(t.compute_w * 1e3),
                                 std::llround(t.transmit_w * 1e3), std::llround(t.receive_w * 1e3)};
    devices.push_back(&sim->create<core::Device>(core::DeviceSpec{
        name, client_entity(c), p.flops_per_s, static_cast<int64_t>(p.memory_gb * 1e9), 1, power}));
    uplinks.push_back(&sim->create<client::Uplink>(
        core::LinkOptions{name + ".up", client_entity(c), kServer, p.latency, p.up_bps, {}, ingress}));
    downlinks.push_back(&sim->create<client::Downlink>(
        core::LinkOptions{name + ".down", kServer, client_entity(c), p.latency, p.down_bps, {}, egress}));
    orders.push_back(&mailbox_link<server::OrderLink>(*sim, faults, name + ".orders"));
    notices.push_back(&mailbox_link<server::NoticeLink>(*sim, faults, name + ".notices"));

    client::ClientSetup setup;
    setup.index = c;
    setup.entity = client_entity(c);
    setup.device = devices.back();
    setup.uplink = uplinks.back();
    setup.downlink = downlinks.back();
    setup.notices = notices.back();
    setup.train = &data.train;
    setup.indices = partition[static_cast<size_t>(c)];
    for (int r = 1; r <= s.training.rounds; ++r) {
      const auto& chosen = selected[static_cast<size_t>(r)];
      if (std::binary_search(chosen.begin(), chosen.end(), c)) setup.selected_rounds.push_back(r);
    }
    setup.batch_size = s.training.batch_size;
    setup.augment = s.dataset.augment;
    setup.optimizer = optimizer;
    setup.lambda = lambda;
    setup.behaviour = strategy->client_behaviour();
    setup.gradient_timeout = p.gradient_timeout;
    client_setups.push_back(std::move(setup));
    client_states[static_cast<size_t>(c)].data_rng.seed(core::RngStream(s.seed, client_entity(c), "data").next_u64());

    server::SessionSetup session;
    session.client = c;
    session.device = server_device;
    session.uplink = uplinks.back();
    session.downlink = downlinks.back();
    session.orders = orders.back();
    session.results = results;
    session.traffic = {&traffic.down, &traffic.gradients, &traffic.weights};
    session_setups.push_back(session);
  }
  sim->set_fault_plan(faults);
  use_scripts(std::make_unique<ChainRunner>(work.get(), data.train, net->architecture().unit_count()));
}

void World::use_scripts(std::unique_ptr<protocol::ScriptRunner> runner) {
  scripts = std::move(runner);
  for (client::ClientSetup& setup : client_setups) setup.scripts = scripts.get();
}

World::~World() {
  // Actors first, then the tasks still queued, while the client setups and
  // states they use exist.
  sim.reset();
  work.reset();
}

int64_t World::samples_per_round(int client) const {
  const int64_t own = static_cast<int64_t>(partition[static_cast<size_t>(client)].size());
  const int64_t per_epoch = scenario.training.max_samples_per_round > 0
                                ? std::min(own, scenario.training.max_samples_per_round)
                                : own;
  return per_epoch * scenario.training.local_epochs;
}

}  // namespace sflsim::cli
