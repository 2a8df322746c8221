// Strategy::aggregate as a pure step: results built by hand, failures
// passed as data (a result without an upload), exact weighted means.
#include "server/parts.hpp"
#include "server/strategies.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <stdexcept>

using namespace sflsim;
using namespace sflsim::server;

namespace {

supernet::SupernetOptions small_net() {
  supernet::SupernetOptions options;
  options.width_multiplier = 0.25;
  options.image_height = options.image_width = 8;
  return options;
}

StrategyOptions fixed_cut_options() {
  StrategyOptions o;
  o.batch_size = 8;
  o.server_flops_per_s = 1'000'000'000'000;
  o.timeout_factor = 2.0;
  o.cut = {CutRule::Policy::fixed, 0.5, 4.0, 2, 1.0, false};
  o.aggregation = {true, 1.0, 0.5};
  o.server_optimizer = {0.1, 0.9, 0.0};
  return o;
}

void fill(supernet::SliceSet& slices, double value) {
  at::NoGradGuard no_grad;
  for (at::Tensor& t : slices.tensors) t.fill_(value);
}

// A client's upload of units 1..cut, every element `value`, whose round had
// the given mean server loss (< 0: no server gradient, local loss 0).
protocol::ModelUpload upload(const supernet::Supernet& net, int cut, double value, int64_t samples, int round_trained,
                             double server_loss) {
  protocol::ModelUpload u;
  u.round_trained = round_trained;
  u.cut = cut;
  u.prefix = std::make_shared<supernet::BodyPart>(net.extract(net.architecture().full_config(), 1, cut));
  fill(u.prefix->slices(), value);
  u.samples = samples;
  if (server_loss >= 0) {
    u.trained.value->server_sum = 2 * server_loss;
    u.trained.value->server_batches = 2;
  }
  return u;
}

// A server model of units cut+1..L, every element `value`, that served `batches` batches.
std::shared_ptr<ServerModel> server_model(const supernet::Supernet& net, int cut, double value, int64_t batches) {
  const StrategyOptions o = fixed_cut_options();
  auto model = std::make_shared<ServerModel>(net, net.architecture().full_config(), cut + 1,
                                             net.architecture().unit_count(), o.server_optimizer);
  fill(model->materialize().slices(), value);
  model->batches = batches;
  return model;
}

SessionResult result(int client, std::optional<protocol::ModelUpload> fresh, std::shared_ptr<ServerModel> model,
                     int64_t server_samples, double server_loss_sum) {
  SessionResult r;
  r.client = client;
  r.round = 3;
  r.plan_delivered = true;
  r.upload = std::move(fresh);
  r.server_model = std::move(model);
  r.server_batches = r.server_model ? 2 : 0;
  r.server_samples = server_samples;
  *r.server_loss_sum.value = server_loss_sum;
  return r;
}

double value_at(const supernet::Supernet& net, int spec) { return net.tensors()[static_cast<size_t>(spec)].max().item<double>(); }
double low_at(const supernet::Supernet& net, int spec) { return net.tensors()[static_cast<size_t>(spec)].min().item<double>(); }

}  // namespace

TEST_CASE("SuperSFL folds a failed client's replica and a stale upload (gamma^s), each element over its copies", "[server]") {
  supernet::Supernet net(small_net());
  const std::unique_ptr<Strategy> strategy = make_supersfl(fixed_cut_options());
  REQUIRE(strategy->reintegrates_late_uploads());
  const int cut = 2;
  const int prefix_spec = 0;  // the stem's convolution
  const int suffix_spec = server_model(net, cut, 0, 0)->suffix->slices().spec_ids.front();
  {
    at::NoGradGuard no_grad;
    net.tensors()[prefix_spec].fill_(0.0);  // plays no part: a fresh copy covers the prefix
  }
  std::vector<SessionResult> results;
  // Client 0 is fine: its prefix (1.0) and its replica (3.0), 10 samples, server loss 0 -> weight 10.
  results.push_back(result(0, upload(net, cut, 1.0, 10, 3, 0.0), server_model(net, cut, 3.0, 2), 10, 0.0));
  // Client 1 failed this round (no upload), yet its replica (7.0) trained on 30 samples -> weight 30;
  // its upload from round 1 arrived late: 40 samples at share 0.5^2 -> weight 10 next to the fresh copy.
  results.push_back(result(1, std::nullopt, server_model(net, cut, 7.0, 2), 30, 0.0));
  results[1].stale_uploads.push_back(upload(net, cut, 4.0, 40, 1, 0.0));
  // Client 2 failed and saw no batch: it adds nothing.
  results.push_back(result(2, std::nullopt, nullptr, 0, 0.0));

  const std::optional<int64_t> server_flops = strategy->aggregate(net, {3, &results, nullptr});
  CHECK_FALSE(server_flops.has_value());
  CHECK(low_at(net, prefix_spec) == 2.5);  // (10 x 1 + 10 x 4) / 20
  CHECK(value_at(net, prefix_spec) == 2.5);
  CHECK(low_at(net, suffix_spec) == 6.0);  // (10 x 3 + 30 x 7) / 40
  CHECK(value_at(net, suffix_spec) == 6.0);
}

