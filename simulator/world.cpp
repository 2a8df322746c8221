#include "simulator/world.hpp"

#include "datasets/loaders.hpp"
#include "datasets/partition.hpp"
#include "datasets/random.hpp"
#include "simulator/core/network_profiles.hpp"
#include "simulator/json_reader.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

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

core::SimDuration seconds(double s) { return core::SimDuration{static_cast<int64_t>(std::llround(s * 1e9))}; }

std::vector<std::vector<int64_t>> partition(const Scenario& s, const datasets::ImageDataset& train) {
  const uint64_t seed = core::RngStream(s.seed, kServer, "partition").next_u64();
  const auto labels = train.label_span();
  const int n = s.clients.count;
  if (s.dataset.partition == "iid") return datasets::partition_iid(labels, n, seed);
  if (s.dataset.partition == "shards") return datasets::partition_shards(labels, n, s.dataset.classes_per_client, seed);
  if (s.dataset.partition == "quantity") return datasets::partition_quantity_skew(labels, n, s.dataset.alpha, seed);
  return datasets::partition_dirichlet(labels, train.num_classes, n, s.dataset.alpha, seed);
}

// The first `samples` images of a seeded shuffle of the training set, in batches of 128.
std::vector<at::Tensor> server_held_batches(const Scenario& s, const datasets::ImageDataset& train, int64_t samples,
                                            const char* purpose) {
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::mt19937_64 shuffle_rng(core::RngStream(s.seed, kServer, purpose).next_u64());
  datasets::shuffle_in_place(std::span<int64_t>(order), shuffle_rng);
  samples = std::min(samples, train.size());
  std::vector<at::Tensor> batches;
  for (int64_t first = 0; first < samples; first += 128) {
    const auto indices = std::span<const int64_t>(order).subspan(static_cast<size_t>(first), std::min<int64_t>(128, samples - first));
    batches.push_back(datasets::make_batch(train, indices, nullptr, nullptr).images);
  }
  return batches;
}
}  // namespace

