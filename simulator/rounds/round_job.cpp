#include "simulator/rounds/round_job.hpp"

#include "client/local_trainer.hpp"
#include "datasets/dataset.hpp"
#include "server/session.hpp"
#include "simulator/parts/part_codec.hpp"
#include "simulator/rounds/chain_rounds.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>

#include <chrono>
#include <stdexcept>

namespace sflsim::cli {

using core::StateReader;
using core::StateWriter;

namespace {

void put(StateWriter& out, const ModelData& m) {
  out.boolean(m.fresh);
  put(out, m.part);
}

ModelData get_model(StateReader& in) {
  ModelData m;
  m.fresh = in.boolean();
  m.part = get_part(in);
  return m;
}

void put_models(StateWriter& out, const std::vector<ModelData>& models) {
  out.u64(models.size());
  for (const ModelData& m : models) put(out, m);
}

std::vector<ModelData> get_models(StateReader& in) {
  std::vector<ModelData> out(in.count(66));
  for (ModelData& m : out) m = get_model(in);
  return out;
}

void put_doubles(StateWriter& out, std::initializer_list<double> values) {
  for (double v : values) out.f64(v);
}

void put(StateWriter& out, const RoundJob::Step& step) {
  out.u8(step.kind);
  out.i64s(step.indices);
  out.u64(step.draws.size());
  for (std::int32_t d : step.draws) out.i64(d);
  out.i64(step.batch);
  out.boolean(step.with_gradient);
}

RoundJob::Step get_step(StateReader& in) {
  RoundJob::Step step;
  step.kind = in.u8();
  if (step.kind > 2) in.fail("a step of unknown kind " + std::to_string(step.kind));
  step.indices = in.i64s();
  step.draws.resize(in.count(8));
  for (std::int32_t& d : step.draws) d = static_cast<std::int32_t>(in.i64_in(-1024, 1024, "an augmentation draw"));
  step.batch = in.i64_in(0, std::int64_t{1} << 40, "a step's batch");
  step.with_gradient = in.boolean();
  return step;
}

// The job's models, made from the supernet (fresh) or from their tensors.
struct Models {
  const supernet::Supernet& net;

  std::shared_ptr<supernet::BodyPart> body(const ModelData& m, const char* what) const {
    auto part = std::make_shared<supernet::BodyPart>(net.extract(config_of(m.part), m.part.first, m.part.last));
    if (!m.fresh) copy_slices(part->slices(), m.part, what);
    return part;
  }

