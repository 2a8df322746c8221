#include "client/client.hpp"

#include "datasets/random.hpp"

#include <ATen/ATen.h>

#include <memory>
#include <optional>
#include <variant>

namespace sflsim::client {

namespace asio = boost::asio;
using core::SimDuration;
using core::SimTime;

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::timeout: return "timeout";
    case Outcome::local_only: return "local-only";
    case Outcome::crashed: return "crashed";
  }
  return "?";
}

namespace {

// The next `count` of this client's samples, reshuffling when its order runs out.
std::vector<int64_t> next_samples(const ClientSetup& setup, ClientState& state, int64_t count) {
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(count));
  while (static_cast<int64_t>(out.size()) < count) {
    if (state.cursor >= state.order.size()) {
      state.order = setup.indices;
      datasets::shuffle_in_place(std::span<int64_t>(state.order), state.data_rng);
      state.cursor = 0;
    }
    out.push_back(state.order[state.cursor++]);
  }
  return out;
}

struct RoundTraining {
  int round = 0;
  int cut = 0;
  int64_t samples = 0;
  bool with_server = true;
  bool split = true;  // the plan's: activations go to a server
  // Local-only: a plan for this round that arrives late ends the training
  // after the batch in progress, so the client can still take part.
  bool stop_for_plan = false;
  // Where the round's steps are recorded (round_script.hpp): the plan's, or a local-only round's own.
  std::shared_ptr<protocol::RoundScript> script;
  bool fresh_models = false;  // the plan's prefix and heads, untouched
  bool fresh_own = false;     // the plan's own network, untouched
};

// Records the end of the client's part of a script when train() returns or
// its frame is destroyed (a crash cuts the round short).
struct ScriptEnd {
  explicit ScriptEnd(protocol::RoundScript& ended) : script(ended) {}
  protocol::RoundScript& script;
  ScriptEnd(const ScriptEnd&) = delete;
  ScriptEnd& operator=(const ScriptEnd&) = delete;
  ~ScriptEnd() { script.end_client(); }
};

protocol::Heads clone_heads(const protocol::Heads& heads) {
  protocol::Heads copies;
  for (const auto& head : heads) copies.push_back(std::make_shared<supernet::LocalHead>(head->slices().clone(), head->cut()));
  return copies;
}

// Times and energy of a round from `since` (taken when it began) to now.
void measure_round(core::Simulation& sim, const ClientSetup& setup, const core::EnergyReading& since,
                   SimTime started, RoundRecord& record) {
  const core::EnergyReading used = setup.device->energy() - since;
  record.compute = used.busy_time(core::Activity::compute);
  record.transmit = used.busy_time(core::Activity::transmit);
  const SimDuration busy = record.compute + record.transmit + used.busy_time(core::Activity::receive);
  record.idle = std::max(SimDuration{0}, (sim.now() - started) - busy);
  record.energy_j = used.joules();
}

// What train() leaves: the round's record (outcome left to the caller) and
// the end of its chain of tasks, which yields the round's losses.
struct TrainedRound {
  RoundRecord record;
  protocol::Pending<protocol::RoundLosses> trained;
  std::optional<protocol::RoundPlan> late_plan;  // the plan that stopped a local-only round
};

// Waits until `until` for the plan of `round`, passing over what earlier
// rounds left on the downlink (late gradients and plans).
asio::awaitable<std::optional<protocol::RoundPlan>> wait_for_plan(const ClientSetup& setup, int round, SimTime until) {
  while (true) {
    auto received_message = co_await setup.downlink->receive_until(until);
    auto& [late, message] = received_message;
    if (late) co_return std::nullopt;
    auto* plan = std::get_if<protocol::RoundPlan>(&message);
    if (plan != nullptr && plan->round == round) co_return std::move(*plan);
  }
}

