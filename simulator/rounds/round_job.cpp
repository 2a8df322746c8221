#include "simulator/rounds/round_job.hpp"

#include "client/local_trainer.hpp"
#include "datasets/dataset.hpp"
#include "server/session.hpp"
#include "simulator/parts/part_codec.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>

#include <chrono>
#include <map>
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

RoundJobResult compute_round(const RoundJob& job, const supernet::Supernet& net, const datasets::ImageDataset& train) {
  const auto started = std::chrono::steady_clock::now();
  const Models make{net};
  client::RoundModels models;
  models.prefix = make.body(job.prefix, "a job's prefix");
  models.heads = make.heads(job.heads, "a job's head");
  if (job.own_body) models.own_body = make.body(*job.own_body, "a job's own network");
  models.own_heads = make.heads(job.own_heads, "a job's own head");
  const std::unique_ptr<client::LocalTrainer> trainer = client::make_trainer(
      static_cast<protocol::Objective>(job.objective), models, {job.learning_rate, job.momentum, job.weight_decay});
  fusion::LossAverages averages = fusion::LossAverages::restored(job.local_loss, job.server_loss);
  fusion::LambdaPolicy lambda;
  lambda.rule = static_cast<fusion::LambdaRule>(job.lambda_rule);
  lambda.fixed_value = job.lambda_fixed;
  lambda.min = job.lambda_min;
  lambda.max = job.lambda_max;
  lambda.epsilon = job.lambda_epsilon;
  const int units = net.architecture().unit_count();
  protocol::RoundLosses sums;

  std::unique_ptr<server::ServerModel> replica;
  if (job.replica) {
    replica = std::make_unique<server::ServerModel>(
        net, config_of(*job.replica), job.replica->first, job.replica->last,
        protocol::OptimizerOptions{job.server_learning_rate, job.server_momentum, job.server_weight_decay});
  }
  double server_loss_sum = 0;
  int64_t server_steps = 0;

  std::vector<at::Tensor> features;  // by batch
  std::vector<at::Tensor> labels;
  std::map<int64_t, protocol::ServerStep> server_steps_by_batch;
  for (const RoundJob::Step& step : job.steps) {
    if (step.kind == 0) {
      std::vector<datasets::SampleAugment> draws(step.draws.size() / 3);
      for (size_t k = 0; k < draws.size(); ++k) {
        draws[k] = {step.draws[3 * k], step.draws[3 * k + 1], step.draws[3 * k + 2] != 0};
      }
      labels.push_back(datasets::batch_labels(train, step.indices));
      const at::Tensor images = datasets::make_batch(train, step.indices, draws).images;
      features.push_back(client::forward_step(*trainer, averages, sums, images, labels.back()));
    } else if (step.kind == 1) {
      if (!replica || step.batch >= static_cast<int64_t>(features.size())) {
        throw std::invalid_argument("a round job's server step has no replica or no batch " + std::to_string(step.batch));
      }
      const size_t b = static_cast<size_t>(step.batch);
      const protocol::ServerStep out = replica->step(job.cut, features[b], labels[b], server_steps++);
      server_loss_sum += out.loss;
      server_steps_by_batch[step.batch] = out;
      features[b] = at::Tensor();  // the step was its only reader
    } else {
      const protocol::ServerStep* server_step = nullptr;
      if (step.with_gradient) {
        const auto found = server_steps_by_batch.find(step.batch);
        if (found == server_steps_by_batch.end()) {
          throw std::invalid_argument("a round job's fused step " + std::to_string(step.batch) + " has no server step");
        }
        server_step = &found->second;
      }
      client::fused_step(*trainer, averages, sums, server_step, lambda, job.cut, units);
      if (server_step) server_steps_by_batch.erase(step.batch);
    }
  }

  RoundJobResult result;
  if (job.want_client) {
    result.has_client = true;
    result.prefix = body_data(*models.prefix);
    result.heads = heads_data(models.heads);
    if (models.own_body) result.own_body = body_data(*models.own_body);
    result.own_heads = heads_data(models.own_heads);
    result.local_loss = averages.local();
    result.server_loss = averages.server();
    result.local_sum = sums.local_sum;
    result.server_sum = sums.server_sum;
    result.local_batches = sums.local_batches;
    result.server_batches = sums.server_batches;
  }
  if (replica && server_steps > 0) {
    result.has_server = true;
    result.replica = body_data(*replica->suffix);
    result.server_loss_sum = server_loss_sum;
  }
  result.compute_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace sflsim::cli
