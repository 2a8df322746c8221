#pragma once
// The session tests' hand-built world (session_test.cpp): one run_session
// (client 0, entity 1) and its links on the server's end of a tiny world, the
// coordinator's side of the mailboxes (one order in, one result out), and the
// client's side as calls a scripted coroutine makes.
#include "hand_script.hpp"
#include "server/session.hpp"
#include "tiny_world.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sflsim::test {

// The downlink sends 1 byte per us (8 Mbit/s, 10 ms latency), the uplink 1
// byte per 0.5 us (16 Mbit/s, 20 ms latency); the server does 1 FLOP per ns.
constexpr int64_t kDownNsPerByte = 1000;
constexpr int64_t kUpNsPerByte = 500;
constexpr int64_t kDownLatencyNs = 10'000'000;
constexpr int64_t kUpLatencyNs = 20'000'000;
constexpr int64_t kBatch = 8;

// What reached the client, and when.
struct Arrival {
  int64_t at_ns = -1;
  protocol::ServerToClient message;
};

// The gradient's round, batch and arrival (the server's step on the batch is in the script).
struct GotGradient {
  int64_t at_ns = -1;
  int round = 0;
  int64_t batch = -1;
};

// One session (client 0, entity 1) and its links; the server is entity 0.
struct Rig : TinyServerWorld {
  server::Uplink& uplink = sim.create<server::Uplink>(
      core::LinkOptions{"c0.up", core::EntityId{1}, core::EntityId{0}, 20ms, core::mbps(16), {}, nullptr});
  server::Downlink& downlink = sim.create<server::Downlink>(
      core::LinkOptions{"c0.down", core::EntityId{0}, core::EntityId{1}, 10ms, core::mbps(8), {}, nullptr});
  server::OrderLink& orders = mailbox<server::OrderLink>("c0.orders");
  server::ResultLink& results = mailbox<server::ResultLink>("server.results");
  int64_t down = 0, gradients = 0, weights = 0;
  server::SessionSetup setup;

  std::optional<server::SessionOrder> order;      // sent at time 0
  std::shared_ptr<server::ServerModel> model;     // the order's
  std::shared_ptr<HandScript> script;             // the order's plan's: the server steps it recorded
  std::optional<server::SessionResult> result;    // what the session reported...
  int64_t result_at_ns = -1;                      // ...and when
  std::shared_ptr<supernet::BodyPart> client_prefix;  // the plan the client received
  std::vector<int64_t> features_numel;            // of each Activations the client sent
  int64_t received_plan_bytes = -1;               // protocol::plan_bytes of the plan that came

  // The sizes every case uses.
  const int64_t plan_bytes = arch.weight_bytes(full, 1, kCut) + arch.head_weight_bytes(full, kCut);
  const int64_t server_step_ns = 3 * arch.forward_flops(full, kCut + 1, arch.unit_count()) * kBatch;

  // The simulation goes first: its actors' frames and tasks refer to the members above.
  ~Rig() { simulation.reset(); }

  Rig() {
    setup.client = 0;
    setup.device = &server;
    setup.uplink = &uplink;
    setup.downlink = &downlink;
    setup.orders = &orders;
    setup.results = &results;
    setup.traffic = {&down, &gradients, &weights};
  }

  // The order of `round` (cut 2 of the whole supernet, a local head), with a
  // server replica unless `whole_model`.
  void make_order(int round, SimTime deadline, bool whole_model = false) {
    protocol::RoundPlan plan;
    plan.round = round;
    plan.cut = kCut;
    plan.prefix = std::make_shared<supernet::BodyPart>(net.extract(full, 1, kCut));
    plan.heads.push_back(std::make_shared<supernet::LocalHead>(net.extract_head(full, kCut)));
    plan.samples = 2 * kBatch;
    script = std::make_shared<HandScript>(kCut);
    plan.script = script;
    if (!whole_model) {
      model = std::make_shared<server::ServerModel>(net, full, kCut + 1, arch.unit_count(),
                                                    protocol::OptimizerOptions{0.05, 0.0, 0.0});
    }
    order = server::SessionOrder{std::move(plan), model, deadline};
  }