TEST_CASE("SuperSFL weighs by performance exp(-loss / tau); SFL-V1 by samples only", "[server]") {
  const int cut = 2;
  const auto aggregated = [&](const std::unique_ptr<Strategy>& strategy) {
    supernet::Supernet net(small_net());
    std::vector<SessionResult> results;
    // Equal samples; client 0's server loss is 0 (factor 1), client 1's is 2 (factor e^-2).
    results.push_back(result(0, upload(net, cut, 1.0, 10, 3, 0.0), server_model(net, cut, 1.0, 2), 10, 0.0));
    results.push_back(result(1, upload(net, cut, 5.0, 10, 3, 2.0), server_model(net, cut, 5.0, 2), 10, 4.0));
    strategy->aggregate(net, {3, &results, nullptr});
    return value_at(net, 0);
  };
  CHECK(aggregated(make_sfl_v1(fixed_cut_options())) == 3.0);  // (1 + 5) / 2
  const double w = std::exp(-2.0);
  CHECK(aggregated(make_supersfl(fixed_cut_options())) == Approx((1.0 + 5.0 * w) / (1.0 + w)).epsilon(1e-6));
}

TEST_CASE("SFL-V2's one server model replaces the suffix; only the clients' prefixes are averaged", "[server]") {
  supernet::Supernet net(small_net());
  const std::unique_ptr<Strategy> strategy = make_sfl_v2(fixed_cut_options());
  REQUIRE_FALSE(strategy->rounds_are_independent());
  const int cut = 2;
  const std::shared_ptr<ServerModel> shared = server_model(net, cut, 9.0, 4);
  const int suffix_spec = shared->suffix->slices().spec_ids.front();
  std::vector<SessionResult> results;
  results.push_back(result(0, upload(net, cut, 2.0, 30, 3, 0.5), shared, 30, 1.0));
  results.push_back(result(1, std::nullopt, shared, 10, 1.0));  // failed: its batches are in the shared model
  results.push_back(result(2, upload(net, cut, 6.0, 10, 3, 0.5), shared, 10, 1.0));
  strategy->aggregate(net, {3, &results, shared});
  CHECK(value_at(net, 0) == 3.0);  // (30 x 2 + 10 x 6) / 40, the failed client absent
  CHECK(low_at(net, suffix_spec) == 9.0);
  CHECK(value_at(net, suffix_spec) == 9.0);
}

TEST_CASE("SuperSFL with a shared server: each unit of the one model joins the clients' copies by weight mass", "[server]") {
  supernet::Supernet net(small_net());
  const supernet::Architecture& arch = net.architecture();
  StrategyOptions options = fixed_cut_options();
  options.shared_server = true;
  const std::unique_ptr<Strategy> strategy = make_supersfl(options);
  REQUIRE_FALSE(strategy->rounds_are_independent());
  {
    // The one model of a round whose shallowest split cut is 1 starts at unit 2 and steps by unit.
    server::ClientProfile deep, shallow;
    deep.cut = 3;
    shallow.cut = 1;
    deep.config = shallow.config = arch.full_config();
    std::shared_ptr<ServerModel> round_shared;
    const auto model = strategy->server_model(net, deep, {&deep, &shallow}, round_shared);
    REQUIRE(model);
    CHECK(model == round_shared);
    CHECK(model->by_unit());
    CHECK(model->first_unit() == 2);
    CHECK(strategy->server_model(net, shallow, {&deep, &shallow}, round_shared) == model);
  }
  // One model from unit 2 (after the shallowest cut, 1) to the end, every element 9.0.
  auto shared = std::make_shared<ServerModel>(net, arch.full_config(), 2, arch.unit_count(), options.server_optimizer, true);
  fill(shared->materialize().slices(), 9.0);
  shared->batches = 4;
  std::vector<SessionResult> results;
  // Cut 1, 10 samples, prefix 1.0: its batches trained units 2.. of the shared model (mass 10).
  results.push_back(result(0, upload(net, 1, 1.0, 10, 3, 0.0), shared, 10, 0.0));
  results[0].cut = 1;
  // Cut 3, 30 samples, prefix 5.0: its batches trained units 4.. (mass 30).
  results.push_back(result(1, upload(net, 3, 5.0, 30, 3, 0.0), shared, 30, 0.0));
  results[1].cut = 3;
  strategy->aggregate(net, {3, &results, shared});
  const auto first_of = [&](int unit) { return arch.body_spec_ids(unit, unit).front(); };
  CHECK(value_at(net, first_of(1)) == 4.0);  // clients only: (10 x 1 + 30 x 5) / 40
  CHECK(low_at(net, first_of(2)) == 6.0);    // (30 x 5 + 10 x 9) / 40
  CHECK(value_at(net, first_of(2)) == 6.0);
  CHECK(low_at(net, first_of(4)) == 9.0);    // the shared model alone (mass 40)
  CHECK(value_at(net, first_of(arch.unit_count())) == 9.0);
}

