#include "simulator/rounds/remote_rounds.hpp"

#include "server/session.hpp"
#include "simulator/parts/part_codec.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>

#include <stdexcept>
#include <variant>

namespace sflsim::cli {

std::string snapshot_tensors(const supernet::Supernet& net) {
  core::StateWriter out;
  put_tensors(out, tensors_data(net.tensors()));
  return out.take();
}

std::shared_ptr<const supernet::Supernet> SupernetCache::get(std::uint64_t version, const std::string& tensors) {
  if (auto held = find(version)) return held;
  auto net = std::make_shared<supernet::Supernet>(options_);
  core::StateReader in(tensors);
  const std::vector<TensorData> data = get_tensors(in);
  in.expect_done("a supernet snapshot");
  if (data.size() != net->tensors().size()) {
    throw std::invalid_argument("a supernet snapshot has " + std::to_string(data.size()) + " tensors, this scenario's has " +
                                std::to_string(net->tensors().size()));
  }
  for (size_t k = 0; k < data.size(); ++k) copy_into(net->tensors()[k], data[k], "supernet tensor " + std::to_string(k));
  const std::lock_guard lock(mutex_);
  nets_[version] = net;
  while (nets_.size() > keep_) nets_.erase(nets_.begin());
  return net;
}

std::shared_ptr<const supernet::Supernet> SupernetCache::find(std::uint64_t version) const {
  const std::lock_guard lock(mutex_);
  const auto found = nets_.find(version);
  return found == nets_.end() ? nullptr : found->second;
}

LocalComputer::LocalComputer(supernet::SupernetOptions options, const datasets::ImageDataset& train)
    : nets_(std::move(options)), train_(train) {}

std::string LocalComputer::compute(const std::string& job, const std::shared_ptr<const SupernetSnapshot>& snapshot) {
  const RoundJob decoded = decode_job(job);
  return encode(compute_round(decoded, *nets_.get(snapshot->version, snapshot->tensors), train_));
}

// ---- RemoteRounds -----------------------------------------------------------

namespace {

// What the client and the session recorded; shared with the computation.
struct ScriptData {
  int client = 0;
  int round = 0;
  std::mutex mutex;  // guards everything below: recording happens while a computation may read
  std::optional<protocol::ScriptedClient> client_side;
  std::optional<protocol::ScriptedServer> server_side;
  std::vector<protocol::ScriptStep> steps;
  bool client_ended = false;  // the client recorded its last step (or crashed)
  bool server_ended = false;  // the session reported (no more server steps)
};

// A script that only records; its tickets have RemoteRounds compute it.
class RecordedScript final : public protocol::RoundScript {
 public:
  RecordedScript(std::shared_ptr<ScriptData> data, core::WorkTicket client_done, core::WorkTicket server_done)
      : data_(std::move(data)), client_done_(std::move(client_done)), server_done_(std::move(server_done)) {}

  void start_client(protocol::ScriptedClient side) override {
    const std::lock_guard lock(data_->mutex);
    data_->client_side = std::move(side);
  }
  void start_server(protocol::ScriptedServer side) override {
    const std::lock_guard lock(data_->mutex);
    data_->server_side = std::move(side);
  }
  void record(protocol::ScriptStep step) override {
    const std::lock_guard lock(data_->mutex);
    data_->steps.push_back(std::move(step));
  }
  void end_client() override {
    const std::lock_guard lock(data_->mutex);
    data_->client_ended = true;
  }
  void end_server() override {
    const std::lock_guard lock(data_->mutex);
    data_->server_ended = true;
  }
  const core::WorkTicket& client_done() const override { return client_done_; }
  const core::WorkTicket& server_done() const override { return server_done_; }