// Trains `samples` samples on the client's model. Returns when the round ends
// in virtual time; its arithmetic is recorded into the round's script, which
// computes it as the server waits for it (see `trained`).
asio::awaitable<TrainedRound> train(core::Simulation& sim, const ClientSetup& setup, ClientState& state,
                                   TrafficCounters& traffic, const RoundTraining& job) {
  const bool split = job.with_server && job.split;
  const supernet::BatchCharges charges =
      protocol::part_charges(*state.prefix, job.cut, state.heads, state.own_body.get());

  TrainedRound out;
  RoundRecord& record = out.record;
  record.client = setup.index;
  record.round = job.round;
  record.cut = job.cut;
  record.width = (state.own_body ? state.own_body->config() : state.prefix->config()).width[0];
  // The script computes as the server needs the results: it starts from the
  // client's previous round (which updated state.losses and its own network)
  // and the next round follows it, whenever this one ends (a crash ends it early).
  protocol::RoundScript& script = *job.script;
  const datasets::AugmentOptions augment;
  ScriptEnd script_end{script};
  script.start_client({state.prefix, state.heads, state.own_body, state.own_heads, job.fresh_models, job.fresh_models,
                       job.fresh_own, &state.losses, out.trained.value, setup.behaviour.objective, setup.optimizer,
                       setup.lambda, job.cut, state.last_work});
  out.trained.ready = state.last_work = script.client_done();

  int64_t done = 0;
  while (done < job.samples) {
    if (job.stop_for_plan && done > 0) {
      out.late_plan = co_await wait_for_plan(setup, job.round, sim.now());  // only what is already here
      if (out.late_plan) break;
    }
    const int64_t batch_size = std::min<int64_t>(setup.batch_size, job.samples - done);
    // The samples and their augmentation are drawn now, in the order of the
    // client's data stream; the pixels are gathered when the step is computed.
    std::vector<int64_t> indices = next_samples(setup, state, batch_size);
    std::vector<datasets::SampleAugment> draws =
        datasets::draw_augmentation(batch_size, setup.augment ? &augment : nullptr, &state.data_rng);

    // Phase 1: prefix and local head.
    script.record(protocol::ScriptedForward{std::move(indices), std::move(draws)});
    co_await setup.device->compute(charges.client_forward(batch_size));

    // Phase 2: the server's gradient, if it comes in time.
    bool with_gradient = false;
    if (split) {
      const int64_t bytes = charges.activations_up(batch_size);
      // The message is built into the operation before co_await: GCC 12 destroys
      // non-trivial temporaries of a co_await expression twice.
      auto sending = setup.uplink->send(protocol::Activations{job.round, record.batches, batch_size}, bytes);
      auto [lost] = co_await std::move(sending);
      if (!lost) {
        traffic.up += bytes;
        traffic.activations += charges.activations(batch_size);
        record.bytes += bytes;
      }
      // A lost batch is waited for like any other: the client cannot tell
      // a drop from a slow server until the deadline passes.
      const SimTime deadline = sim.now() + setup.gradient_timeout;
      while (true) {
        auto received_message = co_await setup.downlink->receive_until(deadline);
        auto& [late, message] = received_message;
        if (late) break;
        const auto* gradient = std::get_if<protocol::CutGradient>(&message);
        if (gradient == nullptr || gradient->round != job.round || gradient->batch != record.batches) continue;
        with_gradient = true;
        record.bytes += charges.gradient_down(batch_size);
        ++record.gradients_received;
        break;
      }
    }

    // Phase 3: the fused step (lambda = 0 without a server gradient).
    script.record(protocol::ScriptedApply{record.batches, with_gradient});
    co_await setup.device->compute(charges.client_backward(batch_size));
    ++record.batches;
    done += batch_size;
  }
  record.samples = done;
  co_return out;
}

protocol::ModelUpload make_upload(const ClientState& state, const TrainedRound& round) {
  return protocol::ModelUpload{round.record.round, round.record.cut, state.prefix, state.heads, round.record.samples,
                               round.trained};
}

// Sends an upload; returns whether it went through.
asio::awaitable<bool> upload(const ClientSetup& setup, TrafficCounters& traffic, const protocol::ModelUpload& message,
                             int64_t& bytes_counter) {
  const int64_t bytes = protocol::model_bytes(message.prefix, message.heads);
  auto sending = setup.uplink->send(message, bytes);
  auto [failed] = co_await std::move(sending);
  if (failed) co_return false;
  traffic.up += bytes;
  traffic.weights += bytes;
  bytes_counter += bytes;
  co_return true;
}

