#include "simulator/rounds/chain_rounds.hpp"

#include "client/local_trainer.hpp"
#include "datasets/dataset.hpp"
#include "server/session.hpp"

#include <ATen/ATen.h>

#include <mutex>
#include <stdexcept>
#include <variant>

namespace sflsim::cli {

namespace {

// What the client's tasks share: its side as recorded, and the trainer its
// first task makes (once the previous chain is done with the models).
struct ClientChain {
  protocol::ScriptedClient side;
  const datasets::ImageDataset* train = nullptr;
  int units = 0;
  std::unique_ptr<client::LocalTrainer> made;

  client::LocalTrainer& trainer() {
    if (!made) {
      made = client::make_trainer(side.objective, {side.prefix, side.heads, side.own_body, side.own_heads},
                                  side.optimizer);
    }
    return *made;
  }
};

// One batch as its tasks hand it on: the forward task's features, read by
// the server's step, whose gradient the fused step reads.
struct Batch {
  at::Tensor labels;
  std::shared_ptr<at::Tensor> features = std::make_shared<at::Tensor>();
  core::WorkTicket forwarded;
  std::shared_ptr<protocol::ServerStep> step = std::make_shared<protocol::ServerStep>();
  core::WorkTicket stepped;
  bool server_stepped = false;  // a server step on it was recorded
};

// The last task of one side, known once the side ends; the side's ticket
// (made before any step) waits for it.
struct SideEnd {
  std::mutex mutex;
  core::WorkTicket last;
  bool ended = false;
  const char* side = "";

  void wait() {
    core::WorkTicket ticket;
    {
      const std::lock_guard lock(mutex);
      if (!ended) throw std::logic_error(std::string("a round's ") + side + " was waited for before it ended");
      ticket = last;
    }
    ticket.wait();
  }
  void end(core::WorkTicket at) {
    const std::lock_guard lock(mutex);
    last = std::move(at);
    ended = true;
  }
};

core::WorkTicket ticket_for(const std::shared_ptr<SideEnd>& end) {
  return core::submit_work(nullptr, [end] { end->wait(); }, core::Start::on_demand);
}

class ChainScript final : public protocol::RoundScript {
 public:
  ChainScript(core::WorkPool* work, const datasets::ImageDataset& train, int units)
      : work_(work), train_(train), units_(units), client_done_(ticket_for(client_end_)),
        server_done_(ticket_for(server_end_)) {
    client_end_->side = "client side";
    server_end_->side = "server side";
  }

  void start_client(protocol::ScriptedClient side) override {
    client_ = std::make_shared<ClientChain>(ClientChain{std::move(side), &train_, units_, nullptr});
    client_last_ = client_->side.previous;
  }
  void start_server(protocol::ScriptedServer side) override { server_ = std::move(side); }

  void record(protocol::ScriptStep step) override {
    std::visit([this](auto& s) { add(s); }, step);
  }
  void end_client() override { client_end_->end(client_last_); }
  void end_server() override { server_end_->end(server_last_); }
  const core::WorkTicket& client_done() const override { return client_done_; }
  const core::WorkTicket& server_done() const override { return server_done_; }

 private:
  void add(protocol::ScriptedForward& forward) {
    if (!client_) throw std::logic_error("a forward step was recorded before the client's side started");
    Batch& batch = batches_.emplace_back();
    batch.labels = datasets::batch_labels(train_, forward.indices);
    batch.forwarded = client_last_ = core::submit_work(
        work_, [client = client_, indices = std::move(forward.indices), draws = std::move(forward.draws),
                labels = batch.labels, out = batch.features, previous = client_last_] {
          previous.wait();
          const at::Tensor images = datasets::make_batch(*client->train, indices, draws).images;
          *out = client::forward_step(client->trainer(), *client->side.losses, *client->side.sums, images, labels);
        },
        core::Start::on_demand);
  }

  void add(const protocol::ScriptedServerStep& server_step) {
    if (!server_.model) throw std::logic_error("a server step was recorded before the server's side started");
    const Batch& batch = at_batch(server_step.batch);
    server::ServerModel& model = *server_.model;
    server_last_ = model.last_step = core::submit_work(
        work_, [model = server_.model, loss_sum = server_.loss_sum, cut = client_->side.cut,
                features = batch.features, forwarded = batch.forwarded, labels = batch.labels, out = batch.step,
                batches_before = server_step.model_steps_before, previous = model.last_step] {
          previous.wait();
          forwarded.wait();
          *out = model->step(cut, *features, labels, batches_before);
          *features = at::Tensor();  // the step was its only reader
          *loss_sum += out->loss;
        },
        core::Start::on_demand);
    Batch& stepped = batches_[static_cast<size_t>(server_step.batch)];
    stepped.stepped = server_last_;
    stepped.server_stepped = true;
  }

  void add(const protocol::ScriptedApply& apply) {
    const Batch& batch = at_batch(apply.batch);
    std::shared_ptr<protocol::ServerStep> step;
    core::WorkTicket stepped;
    if (apply.with_gradient) {
      if (!batch.server_stepped) {
        throw std::logic_error("a fused step with the gradient of batch " + std::to_string(apply.batch) +
                               " was recorded before its server step");
      }
      step = batch.step;
      stepped = batch.stepped;
    }
    client_last_ = core::submit_work(
        work_, [client = client_, step = std::move(step), stepped = std::move(stepped), previous = client_last_] {
          previous.wait();
          stepped.wait();
          client::fused_step(client->trainer(), *client->side.losses, *client->side.sums, step.get(),
                             client->side.lambda, client->side.cut, client->units);
          if (step) *step = {};  // the fused step was the gradient's only reader
        },
        core::Start::on_demand);
  }

  const Batch& at_batch(int64_t index) const {
    if (index < 0 || index >= static_cast<int64_t>(batches_.size())) {
      throw std::logic_error("a step of batch " + std::to_string(index) + " was recorded before its forward step");
    }
    return batches_[static_cast<size_t>(index)];
  }

  core::WorkPool* work_;
  const datasets::ImageDataset& train_;
  int units_;
  std::shared_ptr<ClientChain> client_;
  protocol::ScriptedServer server_;
  std::vector<Batch> batches_;
  core::WorkTicket client_last_;
  core::WorkTicket server_last_;
  std::shared_ptr<SideEnd> client_end_ = std::make_shared<SideEnd>();
  std::shared_ptr<SideEnd> server_end_ = std::make_shared<SideEnd>();
  core::WorkTicket client_done_;
  core::WorkTicket server_done_;
};

}  // namespace

std::shared_ptr<protocol::RoundScript> make_chain_script(core::WorkPool* work, const datasets::ImageDataset& train,
                                                         int units) {
  return std::make_shared<ChainScript>(work, train, units);
}

}  // namespace sflsim::cli