TEST_CASE("SL writes each upload before the next turn, so the round's fold leaves prefixes alone", "[server]") {
  supernet::Supernet net(small_net());
  const std::unique_ptr<Strategy> strategy = make_sl(fixed_cut_options());
  REQUIRE(strategy->serves_in_turns());
  const int cut = 2;
  const std::shared_ptr<ServerModel> shared = server_model(net, cut, 9.0, 2);
  std::vector<SessionResult> results;
  results.push_back(result(0, upload(net, cut, 2.0, 30, 3, 0.5), shared, 30, 1.0));
  strategy->after_turn(net, results[0], 3);
  CHECK(value_at(net, 0) == 2.0);  // the only copy: it replaces the prefix
  results.push_back(result(1, upload(net, cut, 6.0, 10, 3, 0.5), shared, 10, 1.0));
  strategy->after_turn(net, results[1], 3);
  CHECK(value_at(net, 0) == 6.0);  // the next turn starts from the last client's prefix
  strategy->aggregate(net, {3, &results, shared});
  CHECK(value_at(net, 0) == 6.0);
  CHECK(value_at(net, shared->suffix->slices().spec_ids.front()) == 9.0);
}

TEST_CASE("SL: a late upload never overwrites the turns' prefixes; the baselines drop late uploads", "[server]") {
  supernet::Supernet net(small_net());
  const std::unique_ptr<Strategy> sl = make_sl(fixed_cut_options());
  REQUIRE_FALSE(sl->reintegrates_late_uploads());
  const int cut = 2;
  const std::shared_ptr<ServerModel> shared = server_model(net, cut, 9.0, 2);
  std::vector<SessionResult> results;
  results.push_back(result(0, upload(net, cut, 2.0, 30, 3, 0.5), shared, 30, 1.0));
  results[0].stale_uploads.push_back(upload(net, cut, 8.0, 30, 1, 0.5));  // trained two rounds ago
  sl->after_turn(net, results[0], 3);
  CHECK(value_at(net, 0) == 2.0);
  sl->aggregate(net, {3, &results, shared});  // the round's sum: nothing of the turns is left in it
  CHECK(low_at(net, 0) == 2.0);
  CHECK(value_at(net, 0) == 2.0);

  for (const auto& baseline : {make_sfl_v1(fixed_cut_options()), make_fedavg(fixed_cut_options())}) {
    supernet::Supernet fresh_net(small_net());
    std::vector<SessionResult> late_only;
    late_only.push_back(result(0, std::nullopt, nullptr, 0, 0.0));
    late_only[0].stale_uploads.push_back(upload(fresh_net, cut, 8.0, 30, 1, 0.5));
    const at::Tensor before = fresh_net.tensors()[0].clone();
    baseline->aggregate(fresh_net, {3, &late_only, nullptr});
    CHECK(at::equal(fresh_net.tensors()[0], before));
  }
}

TEST_CASE("FedAvg: a round where every client failed leaves the supernet as it was and runs no server step", "[server]") {
  supernet::Supernet net(small_net());
  const at::Tensor before = net.tensors()[0].clone();
  const std::unique_ptr<Strategy> strategy = make_fedavg(fixed_cut_options());
  std::vector<SessionResult> results;
  results.push_back(result(0, std::nullopt, nullptr, 0, 0.0));
  results.push_back(result(1, std::nullopt, nullptr, 0, 0.0));
  CHECK_FALSE(strategy->aggregate(net, {3, &results, nullptr}).has_value());
  CHECK(at::equal(net.tensors()[0], before));
}

