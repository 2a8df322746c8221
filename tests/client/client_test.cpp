// run_client on a hand-built world: one client, its links and device, and a
// scripted server (this test) that sends notices and plans and answers
// batches. Exact virtual times, records and what the server receives.
#include "client/client.hpp"
#include "datasets/loaders.hpp"
#include "hand_script.hpp"
#include "supernet/supernet.hpp"
#include "tiny_world.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <stdexcept>

#include <variant>
#include <vector>

using namespace sflsim;
using namespace sflsim::test;

namespace {

datasets::SyntheticOptions tiny_data() {
  datasets::SyntheticOptions o;
  o.height = o.width = 8;
  o.train_size = 64;
  o.test_size = 16;
  return o;
}

SimTime at_s(double s) { return SimTime{SimDuration{static_cast<int64_t>(s * 1e9)}}; }

struct Received {
  int64_t at_ns = 0;
  int round_trained = 0;
  int64_t samples = 0;
};

// One client (entity 1) and a scripted server (entity 0).
struct Rig {
  core::Simulation sim{1};
  datasets::DatasetSplits data = datasets::make_synthetic(tiny_data());
  supernet::Supernet net{tiny_net()};
  client::ClientSetup setup;
  client::ClientState state;
  client::TrafficCounters traffic;
  HandRunner scripts{2};  // every round's script, the plans' and the local-only rounds'
  std::vector<client::RoundRecord> records;
  const client::RecordSink sink = [this](const client::RoundRecord& r) { records.push_back(r); };  // outlives the actor
  std::vector<Received> uploads;    // what the server received, in order
  std::vector<int64_t> batches_at_ns;  // when each batch reached the server