World::World(const Scenario& s, int threads) : scenario(s) {
  data = datasets::load_dataset(s.dataset.name, s.dataset.dir);
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
  if (data.train.size() < s.clients.count) {
    throw ScenarioError("scenario: $.clients.count: " + std::to_string(s.clients.count) + " clients but only " +
                        std::to_string(data.train.size()) + " training samples");
  }
  partition = cli::partition(s, data.train);

  supernet::SupernetOptions net_options;
  net_options.in_channels = data.train.channels();
  net_options.num_classes = data.train.num_classes;
  net_options.image_height = data.train.height();
  net_options.image_width = data.train.width();
  net_options.width_multiplier = s.model.width_multiplier;
  net_options.init_seed = core::RngStream(s.seed, kServer, "init").next_u64();
  net = std::make_unique<supernet::Supernet>(net_options);
  config = net->architecture().full_config();

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
    ClientProfile& p = profiles[static_cast<size_t>(c)];
    p.tier = tier;
    p.memory_gb = t.memory_gb;
    p.flops_per_s = static_cast<int64_t>(t.gflops * 1e9);
    p.up_bps = network.up_bps;
    p.down_bps = network.down_bps;
    p.latency = network.latency;
  }
  config = assign_parts(s, net->architecture(), profiles);
  if (s.algorithm.name == "heterofl") calibration_batches = server_held_batches(s, data.train, 512, "calibration");
  if (s.algorithm.name == "rafl") proxy_batches = server_held_batches(s, data.train, s.algorithm.rafl.proxy_samples, "proxy");
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
  // Coordinator <-> session mailboxes: in-process, free, never faulty.
  const core::EntityId mailbox{uint64_t{1} << 62};
  results = &sim->create<server::ResultLink>(core::LinkOptions{"server.results", mailbox, mailbox, {}, core::gbps(1000), {}, nullptr});
  faults.link_drop_probability["server.results"] = 0.0;

  const client::OptimizerOptions optimizer{s.training.learning_rate, s.training.momentum, s.training.weight_decay};
  fusion::LambdaPolicy lambda;
  lambda.rule = fusion::parse_lambda_rule(s.algorithm.lambda);
  lambda.fixed_value = s.algorithm.lambda_fixed;
  client_states.resize(static_cast<size_t>(n));
  for (int c = 0; c < n; ++c) {
    const ClientProfile& p = profiles[static_cast<size_t>(c)];
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
    orders.push_back(&sim->create<server::OrderLink>(
        core::LinkOptions{name + ".orders", mailbox, mailbox, {}, core::gbps(1000), {}, nullptr}));
    faults.link_drop_probability[name + ".orders"] = 0.0;

    client::ClientSetup setup;
    setup.index = c;
    setup.entity = client_entity(c);
    setup.device = devices.back();
    setup.uplink = uplinks.back();
    setup.downlink = downlinks.back();
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
    setup.work = work.get();
    // SuperSFL's local classifier lets a cut-off client keep training and
    // upload later; a baseline client without one simply misses the round.
    setup.train_when_cut_off = s.algorithm.name == "supersfl";
    setup.defer_uploads = s.algorithm.name == "supersfl";
    setup.objective = s.algorithm.name == "depthfl" ? client::Objective::self_distillation
                      : s.algorithm.name == "rafl"  ? client::Objective::mutual_learning
                                                    : client::Objective::fused;
    client_setups.push_back(std::move(setup));
    client_states[static_cast<size_t>(c)].data_rng.seed(core::RngStream(s.seed, client_entity(c), "data").next_u64());

    server::SessionSetup session;
    session.client = c;
    session.device = server_device;
    session.uplink = uplinks.back();
    session.downlink = downlinks.back();
    session.orders = orders.back();
    session.results = results;
    session.work = work.get();
    session.traffic = {&traffic.down, &traffic.gradients, &traffic.weights};
    session_setups.push_back(session);
  }
  // Gradient deadline per batch: timeout_factor x the expected round trip of one batch.
  for (int c = 0; c < n; ++c) {
    const ClientProfile& p = profiles[static_cast<size_t>(c)];
    const supernet::Architecture& arch = net->architecture();
    if (!p.split) continue;  // the client trains alone: no server gradient to wait for
    const int64_t batch = s.training.batch_size;
    const double up = static_cast<double>(batch * (arch.activation_bytes(p.config, p.cut) + client::kLabelBytes) * 8) /
                      static_cast<double>(p.up_bps);
    const double down = static_cast<double>(batch * arch.activation_bytes(p.config, p.cut) * 8) / static_cast<double>(p.down_bps);
    const double server = static_cast<double>(3 * batch * arch.forward_flops(p.config, p.cut + 1, arch.unit_count())) /
                          (s.server.gflops * 1e9);
    const double rtt = up + down + server + 2e-9 * static_cast<double>(p.latency.count());
    client_setups[static_cast<size_t>(c)].gradient_timeout = seconds(s.algorithm.timeout_factor * rtt);
  }
  sim->set_fault_plan(faults);
}

World::~World() {
  // Actors first (a frame cut short runs its tasks to the end), then the
  // tasks still queued, while the client setups and states they use exist.
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

server::ClientAssignment World::assignment(int client) const {
  const ClientProfile& p = profiles[static_cast<size_t>(client)];
  const supernet::Architecture& arch = net->architecture();
  server::ClientAssignment a;
  a.config = p.config;
  a.cut = p.cut;
  a.split = p.split;
  a.head_cuts = p.head_cuts;
  a.own_config = p.own_config;
  a.own_depth = p.own_depth;
  a.samples = samples_per_round(client);
  const supernet::SubnetConfig& subnet = p.config;
  // Nominal time of one round without contention: compute on both sides, every
  // transfer at the client's own link rates, plus a latency per message.
  const double samples = static_cast<double>(a.samples);
  const int64_t batches = (a.samples + scenario.training.batch_size - 1) / scenario.training.batch_size;
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
  const double labels = p.split ? samples * client::kLabelBytes : 0.0;
  const double w = static_cast<double>(weights);
  const double seconds_total =
      client_flops / static_cast<double>(p.flops_per_s) + server_flops / (scenario.server.gflops * 1e9) +
      8.0 * (w + activations + labels) / static_cast<double>(p.up_bps) +
      8.0 * (w + activations) / static_cast<double>(p.down_bps) +
      1e-9 * static_cast<double>(p.latency.count()) * static_cast<double>(p.split ? 2 * batches + 2 : 2);
  a.expected_round_time = seconds(seconds_total);
  return a;
}

}  // namespace sflsim::cli