  // Starts the session, the coordinator's side (the order, then the result)
  // and the client's script, and runs the simulation to its end.
  void run(std::function<asio::awaitable<void>()> client) {
    sim.spawn({"session0", core::EntityId{0}, true, false}, [this]() { return server::run_session(setup); });
    sim.spawn({"coordinator", core::EntityId{0}, false, false}, [this]() -> asio::awaitable<void> {
      auto ordering = orders.send(std::move(*order), 0);
      co_await std::move(ordering);
      auto receiving = results.receive_until(core::kNever);
      auto received = co_await std::move(receiving);
      auto& [error, r] = received;
      REQUIRE_FALSE(error);
      result_at_ns = ns(sim.now());
      result = std::move(r);
    });
    sim.spawn({"client0", core::EntityId{1}, false, false}, std::move(client));
    const core::RunReport report = sim.run();
    REQUIRE_FALSE(report.deadlock.has_value());
    REQUIRE(result.has_value());
    // As the coordinator does when it folds a result: the server steps run.
    // A step nobody asked for keeps its model alive (the model holds the
    // ticket of its last step, the step holds the model) until it runs.
    result->server_loss_sum.ready.wait();
  }

  // ---- the client's side -------------------------------------------------
  asio::awaitable<std::optional<Arrival>> next(SimTime until) {
    auto receiving = downlink.receive_until(until);
    auto received = co_await std::move(receiving);
    auto& [late, message] = received;
    if (late) co_return std::nullopt;
    co_return Arrival{ns(sim.now()), std::move(message)};
  }

  // Receives the plan (the first message) and keeps its prefix; its arrival time.
  asio::awaitable<int64_t> receive_plan() {
    auto receiving = next(core::kNever);
    std::optional<Arrival> a = co_await std::move(receiving);
    REQUIRE(a.has_value());
    auto* plan = std::get_if<protocol::RoundPlan>(&a->message);
    REQUIRE(plan != nullptr);
    client_prefix = plan->prefix;
    received_plan_bytes = protocol::plan_bytes(*plan);
    co_return a->at_ns;
  }
  // The next message by `until`, if it is a gradient.
  asio::awaitable<std::optional<GotGradient>> next_gradient(SimTime until) {
    auto receiving = next(until);
    std::optional<Arrival> a = co_await std::move(receiving);
    if (!a) co_return std::nullopt;
    const auto* g = std::get_if<protocol::CutGradient>(&a->message);
    if (g == nullptr) co_return std::nullopt;
    co_return GotGradient{a->at_ns, g->round, g->batch};
  }

  asio::awaitable<bool> send(protocol::ClientToServer message, int64_t bytes) {
    auto sending = uplink.send(std::move(message), bytes);
    auto [failed] = co_await std::move(sending);
    co_return !failed;
  }

  // A batch of activations of the received prefix, as a client sends it
  // (the tensors go into the script, as a client's forward step would put them).
  protocol::ClientToServer activations(int round, int64_t batch) {
    at::Tensor features = client_prefix->forward(at::rand({kBatch, 1, 8, 8}), supernet::Mode::train).detach();
    features_numel.push_back(features.numel());
    script->inputs[batch] = {features, at::randint(0, 10, {kBatch}, at::kLong)};
    return protocol::Activations{round, batch, kBatch};
  }
  // The server's step on batch `batch`, as the script computed it.
  const protocol::ServerStep& step_of(int64_t batch) const { return script->outcomes.at(batch); }
  // Declared like the client's: activations (fp32) and labels.
  int64_t activations_bytes() const { return kBatch * (arch.activation_bytes(full, kCut) + protocol::kLabelBytes); }

  protocol::ClientToServer upload(int round_trained) {
    protocol::ModelUpload u;
    u.round_trained = round_trained;
    u.cut = kCut;
    u.prefix = client_prefix;
    u.samples = 2 * kBatch;
    return u;
  }
};

}  // namespace sflsim::test
