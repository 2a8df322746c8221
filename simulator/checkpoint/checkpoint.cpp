#include "simulator/checkpoint/checkpoint.hpp"
#include "simulator/io/build_identity.hpp"
#include "simulator/io/files.hpp"

#include "simulator/core/state_codec.hpp"
#include "simulator/parts/part_codec.hpp"
#include "simulator/world/run_log.hpp"
#include "simulator/world/world.hpp"

#include <ATen/ATen.h>

#include <cstring>
#include <sstream>

namespace sflsim::cli {

using namespace checkpoint;

namespace {

// ---- capture ---------------------------------------------------------------

ClientData client_data(const client::ClientState& state) {
  ClientData c;
  c.local_loss = state.losses.local();
  c.server_loss = state.losses.server();
  if (state.pending) {
    const protocol::ModelUpload& u = *state.pending;
    UploadData p;
    p.round_trained = u.round_trained;
    p.cut = u.cut;
    p.samples = u.samples;
    const protocol::RoundLosses& losses = u.trained.get();
    p.local_sum = losses.local_sum;
    p.local_batches = losses.local_batches;
    p.server_sum = losses.server_sum;
    p.server_batches = losses.server_batches;
    p.shares_model = state.prefix && u.prefix == state.prefix && u.heads == state.heads;
    if (!p.shares_model) {
      p.prefix = body_data(*u.prefix);
      p.heads = heads_data(u.heads);
    }
    c.pending = std::move(p);
  }
  if (state.prefix) c.prefix = body_data(*state.prefix);
  c.heads = heads_data(state.heads);
  if (state.own_body) c.own_body = body_data(*state.own_body);
  c.own_heads = heads_data(state.own_heads);
  c.samples_per_round = state.samples_per_round;
  c.model_round = state.model_round;
  std::ostringstream rng;
  rng << state.data_rng;
  c.data_rng = rng.str();
  c.order = state.order;
  c.cursor = state.cursor;
  return c;
}

TrafficData traffic_data(const client::TrafficCounters& t) { return {t.up, t.down, t.activations, t.gradients, t.weights}; }
client::TrafficCounters traffic_counters(const TrafficData& t) { return {t.up, t.down, t.activations, t.gradients, t.weights}; }

RecordData record_data(const client::RoundRecord& r) {
  return {r.client, r.round, r.cut, r.width, r.samples, r.compute.count(), r.transmit.count(), r.idle.count(),
          r.bytes, r.energy_j, static_cast<std::int32_t>(r.outcome), r.gradients_received, r.batches};
}

client::RoundRecord round_record(const RecordData& d) {
  client::RoundRecord r;
  r.client = d.client;
  r.round = d.round;
  r.cut = d.cut;
  r.width = d.width;
  r.samples = d.samples;
  r.compute = core::SimDuration{d.compute_ns};
  r.transmit = core::SimDuration{d.transmit_ns};
  r.idle = core::SimDuration{d.idle_ns};
  r.bytes = d.bytes;
  r.energy_j = d.energy_j;
  r.outcome = static_cast<client::Outcome>(d.outcome);
  r.gradients_received = d.gradients_received;
  r.batches = d.batches;
  return r;
}

RowData row_data(const MetricsRow& row) {
  const server::RoundSummary& s = row.summary;
  RowData r;
  r.round = s.round;
  r.end_ns = s.end.time_since_epoch().count();
  r.evaluated = s.evaluated;
  r.outage = s.outage;
  r.test_accuracy = s.test_accuracy;
  r.test_loss = s.test_loss;
  r.train_loss = s.train_loss;
  r.clients_ok = s.clients_ok;
  r.clients_failed = s.clients_failed;
  r.reintegrated.assign(s.reintegrated.begin(), s.reintegrated.end());
  r.traffic = traffic_data(row.traffic);
  r.energy_j = row.energy_j;
  return r;
}

MetricsRow metrics_row(const RowData& r) {
  MetricsRow row;
  server::RoundSummary& s = row.summary;
  s.round = r.round;
  s.end = core::SimTime{core::SimDuration{r.end_ns}};
  s.evaluated = r.evaluated;
  s.outage = r.outage;
  s.test_accuracy = r.test_accuracy;
  s.test_loss = r.test_loss;
  s.train_loss = r.train_loss;
  s.clients_ok = r.clients_ok;
  s.clients_failed = r.clients_failed;
  s.reintegrated.assign(r.reintegrated.begin(), r.reintegrated.end());
  row.traffic = traffic_counters(r.traffic);
  row.energy_j = r.energy_j;
  return row;
}

// ---- restore ---------------------------------------------------------------

// Semantic errors (the data parsed, but does not fit this scenario's world).
struct Restorer {
  const std::filesystem::path& file;
  const supernet::Supernet& net;

