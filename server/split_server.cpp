#include "server/split_server.hpp"

#include "simulator/core/in_order.hpp"

#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

#include <algorithm>
#include <cstdio>
#include <unordered_set>
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
                         int last_unit, const protocol::OptimizerOptions& options)
    : net_(net), config_(config), first_unit_(first_unit), last_unit_(last_unit), options_(options) {}

supernet::BodyPart& ServerModel::materialize() {
  if (!suffix) {
    suffix = std::make_shared<supernet::BodyPart>(net_.extract(config_, first_unit_, last_unit_));
    optimizer = std::make_unique<torch::optim::SGD>(suffix->slices().parameters(),
                                                    torch::optim::SGDOptions(options_.learning_rate)
                                                        .momentum(options_.momentum)
                                                        .weight_decay(options_.weight_decay));
  }
  return *suffix;
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
    const supernet::Architecture& arch = *order.plan.prefix->slices().architecture;
    const supernet::SubnetConfig& config = order.plan.prefix->config();
    const int64_t suffix_flops = model ? arch.forward_flops(config, cut + 1, arch.unit_count()) : 0;
    const int64_t activation_bytes = model ? arch.activation_bytes(config, cut) : 0;
    // The step tasks own what they use; the result leaves without waiting
    // for them (it carries the last one), like the client's upload.
    const std::shared_ptr<double> loss_sum = result.server_loss_sum.value;
    core::WorkTicket last_step;
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
      const int64_t batch_size = batch->labels.size(0);
      // The step runs as a task chained after the server model's previous one;
      // the gradient message carries it unfinished (its size is declared).
      protocol::Pending<protocol::ServerStep> step;
      step.ready = core::submit_work(setup.work, [model, loss_sum, previous = model->last_step,
                                                  activations = batch->features, labels = batch->labels,
                                                  batches_before = model->batches, out = step.value] {
        previous.wait();
        supernet::BodyPart& suffix = model->materialize();  // before reading its optimizer
        *out = train_suffix(suffix, *model->optimizer, activations.get(), labels, batches_before);
        *loss_sum += out->loss;
      }, core::Start::on_demand);  // run by the client's step that needs it
      model->last_step = last_step = step.ready;
      ++model->batches;
      co_await setup.device->compute(3 * suffix_flops * batch_size);
      ++result.server_batches;
      result.server_samples += batch_size;
      const int64_t bytes = batch_size * activation_bytes;
      auto sending = setup.downlink->send(protocol::CutGradient{round, batch->batch, step}, bytes);
      auto [lost] = co_await std::move(sending);
      if (!lost) {
        *setup.traffic.down += bytes;
        *setup.traffic.gradients += bytes;
      }
    }
    result.server_loss_sum.ready = last_step;
    if (result.server_batches > 0) result.server_model = model;
    auto reporting = setup.results->send(std::move(result), 0);
    co_await std::move(reporting);
  }
}

namespace {

// Waits for the upload's tasks (its weights and losses are final then).
fusion::ClientUpdate update_from(const protocol::ModelUpload& upload, int round) {
  fusion::ClientUpdate update;
  update.samples = upload.samples;
  const protocol::RoundLosses& losses = upload.trained.get();
  update.mean_loss = losses.mean_server() >= 0 ? losses.mean_server() : losses.mean_local();
  update.staleness = round - upload.round_trained;
  update.slices = {&upload.prefix->slices()};
  for (const auto& head : upload.heads) update.slices.push_back(&head->slices());
  return update;
}

}  // namespace