 private:
  std::shared_ptr<ScriptData> data_;
  core::WorkTicket client_done_;
  core::WorkTicket server_done_;
};

}  // namespace

struct RemoteRounds::Computation {
  std::shared_ptr<ScriptData> data;
  std::shared_ptr<const SupernetSnapshot> snapshot;
  std::mutex running;              // one computation of the script at a time
  std::optional<RoundJob> inputs;  // the client's side as the script starts (taken at the first run)
  bool client_written = false;
  bool server_written = false;
};

namespace {

ModelData body_model(const supernet::BodyPart& body, bool fresh) {
  if (fresh) return {true, shape_data(body.config(), false, body.first_unit(), body.last_unit())};
  return {false, body_data(body)};
}

std::vector<ModelData> head_models(const protocol::Heads& heads, bool fresh) {
  std::vector<ModelData> out;
  for (const auto& head : heads) {
    out.push_back(fresh ? ModelData{true, shape_data(head->slices().config, true, 0, head->cut())}
                        : ModelData{false, part_data(head->slices(), true, 0, head->cut())});
  }
  return out;
}

// The client's side of a job, from its state as the script starts.
RoundJob client_inputs(const ScriptData& data, const protocol::ScriptedClient& c) {
  RoundJob job;
  job.client = data.client;
  job.round = data.round;
  job.objective = static_cast<std::int32_t>(c.objective);
  job.learning_rate = c.optimizer.learning_rate;
  job.momentum = c.optimizer.momentum;
  job.weight_decay = c.optimizer.weight_decay;
  job.lambda_rule = static_cast<std::int32_t>(c.lambda.rule);
  job.lambda_fixed = c.lambda.fixed_value;
  job.lambda_min = c.lambda.min;
  job.lambda_max = c.lambda.max;
  job.lambda_epsilon = c.lambda.epsilon;
  job.cut = c.cut;
  job.prefix = body_model(*c.prefix, c.fresh_prefix);
  job.heads = head_models(c.heads, c.fresh_heads);
  if (c.own_body) job.own_body = body_model(*c.own_body, c.fresh_own);
  job.own_heads = head_models(c.own_heads, c.fresh_own);
  job.local_loss = c.losses->local();
  job.server_loss = c.losses->server();
  return job;
}

RoundJob::Step job_step(const protocol::ScriptStep& step) {
  RoundJob::Step out;
  if (const auto* forward = std::get_if<protocol::ScriptedForward>(&step)) {
    out.kind = 0;
    out.indices = forward->indices;
    for (const datasets::SampleAugment& d : forward->draws) {
      out.draws.insert(out.draws.end(), {d.dy, d.dx, d.mirror ? 1 : 0});
    }
  } else if (const auto* server = std::get_if<protocol::ScriptedServerStep>(&step)) {
    out.kind = 1;
    out.batch = server->batch;
  } else {
    const auto& apply = std::get<protocol::ScriptedApply>(step);
    out.kind = 2;
    out.batch = apply.batch;
    out.with_gradient = apply.with_gradient;
  }
  return out;
}

void write_heads(const protocol::Heads& heads, const std::vector<PartData>& data, const char* what) {
  if (heads.size() != data.size()) throw std::runtime_error(std::string(what) + ": the result has another number of heads");
  for (size_t k = 0; k < heads.size(); ++k) copy_slices(heads[k]->slices(), data[k], what);
}

}  // namespace

void RemoteRounds::begin_round(const supernet::Supernet& net, int round) {
  auto snapshot = std::make_shared<SupernetSnapshot>();
  snapshot->version = static_cast<std::uint64_t>(round);
  snapshot->tensors = snapshot_tensors(net);
  snapshot_ = snapshot;
  computer_.publish(snapshot_);
}

std::shared_ptr<protocol::RoundScript> RemoteRounds::open(int client, int round) {
  auto computation = std::make_shared<Computation>();
  computation->data = std::make_shared<ScriptData>();
  computation->data->client = client;
  computation->data->round = round;
  computation->snapshot = snapshot_;
  core::WorkTicket client_done = core::submit_work(nullptr, [this, computation] { run(*computation, true); });
  core::WorkTicket server_done = core::submit_work(nullptr, [this, computation] { run(*computation, false); });
  return std::make_shared<RecordedScript>(computation->data, std::move(client_done), std::move(server_done));
}

double RemoteRounds::compute_seconds() const {
  const std::lock_guard lock(stats_mutex_);
  return compute_seconds_;
}

double RemoteRounds::queued_seconds() const {
  const std::lock_guard lock(stats_mutex_);
  return queued_seconds_;
}

void RemoteRounds::run(Computation& c, bool for_client) {
  const std::lock_guard running(c.running);
  if (for_client ? c.client_written : c.server_written) return;
  std::optional<protocol::ScriptedClient> client;
  std::optional<protocol::ScriptedServer> server;
  std::vector<protocol::ScriptStep> steps;
  bool client_ended = false, server_ended = false;
  {
    const std::lock_guard lock(c.data->mutex);
    client = c.data->client_side;
    server = c.data->server_side;
    steps = c.data->steps;
    client_ended = c.data->client_ended;
    server_ended = c.data->server_ended;
  }
  if (for_client && !client_ended) throw std::logic_error("a client's script was waited for before its round ended");
  if (!client || steps.empty()) {  // nothing was trained: nothing changes
    c.client_written = c.server_written = true;
    return;
  }
  if (!c.inputs) {
    client->previous.wait();  // its results are this script's inputs
    c.inputs = client_inputs(*c.data, *client);
  }
  RoundJob job = *c.inputs;
  job.supernet_version = c.snapshot->version;
  job.want_client = client_ended;
  size_t count = steps.size();
  if (!client_ended) {  // the server side only: up to the session's last step
    while (count > 0 && !std::holds_alternative<protocol::ScriptedServerStep>(steps[count - 1])) --count;
  }
  for (size_t k = 0; k < count; ++k) job.steps.push_back(job_step(steps[k]));
  if (server) {
    const server::ServerModel& replica = *server->model;
    job.replica = shape_data(replica.config(), false, replica.first_unit(), replica.last_unit());
    job.server_learning_rate = replica.options().learning_rate;
    job.server_momentum = replica.options().momentum;
    job.server_weight_decay = replica.options().weight_decay;
  }

  const RoundJobResult result = decode_result(computer_.compute(encode(job), c.snapshot));
  ++jobs_;
  {
    const std::lock_guard lock(stats_mutex_);
    compute_seconds_ += result.compute_seconds;
    queued_seconds_ += result.queued_seconds;
  }
  if (client_ended && !c.client_written) {
    if (!result.has_client) throw std::runtime_error("a round job's result lacks the client's side");
    copy_slices(client->prefix->slices(), result.prefix, "a round job's prefix");
    write_heads(client->heads, result.heads, "a round job's heads");
    if (client->own_body) {
      if (!result.own_body) throw std::runtime_error("a round job's result lacks the own network");
      copy_slices(client->own_body->slices(), *result.own_body, "a round job's own network");
    }
    write_heads(client->own_heads, result.own_heads, "a round job's own heads");
    *client->losses = fusion::LossAverages::restored(result.local_loss, result.server_loss);
    *client->sums = protocol::RoundLosses{result.local_sum, result.local_batches, result.server_sum, result.server_batches};
    c.client_written = true;
  }
  if (!server) {
    c.server_written = true;
  } else if (server_ended && !c.server_written) {
    if (!result.has_server) throw std::runtime_error("a round job's result lacks the server's side");
    copy_slices(server->model->materialize().slices(), result.replica, "a round job's server replica");
    *server->loss_sum = result.server_loss_sum;
    c.server_written = true;
  }
}

}  // namespace sflsim::cli