  [[noreturn]] void fail(const std::string& what) const {
    throw CheckpointError(file.string() + ": " + what + "; was it written for another scenario?");
  }

  void copy_into(const at::Tensor& target, const TensorData& data, const std::string& what) const {
    try {
      cli::copy_into(target, data, what);
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
  }

  void copy_slices(supernet::SliceSet& slices, const PartData& data, const std::string& what) const {
    try {
      cli::copy_slices(slices, data, what);
    } catch (const std::invalid_argument& e) {
      fail(e.what());
    }
  }

  supernet::SubnetConfig config(const PartData& data) const { return config_of(data); }

  std::shared_ptr<supernet::BodyPart> body(const PartData& data, const std::string& what) const {
    if (data.head) fail(what + " is a head, not a body part");
    try {
      auto part = std::make_shared<supernet::BodyPart>(net.extract(config(data), data.first, data.last));
      copy_slices(part->slices(), data, what);
      return part;
    } catch (const std::invalid_argument& e) {
      fail(what + ": " + e.what());
    }
  }

  protocol::Heads heads(const std::vector<PartData>& data, const std::string& what) const {
    protocol::Heads out;
    for (size_t k = 0; k < data.size(); ++k) {
      const std::string name = what + " head " + std::to_string(k);
      if (!data[k].head) fail(name + " is not a head");
      try {
        auto head = std::make_shared<supernet::LocalHead>(net.extract_head(config(data[k]), data[k].last));
        copy_slices(head->slices(), data[k], name);
        out.push_back(std::move(head));
      } catch (const std::invalid_argument& e) {
        fail(name + ": " + e.what());
      }
    }
    return out;
  }

  void client(const ClientData& d, client::ClientState& state, int index) const {
    const std::string who = "client " + std::to_string(index);
    state.losses = fusion::LossAverages::restored(d.local_loss, d.server_loss);
    if (d.prefix) state.prefix = body(*d.prefix, who + "'s model");
    state.heads = heads(d.heads, who + "'s model");
    if (d.own_body) state.own_body = body(*d.own_body, who + "'s own network");
    state.own_heads = heads(d.own_heads, who + "'s own network");
    if (d.pending) {
      const UploadData& u = *d.pending;
      protocol::ModelUpload upload;
      upload.round_trained = u.round_trained;
      upload.cut = u.cut;
      upload.samples = u.samples;
      *upload.trained.value = protocol::RoundLosses{u.local_sum, u.local_batches, u.server_sum, u.server_batches};
      if (u.shares_model) {
        upload.prefix = state.prefix;
        upload.heads = state.heads;
      } else {
        upload.prefix = body(u.prefix, who + "'s deferred upload");
        upload.heads = heads(u.heads, who + "'s deferred upload");
      }
      state.pending = std::move(upload);
    }
    state.samples_per_round = d.samples_per_round;
    state.model_round = d.model_round;
    std::istringstream rng(d.data_rng);
    rng >> state.data_rng;
    if (rng.fail()) fail(who + "'s data stream is not a std::mt19937_64 state");
    state.order = d.order;
    state.cursor = static_cast<size_t>(d.cursor);
  }
};

}  // namespace

std::uint64_t scenario_hash(const std::string& resolved_scenario_text) { return core::fnv1a64(resolved_scenario_text); }

void save_checkpoint(World& world, const RunLog& log, double wall_seconds_so_far, const std::string& scenario_text,
                     const std::filesystem::path& file) {
  Checkpoint c;
  c.sflsim_version = build_identity();
  c.scenario_hash = scenario_hash(scenario_text);
  core::StateWriter kernel;
  world.sim->save_state(kernel);
  c.kernel = kernel.take();
  for (const at::Tensor& t : world.net->tensors()) c.supernet.push_back(tensor_data(t));
  for (const client::ClientState& state : world.client_states) {
    state.last_work.wait();  // the models and loss averages are final
    c.clients.push_back(client_data(state));
  }
  c.has_own_model.assign(log.has_own_model.begin(), log.has_own_model.end());
  std::sort(c.has_own_model.begin(), c.has_own_model.end());
  c.traffic = traffic_data(world.traffic);
  c.traffic_before = traffic_data(log.traffic_before);
  c.energy_before = log.energy_before;
  c.last_accuracy = log.last_accuracy;
  c.best_accuracy = log.best_accuracy;
  c.wall_before_s = wall_seconds_so_far;
  for (const MetricsRow& row : log.rows) c.rows.push_back(row_data(row));
  for (const client::RoundRecord& r : log.records) c.records.push_back(record_data(r));
  c.wall_seconds = log.wall_seconds;
  write_atomically(file, encode(c));
}

int load_checkpoint(World& world, RunLog& log, const std::string& scenario_text, const std::filesystem::path& file) {
  Checkpoint c;
  try {
    if (!std::filesystem::is_regular_file(file)) throw CheckpointError(file.string() + ": cannot read the checkpoint");
    c = decode(read_text(file));
  } catch (const CheckpointError& e) {
    const std::string what = e.what();
    if (what.rfind(file.string(), 0) == 0) throw;
    throw CheckpointError(file.string() + ": " + what);
  }
  if (c.sflsim_version != build_identity()) {
    throw CheckpointError(file.string() + ": written by another build (" + c.sflsim_version + "; this is " +
                          build_identity() + "): resume it with that build, or start over with --fresh");
  }
  if (c.scenario_hash != scenario_hash(scenario_text)) {
    throw CheckpointError(file.string() + ": written for another scenario (its resolved scenario's hash differs); "
                          "resume with the scenario the run started with, or start a new --out directory");
  }
  const Restorer restore{file, *world.net};
  if (c.next_round() > world.scenario.training.rounds) restore.fail("it resumes at round " + std::to_string(c.next_round()) + ", after the last");
  if (c.supernet.size() != world.net->tensors().size()) restore.fail("the supernet has another number of tensors");
  if (c.clients.size() != world.client_states.size()) restore.fail("it has " + std::to_string(c.clients.size()) + " clients");
  try {
    core::StateReader kernel(c.kernel);
    world.sim->load_state(kernel);
    kernel.expect_done("the simulation's state");
  } catch (const core::StateError& e) {
    restore.fail(std::string("simulation state: ") + e.what());
  }
  for (size_t k = 0; k < c.supernet.size(); ++k) {
    restore.copy_into(world.net->tensors()[k], c.supernet[k], "supernet tensor " + std::to_string(k));
  }
  for (size_t k = 0; k < c.clients.size(); ++k) restore.client(c.clients[k], world.client_states[k], static_cast<int>(k));
  for (std::int32_t client : c.has_own_model) {
    if (client >= static_cast<std::int32_t>(world.client_states.size())) restore.fail("a client index is out of range");
    log.has_own_model.insert(client);
  }
  world.traffic = traffic_counters(c.traffic);
  log.traffic_before = traffic_counters(c.traffic_before);
  log.energy_before = c.energy_before;
  log.last_accuracy = c.last_accuracy;
  log.best_accuracy = c.best_accuracy;
  log.wall_before_s = c.wall_before_s;
  for (const RowData& r : c.rows) log.rows.push_back(metrics_row(r));
  for (const RecordData& r : c.records) {
    if (r.client >= static_cast<std::int32_t>(world.client_states.size())) restore.fail("a record's client is out of range");
    log.records.push_back(round_record(r));
  }
  log.wall_seconds = c.wall_seconds;
  return c.next_round();
}

}  // namespace sflsim::cli