asio::awaitable<void> run_coordinator(core::Simulation& sim, const CoordinatorSetup& setup) {
  supernet::Supernet& net = *setup.supernet;
  const int unit_count = net.architecture().unit_count();
  SimDuration last_period{};
  std::unordered_set<int> has_own_model;  // RaFL: clients known to hold their own network
  // Evaluates the supernet when the round is due for it, then reports the round.
  const auto report = [&](RoundSummary& summary) {
    if (summary.round % setup.eval_every == 0 || summary.round == setup.rounds) {
      std::tie(summary.test_accuracy, summary.test_loss) = setup.evaluate(net);
      summary.evaluated = true;
    }
    setup.on_round(summary);
  };
  for (int round = 1; round <= setup.rounds; ++round) {
    const SimTime start = sim.now();
    const std::vector<int>& selected = setup.selected[static_cast<size_t>(round)];
    std::vector<ClientAssignment> assignments;
    SimDuration longest{1}, sum{1};
    for (int c : selected) {
      assignments.push_back(setup.assignment(c));
      longest = std::max(longest, assignments.back().expected_round_time);
      sum += assignments.back().expected_round_time;
    }
    // Clients run side by side (the slowest sets the pace), or one after another (SL).
    const SimDuration pace = setup.sequential ? sum : longest;
    const SimDuration period{static_cast<int64_t>(static_cast<double>(pace.count()) * setup.timeout_factor)};

    if (setup.outage_round && setup.outage_round(round)) {
      int outage_rounds = 1;
      while (round + outage_rounds <= setup.rounds && setup.outage_round(round + outage_rounds)) ++outage_rounds;
      const SimDuration length = last_period.count() > 0 ? last_period : period;
      setup.begin_outage(start, start + length * outage_rounds);
      for (int k = 0; k < outage_rounds; ++k, ++round) {
        co_await sim.sleep_for(length);
        RoundSummary summary;
        summary.round = round;
        summary.end = sim.now();
        summary.outage = true;
        summary.clients_failed = static_cast<int>(setup.selected[static_cast<size_t>(round)].size());
        report(summary);
      }
      --round;
      continue;
    }

    const SimTime deadline = start + period;
    std::shared_ptr<ServerModel> shared;  // SFL-V2's and SL's one server model for the round
    // The order for the i-th selected client; the plan carries the round's
    // deadline (the client's due dates), the session stops at `session_deadline`.
    const auto make_order = [&](size_t i, SimTime session_deadline) {
      const int c = selected[i];
      const ClientAssignment& a = assignments[i];
      protocol::RoundPlan plan;
      plan.round = round;
      plan.cut = a.cut;
      plan.split = a.split;
      plan.prefix = std::make_shared<supernet::BodyPart>(net.extract(a.config, 1, a.cut));
      for (int cut : a.head_cuts) plan.heads.push_back(std::make_shared<supernet::LocalHead>(net.extract_head(a.config, cut)));
      if (a.own_config && !has_own_model.contains(c)) {
        plan.own_body = std::make_shared<supernet::BodyPart>(net.extract(*a.own_config, 1, a.own_depth));
        if (a.own_depth < unit_count) {
          plan.own_heads.push_back(std::make_shared<supernet::LocalHead>(net.extract_head(*a.own_config, a.own_depth)));
        }
      }
      plan.samples = a.samples;
      plan.deadline_ns = deadline.time_since_epoch().count();
      plan.round_period_ns = period.count();
      std::shared_ptr<ServerModel> model;
      if (a.split) {
        if (setup.shared_server_model && shared) {
          model = shared;
        } else {
          model = std::make_shared<ServerModel>(net, a.config, a.cut + 1, unit_count, setup.optimizer);
          if (setup.shared_server_model) shared = model;
        }
      }
      return SessionOrder{std::move(plan), std::move(model), session_deadline};
    };

    RoundSummary summary;
    summary.round = round;
    std::vector<SessionResult> results;
    // Each result's trained copies are folded into the round's sum once its
    // tasks are done (in the order the results came, which sets the sum's
    // rounding), and its server replica is freed then: replicas of finished
    // clients do not wait for the slowest one, nor the simulation for them.
    supernet::WriteBack round_sum(net);
    core::InOrder folds(setup.work);  // after round_sum: waited for before it goes
    const auto fold = [&](SessionResult& r) {
      std::vector<core::WorkTicket> inputs;
      if (r.upload) inputs.push_back(r.upload->trained.ready);
      inputs.push_back(r.server_loss_sum.ready);
      for (const protocol::ModelUpload& stale : r.stale_uploads) inputs.push_back(stale.trained.ready);
      std::optional<protocol::ModelUpload> upload;
      if (!setup.sequential) upload = r.upload;  // SL aggregated it already
      std::shared_ptr<ServerModel> replica;
      if (!setup.shared_server_model) replica = std::move(r.server_model);
      folds.add(std::move(inputs), [&round_sum, &options = setup.aggregation, round, stale = r.stale_uploads,
                                    upload = std::move(upload), replica = std::move(replica),
                                    samples = r.server_samples, batches = r.server_batches,
                                    loss_sum = r.server_loss_sum] {
        for (const protocol::ModelUpload& s : stale) fusion::fold(round_sum, update_from(s, round), options);
        fusion::ClientUpdate update;
        if (upload) update = update_from(*upload, round);
        if (replica) {
          update.slices.push_back(&replica->suffix->slices());
          if (!upload) {
            update.samples = samples;
            update.mean_loss = loss_sum.get() / static_cast<double>(batches);
          }
        }
        if (!update.slices.empty()) fusion::fold(round_sum, update, options);
      });
    };
    const auto collect = [&]() -> asio::awaitable<bool> {
      auto received_result = co_await setup.results->receive_until(core::kNever);
      auto& [error, result] = received_result;
      if (error) co_return false;
      if (result.plan_delivered) has_own_model.insert(result.client);
      results.push_back(std::move(result));
      co_return true;
    };
    if (!setup.sequential) {
      for (size_t i = 0; i < selected.size(); ++i) {
        auto ordering = setup.orders[static_cast<size_t>(selected[i])]->send(make_order(i, deadline), 0);
        co_await std::move(ordering);
      }
      for (size_t i = 0; i < selected.size(); ++i) {
        if (!co_await collect()) break;
        fold(results.back());
      }
    } else {
      // SL: one client at a time, each given its own share of the round, and
      // its prefix replaces the supernet's before the next one starts.
      for (size_t i = 0; i < selected.size(); ++i) {
        const SimDuration turn{static_cast<int64_t>(static_cast<double>(assignments[i].expected_round_time.count()) *
                                                    setup.timeout_factor)};
        auto ordering = setup.orders[static_cast<size_t>(selected[i])]->send(make_order(i, sim.now() + turn), 0);
        co_await std::move(ordering);
        if (!co_await collect()) break;
        if (results.back().upload) {
          const fusion::ClientUpdate update = update_from(*results.back().upload, round);
          fusion::aggregate(net, std::span(&update, 1), setup.aggregation);
        }
        fold(results.back());
      }
    }
    folds.wait();  // every session's tasks are done: uploads and losses are final
    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.client < b.client; });

    double loss_sum = 0.0, local_loss_sum = 0.0;
    int64_t loss_batches = 0, local_samples = 0;
    std::vector<const protocol::ModelUpload*> uploads;
    for (const SessionResult& r : results) {
      if (r.upload) {
        local_loss_sum += r.upload->trained.get().mean_local() * static_cast<double>(r.upload->samples);
        local_samples += r.upload->samples;
      }
      for (const protocol::ModelUpload& stale : r.stale_uploads) uploads.push_back(&stale);
      if (r.upload && !setup.sequential) uploads.push_back(&*r.upload);
      loss_sum += r.server_loss_sum.get();
      loss_batches += r.server_batches;
      ++(r.upload ? summary.clients_ok : summary.clients_failed);
    }
    round_sum.apply();
    if (shared && shared->batches > 0) {
      // SFL-V2: the one server model replaces the supernet's suffix (not averaged).
      shared->last_step.wait();
      const supernet::Contribution replace{&shared->suffix->slices(), 1.0};
      net.write_back(std::span(&replace, 1));
    }
    if (setup.server_update && !uploads.empty()) {
      const int64_t flops = setup.server_update(net, uploads);
      co_await setup.device->compute(flops);
    }
    last_period = sim.now() - start;
    summary.end = sim.now();
    summary.train_loss = loss_batches > 0   ? loss_sum / static_cast<double>(loss_batches)
                         : local_samples > 0 ? local_loss_sum / static_cast<double>(local_samples)
                                             : 0.0;
    report(summary);
  }
}

}  // namespace sflsim::server
