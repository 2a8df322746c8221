#pragma once
// Round scripts (server/round_script.hpp) for tests that play a client or a
// server by hand. A HandScript keeps what was recorded; the test hands it
// each batch's activations and labels before the batch is sent, and a
// session's server step on that batch runs at once on them (its outcome kept
// by batch). Client steps are only recorded. Its tickets are done from the
// start: whatever it computes is computed when it is recorded.
#include "server/round_script.hpp"
#include "server/session.hpp"

#include <ATen/ATen.h>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

namespace sflsim::test {

class HandScript final : public protocol::RoundScript {
 public:
  explicit HandScript(int cut) : cut_(cut) {}

  void start_client(protocol::ScriptedClient side) override { client = std::move(side); }
  void start_server(protocol::ScriptedServer side) override { server = std::move(side); }
  void record(protocol::ScriptStep step) override {
    if (const auto* s = std::get_if<protocol::ScriptedServerStep>(&step)) {
      if (!server) throw std::logic_error("a server step before the server's side started");
      const auto& [features, labels] = inputs.at(s->batch);
      const protocol::ServerStep out = server->model->step(cut_, features, labels, s->model_steps_before);
      *server->loss_sum += out.loss;
      outcomes[s->batch] = out;
    }
    steps.push_back(std::move(step));
  }
  void end_client() override { client_ended = true; }
  void end_server() override { server_ended = true; }
  const core::WorkTicket& client_done() const override { return done_; }
  const core::WorkTicket& server_done() const override { return done_; }

  // The activations and labels of batch k (set by the test before it sends the batch).
  std::map<int64_t, std::pair<at::Tensor, at::Tensor>> inputs;
  std::map<int64_t, protocol::ServerStep> outcomes;  // of the server steps, by batch
  std::vector<protocol::ScriptStep> steps;
  std::optional<protocol::ScriptedClient> client;
  std::optional<protocol::ScriptedServer> server;
  bool client_ended = false;
  bool server_ended = false;

  template <typename Step>
  size_t count() const {
    size_t n = 0;
    for (const protocol::ScriptStep& s : steps) n += std::holds_alternative<Step>(s) ? 1 : 0;
    return n;
  }
  // How many fused steps had the server's gradient.
  size_t applied_with_gradient() const {
    size_t n = 0;
    for (const protocol::ScriptStep& s : steps) {
      if (const auto* a = std::get_if<protocol::ScriptedApply>(&s)) n += a->with_gradient ? 1 : 0;
    }
    return n;
  }

 private:
  int cut_;
  core::WorkTicket done_;
};

// Opens HandScripts and keeps them, by client and round, in the order opened.
class HandRunner final : public protocol::ScriptRunner {
 public:
  explicit HandRunner(int cut) : cut_(cut) {}
  void begin_round(const supernet::Supernet& /*net*/, int /*round*/) override {}
  std::shared_ptr<protocol::RoundScript> open(int client, int round) override {
    auto script = std::make_shared<HandScript>(cut_);
    opened[{client, round}].push_back(script);
    return script;
  }
  std::map<std::pair<int, int>, std::vector<std::shared_ptr<HandScript>>> opened;

 private:
  int cut_;
};

}  // namespace sflsim::test