  explicit Rig(std::vector<int> rounds) {
    const core::EntityId me{1}, server{0}, mailbox{uint64_t{1} << 62};
    setup.index = 0;
    setup.entity = me;
    setup.device = &sim.create<core::Device>(core::DeviceSpec{"c0", me, 10'000'000, 1'000'000'000, 1, {}});
    setup.uplink = &sim.create<client::Uplink>(core::LinkOptions{"c0.up", me, server, 10ms, core::mbps(10), {}, nullptr});
    setup.downlink =
        &sim.create<client::Downlink>(core::LinkOptions{"c0.down", server, me, 10ms, core::mbps(10), {}, nullptr});
    setup.notices = &sim.create<client::Notices>(
        core::LinkOptions{"c0.notices", mailbox, mailbox, {}, core::gbps(1000), {}, nullptr});
    setup.train = &data.train;
    for (int64_t i = 0; i < 64; ++i) setup.indices.push_back(i);
    setup.selected_rounds = std::move(rounds);
    setup.batch_size = 16;
    setup.optimizer = {0.05, 0.0, 0.0};
    setup.gradient_timeout = SimDuration{500'000'000};
    setup.behaviour = {.train_when_cut_off = true, .defer_uploads = true, .objective = protocol::Objective::fused};
    setup.scripts = &scripts;
    state.data_rng.seed(7);
  }

  void spawn_client() {
    sim.spawn({"client", setup.entity, false, true}, [this]() {
      return client::run_client(sim, setup, state, traffic, sink);
    });
  }

  asio::awaitable<void> notify(int round, SimTime due, SimTime deadline) {
    auto sending = setup.notices->send(
        protocol::RoundNotice{round, due.time_since_epoch().count(), deadline.time_since_epoch().count()}, 0);
    co_await std::move(sending);
  }

  asio::awaitable<void> send_plan(int round, int cut) {
    const supernet::SubnetConfig full = net.architecture().full_config();
    protocol::RoundPlan plan;
    plan.round = round;
    plan.cut = cut;
    plan.prefix = std::make_shared<supernet::BodyPart>(net.extract(full, 1, cut));
    plan.heads.push_back(std::make_shared<supernet::LocalHead>(net.extract_head(full, cut)));
    plan.samples = 48;
    plan.script = scripts.open(0, round);
    const int64_t bytes = protocol::plan_bytes(plan);
    auto sending = setup.downlink->send(std::move(plan), bytes);
    co_await std::move(sending);
  }

  // A round of 100 s from `start_s` whose plan (cut 2) leaves at once.
  asio::awaitable<void> ordinary_round(int round, double start_s) {
    co_await notify(round, at_s(start_s + 50), at_s(start_s + 100));
    co_await send_plan(round, 2);
    co_await serve(round, at_s(start_s + 100));
  }

  // Answers the round's batches (a zero gradient) and takes uploads until
  // the round's own upload or `until`.
  asio::awaitable<void> serve(int round, SimTime until) {
    while (true) {
      auto receiving = setup.uplink->receive_until(until);
      auto received = co_await std::move(receiving);
      auto& [late, message] = received;
      if (late) co_return;
      if (auto* upload = std::get_if<protocol::ModelUpload>(&message)) {
        uploads.push_back({sim.now().time_since_epoch().count(), upload->round_trained, upload->samples});
        if (upload->round_trained == round) co_return;
        continue;
      }
      auto* batch = std::get_if<protocol::Activations>(&message);
      if (batch == nullptr || batch->round != round) continue;
      batches_at_ns.push_back(sim.now().time_since_epoch().count());
      auto sending = setup.downlink->send(protocol::CutGradient{round, batch->batch}, 1000);
      co_await std::move(sending);
    }
  }
};

}  // namespace

// Round 1 goes normally in each case: 3 batches of 16 at 10 MFLOP/s, each
// forward 0.9737 s and backward 1.9474 s; 0.06 s idle waiting for gradients.

TEST_CASE("a plan that comes while the client trains alone stops it after the batch; its update goes up first, as stale", "[client]") {
  Rig rig({1, 2});
  rig.spawn_client();
  rig.sim.spawn({"server", core::EntityId{0}, false, false}, [&rig]() -> asio::awaitable<void> {
    co_await rig.ordinary_round(1, 0);
    co_await rig.sim.sleep_until(at_s(100));
    co_await rig.notify(2, at_s(101), at_s(200));  // the plan is due at 101 s...
    co_await rig.sim.sleep_until(at_s(103));        // ...and leaves at 103 s
    co_await rig.send_plan(2, 2);
    co_await rig.serve(2, at_s(200));
  });
  rig.sim.run();
  REQUIRE(rig.records.size() == 3);
  const client::RoundRecord& alone = rig.records[1];
  CHECK(alone.round == 2);
  CHECK(alone.outcome == client::Outcome::local_only);
  CHECK(alone.samples == 16);  // the plan came during its first batch (101 s to 103.921 s)
  CHECK(alone.batches == 1);
  CHECK(alone.gradients_received == 0);
  CHECK(alone.compute.count() == 2'921'164'800);
  const client::RoundRecord& real = rig.records[2];
  CHECK(real.round == 2);
  CHECK(real.outcome == client::Outcome::ok);
  CHECK(real.samples == 48);
  CHECK(real.gradients_received == 3);  // every real batch got the server's gradient
  REQUIRE(rig.uploads.size() == 3);
  // The local-only update goes first and is not the round's upload: it
  // improved on round 1's model, so in round 2 its staleness is 1.
  CHECK(rig.uploads[1].round_trained == 1);
  CHECK(rig.uploads[1].samples == 16);
  CHECK(rig.uploads[1].at_ns == 103'947'529'600);
  CHECK(rig.uploads[2].round_trained == 2);
  CHECK(rig.uploads[2].samples == 48);
  REQUIRE(rig.batches_at_ns.size() == 6);
  CHECK(rig.batches_at_ns[3] == 104'973'782'400);  // after the stale upload
  // What the client recorded: round 2 opened the local-only round's script, then the plan's.
  const auto& round2 = rig.scripts.opened.at({0, 2});
  REQUIRE(round2.size() == 2);
  CHECK(round2[0]->count<protocol::ScriptedForward>() == 1);
  CHECK(round2[0]->applied_with_gradient() == 0);
  CHECK(round2[0]->client_ended);
  CHECK(round2[1]->count<protocol::ScriptedForward>() == 3);
  CHECK(round2[1]->applied_with_gradient() == 3);
  CHECK(round2[1]->client->cut == 2);
}

TEST_CASE("a round with no plan (server outage) is trained alone to the end and reintegrated at the next contact", "[client]") {
  Rig rig({1, 2, 3});
  rig.spawn_client();
  rig.sim.spawn({"server", core::EntityId{0}, false, false}, [&rig]() -> asio::awaitable<void> {
    co_await rig.ordinary_round(1, 0);
    co_await rig.sim.sleep_until(at_s(100));
    co_await rig.notify(2, at_s(150), at_s(200));  // the server is down: no plan
    co_await rig.sim.sleep_until(at_s(200));
    co_await rig.ordinary_round(3, 200);
  });
  rig.sim.run();
  REQUIRE(rig.records.size() == 3);
  CHECK(rig.records[1].round == 2);
  CHECK(rig.records[1].outcome == client::Outcome::local_only);
  CHECK(rig.records[1].samples == 48);
  CHECK(rig.records[1].compute.count() == 8'763'494'400);  // noticed at 150 s, trained to 158.76 s
  CHECK(rig.records[2].round == 3);
  CHECK(rig.records[2].outcome == client::Outcome::ok);
  REQUIRE(rig.uploads.size() == 3);
  CHECK(rig.uploads[1].round_trained == 1);  // in round 3: staleness 2
  CHECK(rig.uploads[1].samples == 48);
  CHECK(rig.uploads[2].round_trained == 3);
}

TEST_CASE("a batch whose activations are lost costs the whole gradient timeout of waiting", "[client]") {
  Rig rig({1});
  core::FaultPlan faults;
  faults.link_down.push_back({"c0.up", core::TimeWindow{at_s(0.5), at_s(50)}});  // after the plan, before the upload
  rig.sim.set_fault_plan(faults);
  rig.spawn_client();
  rig.sim.spawn({"server", core::EntityId{0}, false, false}, [&rig]() -> asio::awaitable<void> {
    co_await rig.ordinary_round(1, 0);
  });
  rig.sim.run();
  REQUIRE(rig.records.size() == 1);
  const client::RoundRecord& r = rig.records[0];
  CHECK(r.gradients_received == 0);
  CHECK(r.outcome == client::Outcome::local_only);
  CHECK(r.idle.count() == 1'500'000'000);  // 3 lost batches x the 0.5 s timeout (0 before it was charged)
  CHECK(rig.uploads.empty());  // the upload was lost too; it is kept for the next contact
  CHECK(rig.state.pending.has_value());
}

TEST_CASE("the TPGF step takes lambda = 0 without a server gradient, and rejects anything else", "[client]") {
  supernet::Supernet net(tiny_net());
  const supernet::SubnetConfig full = net.architecture().full_config();
  client::RoundModels models;
  models.prefix = std::make_shared<supernet::BodyPart>(net.extract(full, 1, 2));
  models.heads.push_back(std::make_shared<supernet::LocalHead>(net.extract_head(full, 2)));
  const std::unique_ptr<client::LocalTrainer> trainer =
      client::make_trainer(protocol::Objective::fused, models, {0.05, 0.0, 0.0});
  const at::Tensor images = at::rand({4, 1, 8, 8});
  const at::Tensor labels = at::zeros({4}, at::kLong);
  trainer->forward(images, labels);
  CHECK_THROWS_AS(trainer->apply(0.5, at::Tensor()), std::invalid_argument);
  trainer->forward(images, labels);
  CHECK_NOTHROW(trainer->apply(0.0, at::Tensor()));
}

TEST_CASE("a plan that comes after local-only training ended, before the round's deadline, is trained with the server", "[client]") {
  Rig rig({1, 2});
  rig.spawn_client();
  rig.sim.spawn({"server", core::EntityId{0}, false, false}, [&rig]() -> asio::awaitable<void> {
    co_await rig.ordinary_round(1, 0);
    co_await rig.sim.sleep_until(at_s(100));
    co_await rig.notify(2, at_s(101), at_s(200));  // due at 101 s; training alone ends near 109.8 s
    co_await rig.sim.sleep_until(at_s(120));        // the plan leaves at 120 s
    co_await rig.send_plan(2, 2);
    co_await rig.serve(2, at_s(200));
  });
  rig.sim.run();
  REQUIRE(rig.records.size() == 3);
  CHECK(rig.records[1].round == 2);
  CHECK(rig.records[1].outcome == client::Outcome::local_only);
  CHECK(rig.records[1].samples == 48);  // trained alone to the end
  CHECK(rig.records[2].round == 2);
  CHECK(rig.records[2].outcome == client::Outcome::ok);
  CHECK(rig.records[2].gradients_received == 3);
  REQUIRE(rig.uploads.size() == 3);
  CHECK(rig.uploads[1].round_trained == 1);  // the local-only update first, as stale
  CHECK(rig.uploads[2].round_trained == 2);
}