  protocol::Heads heads(const std::vector<ModelData>& models, const char* what) const {
    protocol::Heads out;
    for (const ModelData& m : models) {
      auto head = std::make_shared<supernet::LocalHead>(net.extract_head(config_of(m.part), m.part.last));
      if (!m.fresh) copy_slices(head->slices(), m.part, what);
      out.push_back(std::move(head));
    }
    return out;
  }
};

}  // namespace

std::string encode(const RoundJob& job) {
  StateWriter out;
  out.i64(job.client);
  out.i64(job.round);
  out.u64(job.supernet_version);
  out.boolean(job.want_client);
  out.i64(job.objective);
  put_doubles(out, {job.learning_rate, job.momentum, job.weight_decay});
  out.i64(job.lambda_rule);
  put_doubles(out, {job.lambda_fixed, job.lambda_min, job.lambda_max, job.lambda_epsilon});
  out.i64(job.cut);
  put(out, job.prefix);
  put_models(out, job.heads);
  out.boolean(job.own_body.has_value());
  if (job.own_body) put(out, *job.own_body);
  put_models(out, job.own_heads);
  put_doubles(out, {job.local_loss, job.server_loss});
  out.boolean(job.replica.has_value());
  if (job.replica) put(out, *job.replica);
  put_doubles(out, {job.server_learning_rate, job.server_momentum, job.server_weight_decay});
  out.u64(job.steps.size());
  for (const RoundJob::Step& step : job.steps) put(out, step);
  return out.take();
}

RoundJob decode_job(std::string_view bytes) {
  StateReader in(bytes);
  RoundJob job;
  job.client = get_int32(in, 0, "a job's client");
  job.round = get_int32(in, 0, "a job's round");
  job.supernet_version = in.u64();
  job.want_client = in.boolean();
  job.objective = get_int32(in, 0, "a job's objective");
  job.learning_rate = in.f64();
  job.momentum = in.f64();
  job.weight_decay = in.f64();
  job.lambda_rule = get_int32(in, 0, "a job's lambda rule");
  job.lambda_fixed = in.f64();
  job.lambda_min = in.f64();
  job.lambda_max = in.f64();
  job.lambda_epsilon = in.f64();
  job.cut = get_int32(in, 0, "a job's cut");
  job.prefix = get_model(in);
  job.heads = get_models(in);
  if (in.boolean()) job.own_body = get_model(in);
  job.own_heads = get_models(in);
  job.local_loss = in.f64();
  job.server_loss = in.f64();
  if (in.boolean()) job.replica = get_part(in);
  job.server_learning_rate = in.f64();
  job.server_momentum = in.f64();
  job.server_weight_decay = in.f64();
  job.steps.resize(in.count(34));
  for (RoundJob::Step& step : job.steps) step = get_step(in);
  in.expect_done("a round job");
  return job;
}

std::string encode(const RoundJobResult& r) {
  StateWriter out;
  out.boolean(r.has_client);
  if (r.has_client) {
    put(out, r.prefix);
    put_parts(out, r.heads);
    out.boolean(r.own_body.has_value());
    if (r.own_body) put(out, *r.own_body);
    put_parts(out, r.own_heads);
    put_doubles(out, {r.local_loss, r.server_loss, r.local_sum, r.server_sum});
    out.i64(r.local_batches);
    out.i64(r.server_batches);
  }
  out.boolean(r.has_server);
  if (r.has_server) {
    put(out, r.replica);
    out.f64(r.server_loss_sum);
  }
  out.f64(r.compute_seconds);
  out.f64(r.queued_seconds);
  return out.take();
}

RoundJobResult decode_result(std::string_view bytes) {
  StateReader in(bytes);
  RoundJobResult r;
  r.has_client = in.boolean();
  if (r.has_client) {
    r.prefix = get_part(in);
    r.heads = get_parts(in);
    if (in.boolean()) r.own_body = get_part(in);
    r.own_heads = get_parts(in);
    r.local_loss = in.f64();
    r.server_loss = in.f64();
    r.local_sum = in.f64();
    r.server_sum = in.f64();
    r.local_batches = in.i64();
    r.server_batches = in.i64();
  }
  r.has_server = in.boolean();
  if (r.has_server) {
    r.replica = get_part(in);
    r.server_loss_sum = in.f64();
  }
  r.compute_seconds = in.f64();
  r.queued_seconds = in.f64();
  in.expect_done("a round job's result");
  return r;
}

protocol::ScriptStep script_step(const RoundJob::Step& step, int64_t& server_steps) {
  switch (step.kind) {
    case 0: {
      std::vector<datasets::SampleAugment> draws(step.draws.size() / 3);
      for (size_t k = 0; k < draws.size(); ++k) {
        draws[k] = {step.draws[3 * k], step.draws[3 * k + 1], step.draws[3 * k + 2] != 0};
      }
      return protocol::ScriptedForward{step.indices, std::move(draws)};
    }
    case 1: return protocol::ScriptedServerStep{step.batch, server_steps++};  // the replica is the client's own
    default: return protocol::ScriptedApply{step.batch, step.with_gradient};
  }
}

RoundJobResult compute_round(const RoundJob& job, const supernet::Supernet& net, const datasets::ImageDataset& train) {
  const auto started = std::chrono::steady_clock::now();
  const Models make{net};
  protocol::ScriptedClient client;
  client.prefix = make.body(job.prefix, "a job's prefix");
  client.heads = make.heads(job.heads, "a job's head");
  if (job.own_body) client.own_body = make.body(*job.own_body, "a job's own network");
  client.own_heads = make.heads(job.own_heads, "a job's own head");
  fusion::LossAverages averages = fusion::LossAverages::restored(job.local_loss, job.server_loss);
  client.losses = &averages;
  client.sums = std::make_shared<protocol::RoundLosses>();
  client.objective = static_cast<protocol::Objective>(job.objective);
  client.optimizer = {job.learning_rate, job.momentum, job.weight_decay};
  client.lambda.rule = static_cast<fusion::LambdaRule>(job.lambda_rule);
  client.lambda.fixed_value = job.lambda_fixed;
  client.lambda.min = job.lambda_min;
  client.lambda.max = job.lambda_max;
  client.lambda.epsilon = job.lambda_epsilon;
  client.cut = job.cut;

  // Replayed into the chain this process would have computed, on this thread.
  const std::shared_ptr<protocol::RoundScript> script =
      make_chain_script(nullptr, train, net.architecture().unit_count());
  script->start_client(client);
  protocol::ScriptedServer server;
  if (job.replica) {
    server.model = std::make_shared<server::ServerModel>(
        net, config_of(*job.replica), job.replica->first, job.replica->last,
        protocol::OptimizerOptions{job.server_learning_rate, job.server_momentum, job.server_weight_decay});
    server.loss_sum = std::make_shared<double>(0.0);
    script->start_server(server);
  }
  int64_t server_steps = 0;
  for (const RoundJob::Step& step : job.steps) {
    if (step.kind == 1 && !job.replica) throw std::invalid_argument("a round job's server step has no replica");
    script->record(script_step(step, server_steps));
  }
  script->end_client();
  script->end_server();
  // Both sides: a server step whose gradient the client never got is not on its chain.
  script->server_done().wait();
  if (job.want_client) script->client_done().wait();

  RoundJobResult result;
  if (job.want_client) {
    result.has_client = true;
    result.prefix = body_data(*client.prefix);
    result.heads = heads_data(client.heads);
    if (client.own_body) result.own_body = body_data(*client.own_body);
    result.own_heads = heads_data(client.own_heads);
    result.local_loss = averages.local();
    result.server_loss = averages.server();
    result.local_sum = client.sums->local_sum;
    result.server_sum = client.sums->server_sum;
    result.local_batches = client.sums->local_batches;
    result.server_batches = client.sums->server_batches;
  }
  if (server.model && server_steps > 0) {
    result.has_server = true;
    result.replica = body_data(*server.model->suffix);
    result.server_loss_sum = *server.loss_sum;
  }
  result.compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace sflsim::cli