TEST_CASE("RaFL distils only when an upload came, and reports the server FLOPs it spent", "[server]") {
  supernet::Supernet net(small_net());
  const supernet::Architecture& arch = net.architecture();
  const std::vector<at::Tensor> proxy{at::rand({4, 3, 8, 8})};
  const std::unique_ptr<Strategy> strategy =
      make_rafl(fixed_cut_options(), DistillationOptions{20.0, 1, {0.001, 0.9, 0.0}}, proxy);
  std::vector<ClientProfile> profiles(2);
  profiles[0].flops_per_s = 10'000'000'000;
  profiles[1].flops_per_s = 5'000'000'000;
  for (ClientProfile& p : profiles) p.samples = 16, p.up_bps = p.down_bps = 10'000'000;
  const supernet::SubnetConfig knowledge = strategy->assign_parts(arch, profiles);
  std::vector<SessionResult> results;
  results.push_back(result(0, std::nullopt, nullptr, 0, 0.0));
  CHECK_FALSE(strategy->aggregate(net, {3, &results, nullptr}).has_value());
  protocol::ModelUpload fresh;
  fresh.round_trained = 3;
  fresh.cut = arch.unit_count();
  fresh.prefix = std::make_shared<supernet::BodyPart>(net.extract(knowledge, 1, arch.unit_count()));
  fresh.samples = 16;
  results.push_back(result(1, std::move(fresh), nullptr, 0, 0.0));
  const std::optional<int64_t> flops = strategy->aggregate(net, {3, &results, nullptr});
  REQUIRE(flops.has_value());
  // Per proxy sample: one forward of the one teacher and three of the student.
  CHECK(*flops == 4 * 4 * arch.forward_flops(knowledge, 1, arch.unit_count()));
}

TEST_CASE("Parts: a fixed cut the supernet cannot give names its JSON path; misfits are excluded", "[server]") {
  supernet::Supernet net(small_net());
  const supernet::Architecture& arch = net.architecture();
  StrategyOptions options = fixed_cut_options();
  options.cut.fixed = arch.unit_count();
  std::vector<ClientProfile> profiles(1);
  profiles[0].memory_gb = 8;
  CHECK_THROWS_WITH(make_sfl_v1(options)->assign_parts(arch, profiles), Catch::Contains("$.algorithm.cut.fixed"));
  options.cut.fixed = 3;
  profiles.resize(2);
  profiles[0].memory_gb = 1e-6;  // cannot hold the prefix
  profiles[1].memory_gb = 8;
  for (ClientProfile& p : profiles) p.samples = 16, p.flops_per_s = 1'000'000'000, p.up_bps = p.down_bps = 1'000'000;
  make_sfl_v1(options)->assign_parts(arch, profiles);
  CHECK(profiles[0].excluded);
  CHECK_FALSE(profiles[1].excluded);
  CHECK(profiles[1].cut == 3);
  make_supersfl(options)->assign_parts(arch, profiles);  // sizes the cut to the device instead
  CHECK_FALSE(profiles[0].excluded);
  CHECK(profiles[0].head_cuts == std::vector<int>{3});
}

TEST_CASE("Parts: the memory policy cuts each client where its memory runs out; SFL can share the weakest cut", "[server]") {
  supernet::Supernet net(small_net());
  const supernet::Architecture& arch = net.architecture();
  StrategyOptions options = fixed_cut_options();
  const supernet::SubnetConfig whole = arch.full_config();
  const double gb_to_cut3 = static_cast<double>(arch.training_memory_bytes(whole, 1, 3, options.batch_size)) * 1e-9;
  const double gb_to_cut5 = static_cast<double>(arch.training_memory_bytes(whole, 1, 5, options.batch_size)) * 1e-9;
  std::vector<ClientProfile> profiles(2);
  profiles[0].memory_gb = gb_to_cut3;  // holds units 1..3 exactly, not 1..4
  profiles[1].memory_gb = gb_to_cut5;
  for (ClientProfile& p : profiles) p.samples = 16, p.flops_per_s = 1'000'000'000, p.up_bps = p.down_bps = 1'000'000;
  options.cut.policy = CutRule::Policy::memory;
  make_supersfl(options)->assign_parts(arch, profiles);
  CHECK(profiles[0].cut == 3);
  CHECK(profiles[1].cut == 5);
  options.cut.fixed = 5;
  make_sfl_v1(options)->assign_parts(arch, profiles);
  CHECK(profiles[0].excluded);  // cannot hold the fixed cut 5
  CHECK(profiles[1].cut == 5);
  options.cut.weakest_fits = true;
  make_sfl_v1(options)->assign_parts(arch, profiles);
  for (const ClientProfile& p : profiles) {
    CHECK(p.cut == 3);
    CHECK_FALSE(p.excluded);
  }
}
