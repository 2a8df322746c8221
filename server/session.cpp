#include "server/session.hpp"

#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

#include <variant>

namespace sflsim::server {

namespace asio = boost::asio;
using core::SimDuration;
using core::SimTime;

namespace {

// The server-side replica's training step on one batch of activations.
// `batches_before` sets the BatchNorm momentum so running statistics are the
// mean over the round's batches (as on the client side).
protocol::ServerStep train_suffix(supernet::BodyPart& suffix, torch::optim::SGD& optimizer,
                                  const at::Tensor& activations, const at::Tensor& labels, int64_t batches_before) {
  const at::Tensor features = activations.detach().requires_grad_(true);
  optimizer.zero_grad();
  const double momentum = 1.0 / static_cast<double>(batches_before + 1);
  const at::Tensor loss = at::cross_entropy_loss(suffix.forward(features, supernet::Mode::train, momentum), labels);
  loss.backward();
  optimizer.step();
  return {features.grad(), loss.item<double>()};
}

}  // namespace

ServerModel::ServerModel(const supernet::Supernet& net, const supernet::SubnetConfig& config, int first_unit,
                         int last_unit, const protocol::OptimizerOptions& options, bool by_unit)
    : net_(net), config_(config), first_unit_(first_unit), last_unit_(last_unit), options_(options), by_unit_(by_unit) {}

supernet::BodyPart& ServerModel::materialize() {
  if (!suffix) {
    suffix = std::make_shared<supernet::BodyPart>(net_.extract(config_, first_unit_, last_unit_));
    optimizer = std::make_unique<torch::optim::SGD>(suffix->slices().parameters(),
                                                    torch::optim::SGDOptions(options_.learning_rate)
                                                        .momentum(options_.momentum)
                                                        .weight_decay(options_.weight_decay));
    if (by_unit_) {
      // The suffix's tensors are its units' in order, so each unit is the next run of them.
      const supernet::SliceSet& all = suffix->slices();
      size_t begin = 0;
      for (int unit = first_unit_; unit <= last_unit_; ++unit) {
        std::vector<int> ids = all.architecture->body_spec_ids(unit, unit);
        const size_t end = begin + ids.size();
        std::vector<at::Tensor> tensors(all.tensors.begin() + static_cast<std::ptrdiff_t>(begin),
                                        all.tensors.begin() + static_cast<std::ptrdiff_t>(end));  // the same tensors
        units_.emplace_back(supernet::SliceSet{all.architecture, all.config, std::move(ids), std::move(tensors)}, unit, unit);
        begin = end;
      }
      unit_batches_.assign(units_.size(), 0);
    }
  }
  return *suffix;
}

protocol::ServerStep ServerModel::step(int cut, const at::Tensor& activations, const at::Tensor& labels,
                                      int64_t batches_before) {
  materialize();
  if (!by_unit_) return train_suffix(*suffix, *optimizer, activations, labels, batches_before);
  const at::Tensor features = activations.detach().requires_grad_(true);
  // Units this batch does not reach keep no gradient, so the step leaves them
  // (and their momentum) alone.
  for (at::Tensor& p : suffix->slices().parameters()) p.mutable_grad() = at::Tensor();
  at::Tensor x = features;
  for (int unit = cut + 1; unit <= last_unit_; ++unit) {
    const size_t i = static_cast<size_t>(unit - first_unit_);
    x = units_.at(i).forward(x, supernet::Mode::train, 1.0 / static_cast<double>(++unit_batches_[i]));
  }
  const at::Tensor loss = at::cross_entropy_loss(x, labels);
  loss.backward();
  optimizer->step();
  return {features.grad(), loss.item<double>()};
}

const supernet::SliceSet& ServerModel::unit_slices(int unit) const {
  return units_.at(static_cast<size_t>(unit - first_unit_)).slices();
}

ServerModel::~ServerModel() = default;

asio::awaitable<void> run_session(const SessionSetup& setup) {
  while (true) {
    auto received_order = co_await setup.orders->receive_until(core::kNever);
    auto& [closed, order] = received_order;
    if (closed) co_return;
    const int round = order.plan.round;
    const int cut = order.plan.cut;
    SessionResult result;
    result.client = setup.client;
    result.round = round;
    result.cut = cut;

    const int64_t plan_bytes = protocol::plan_bytes(order.plan);
    // Operations are built before co_await: GCC 12 destroys non-trivial
    // temporaries of a co_await expression twice.
    auto sending_plan = setup.downlink->send(order.plan, plan_bytes);
    auto [undelivered] = co_await std::move(sending_plan);
    result.plan_delivered = !undelivered;
    if (result.plan_delivered) {
      *setup.traffic.down += plan_bytes;
      *setup.traffic.weights += plan_bytes;
    }

    const std::shared_ptr<ServerModel>& model = order.server_model;  // null: the client trains alone, sends no batch
    const std::shared_ptr<protocol::RoundScript>& script = order.plan.script;
    const supernet::BatchCharges charges =
        model ? protocol::part_charges(*order.plan.prefix, cut, {}, nullptr) : supernet::BatchCharges{};
    // The steps are recorded into the client's script, which computes them;
    // the result leaves without waiting for them (it carries their end), like
    // the client's upload.
    const std::shared_ptr<double> loss_sum = result.server_loss_sum.value;
    while (!result.upload) {
      auto received_message = co_await setup.uplink->receive_until(order.deadline);
      auto& [late, message] = received_message;
      if (late) break;
      if (auto* upload = std::get_if<protocol::ModelUpload>(&message)) {
        if (upload->round_trained == round) {
          result.upload = std::move(*upload);
        } else {
          result.stale_uploads.push_back(std::move(*upload));
        }
        continue;
      }
      auto* batch = std::get_if<protocol::Activations>(&message);
      if (batch == nullptr || batch->round != round || model == nullptr) continue;  // from an earlier round
      if (result.server_batches == 0) {
        script->start_server({model, loss_sum});  // the script opens at the first batch
      }
      script->record(protocol::ScriptedServerStep{batch->batch, model->batches++});
      co_await setup.device->compute(charges.server_step(batch->samples));
      ++result.server_batches;
      result.server_samples += batch->samples;
      const int64_t bytes = charges.gradient_down(batch->samples);
      auto sending = setup.downlink->send(protocol::CutGradient{round, batch->batch}, bytes);
      auto [lost] = co_await std::move(sending);
      if (!lost) {
        *setup.traffic.down += bytes;
        *setup.traffic.gradients += bytes;
      }
    }
    script->end_server();
    if (result.server_batches > 0) {
      result.server_loss_sum.ready = script->server_done();
      result.server_model = model;
    }
    auto reporting = setup.results->send(std::move(result), 0);
    co_await std::move(reporting);
  }
}

}  // namespace sflsim::server