// No plan came by its due date: train the last model with the local head,
// keeping the update for the next contact. Returns the round's plan if it
// arrives while this runs.
asio::awaitable<std::optional<protocol::RoundPlan>> train_alone(core::Simulation& sim, const ClientSetup& setup,
                                                               ClientState& state, TrafficCounters& traffic,
                                                               const RecordSink& sink, int round) {
  // Train a copy, so a late plan's weights are never mixed with local-only
  // training (once the last round's tasks are done with the original).
  state.last_work.wait();
  state.prefix = std::make_shared<supernet::BodyPart>(state.prefix->slices().clone(), 1, state.prefix->last_unit());
  state.heads = clone_heads(state.heads);
  const int cut = state.prefix->last_unit();
  RoundTraining job{round, cut, state.samples_per_round, false, false, true};
  job.script = setup.scripts->open(setup.index, round);
  const core::EnergyReading energy_before = setup.device->energy();
  const SimTime started = sim.now();
  TrainedRound trained = co_await train(sim, setup, state, traffic, job);
  RoundRecord& record = trained.record;
  measure_round(sim, setup, energy_before, started, record);
  record.outcome = Outcome::local_only;
  protocol::ModelUpload update = make_upload(state, trained);
  update.round_trained = state.model_round;  // it improved on that round's model
  state.pending = std::move(update);
  sink(record);
  co_return std::move(trained.late_plan);
}

// The round as the device lives it: any deferred upload, training, and the upload.
asio::awaitable<void> train_with_server(core::Simulation& sim, const ClientSetup& setup, ClientState& state,
                                        TrafficCounters& traffic, const RecordSink& sink,
                                        const protocol::RoundPlan& plan) {
  const core::EnergyReading energy_before = setup.device->energy();
  const SimTime started = sim.now();
  int64_t bytes_before_round = 0;
  if (state.pending) {
    if (co_await upload(setup, traffic, *state.pending, bytes_before_round)) state.pending.reset();
  }
  state.prefix = plan.prefix;
  state.heads = plan.heads;
  state.model_round = plan.round;
  if (!state.own_body && plan.own_body) {
    state.own_body = plan.own_body;
    state.own_heads = plan.own_heads;
  }
  state.samples_per_round = plan.samples;
  RoundTraining job{plan.round, plan.cut, plan.samples, true, plan.split};
  job.script = plan.script;
  job.fresh_models = true;
  job.fresh_own = plan.own_body != nullptr && state.own_body == plan.own_body;
  TrainedRound trained = co_await train(sim, setup, state, traffic, job);
  RoundRecord& record = trained.record;
  record.bytes += bytes_before_round + protocol::plan_bytes(plan);
  const protocol::ModelUpload update = make_upload(state, trained);
  const bool uploaded = co_await upload(setup, traffic, update, record.bytes);
  if (!uploaded && setup.behaviour.defer_uploads) state.pending = update;
  measure_round(sim, setup, energy_before, started, record);
  record.outcome = !plan.split ? (uploaded ? Outcome::ok : Outcome::timeout)
                   : record.gradients_received == 0 ? (!state.heads.empty() ? Outcome::local_only : Outcome::timeout)
                   : (record.gradients_received < record.batches || !uploaded) ? Outcome::timeout
                                                                              : Outcome::ok;
  sink(record);
  if (!setup.behaviour.train_when_cut_off) {
    state.prefix.reset();
    state.heads.clear();
  }
}

}  // namespace

asio::awaitable<void> run_client(core::Simulation& sim, const ClientSetup& setup, ClientState& state,
                                 TrafficCounters& traffic, const RecordSink& sink) {
  if (setup.selected_rounds.empty()) co_return;
  // Restarted after a crash, the client goes on with the notices still to come.
  int round = 0;
  while (round < setup.selected_rounds.back()) {
    auto receiving = setup.notices->receive_until(core::kNever);
    auto received_notice = co_await std::move(receiving);
    auto& [closed, notice] = received_notice;
    if (closed) co_return;
    round = notice.round;
    const SimTime deadline{SimDuration{notice.deadline_ns}};
    if (sim.now() >= deadline) continue;  // its round ended while the client was down
    const bool can_train_alone = state.prefix && setup.behaviour.train_when_cut_off;
    const SimTime plan_due = can_train_alone ? SimTime{SimDuration{notice.plan_due_ns}} : deadline;
    std::optional<protocol::RoundPlan> plan = co_await wait_for_plan(setup, round, plan_due);
    if (!plan && can_train_alone) {
      plan = co_await train_alone(sim, setup, state, traffic, sink, round);
      // The plan may still come after training alone ended: the round is open until its deadline.
      if (!plan) plan = co_await wait_for_plan(setup, round, deadline);
    }
    if (plan) co_await train_with_server(sim, setup, state, traffic, sink, *plan);
  }
}

}  // namespace sflsim::client
