#pragma once
// One Strategy per algorithm (after Flower's strategies). It owns what the
// algorithm decides and nothing else does:
//  (a) each client's part and behaviour: assign_parts() gives every client
//      its cut, subnet, classifiers and own network (or excludes it), and
//      client_behaviour() says what a client does when it is cut off;
//  (b) how the server trains the split clients' suffixes: which model each
//      session steps (server_model()), whether clients are served side by
//      side or one after another (serves_in_turns()), and so whether a
//      client's round may be computed apart from the others' (rounds_are_independent());
//  (c) how a round's results become the next supernet: fold() per client
//      result, in the order results arrive, then finish() once all are in
//      (SFL-V2's and SL's suffix replacement, RaFL's distillation).
//      aggregate() runs both as one pure step over results given as data,
//      failures included (a result without an upload);
//  (d) the round's nominal length and the gradient deadlines, from the same
//      integer cost functions that the devices and links charge.
// The runner's factory (simulator/strategy_factory.hpp) builds one per run
// from the scenario; no other code compares algorithm names.
//
// Virtual time: no call here takes any; finish() returns the server FLOPs it
// spent, which the coordinator charges on the server's Device.
// Errors: assign_parts throws std::invalid_argument (message "scenario:
// <JSON path>: ...") for a part the supernet cannot give; fold(), finish()
// and aggregate() rethrow the exception of a client's or server's task.
// Ownership: the strategy borrows nothing; results are the caller's.
#include "fusion/aggregation.hpp"
#include "server/client_profile.hpp"
#include "server/protocol.hpp"
#include "server/session.hpp"
#include "supernet/architecture.hpp"
#include "supernet/supernet.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace sflsim::server {

// How the server trains the suffixes of split clients.
enum class ServerMode {
  none,                // no client is split (FedAvg, HeteroFL, DepthFL, RaFL)
  replica_per_client,  // a replica per client, averaged into the supernet (SFL-V1, SuperSFL)
  shared,              // one model all sessions share, replacing the supernet's suffix (SFL-V2)
  shared_in_turns,     // the same, clients served one after another from the previous one's prefix (SL)
};

// How a scenario's cut policy picks a client's cut (spec §1.3).
struct CutRule {
  enum class Policy { resource, fixed, flops, memory };
  Policy policy = Policy::resource;
  double alpha = 0;                // layers per GB of memory (resource)
  double beta = 0;                 // weight of the latency rank (resource)
  int fixed = 0;                   // the cut (fixed)
  double flops_budget_gflops = 0;  // forward FLOPs per sample the prefix may cost (flops)
  // memory: the deepest prefix whose training memory (at the batch size) fits the device.
  // The SL/SFL baselines' one cut: `fixed`, or (weakest_fits) the memory cut of the smallest device.
  bool weakest_fits = false;
};

// What every strategy is built with; filled from the scenario by the
// runner's factory (the defaults are the scenario's, simulator/scenario.hpp).
struct StrategyOptions {
  uint64_t seed = 0;                // RaFL's architecture draws
  int batch_size = 0;               // of the clients' training: memory needs and costs
  int64_t server_flops_per_s = 0;   // the server Device's, for nominal costs
  double timeout_factor = 0;        // deadlines = factor x the nominal time
  CutRule cut;                      // SuperSFL's cut policy; the SL/SFL baselines use its fixed cut
  bool include_excluded = false;    // train clients whose memory cannot hold their fixed part anyway
  fusion::AggregationOptions aggregation;  // SuperSFL's; the baselines average by sample count
  bool shared_server = false;              // SuperSFL: one shared server model instead of replicas (spec §1.6)
  protocol::OptimizerOptions server_optimizer;  // of the server-side models
};

// Everything a round produced, as data, sorted by client. A failure is a
// result without an upload; its server replica (if it saw batches) still counts.
struct RoundResults {
  int round = 0;
  std::vector<SessionResult>* results = nullptr;
  std::shared_ptr<ServerModel> shared_model;  // SFL-V2's and SL's model of the round (null otherwise)
};

class Strategy {
 public:
  explicit Strategy(StrategyOptions options) : options_(std::move(options)) {}
  virtual ~Strategy() = default;
  Strategy(const Strategy&) = delete;
  Strategy& operator=(const Strategy&) = delete;

  const StrategyOptions& options() const { return options_; }

  // (a) Fills the part and the nominal costs of every profile (device fields
  // and samples must be set). Returns the subnet the server evaluates: the
  // whole supernet, or RaFL's knowledge network. Call once.
  supernet::SubnetConfig assign_parts(const supernet::Architecture& arch, std::vector<ClientProfile>& profiles);
  virtual protocol::ClientBehaviour client_behaviour() const { return {}; }

  // (b) The suffix model the session of split client `client` trains this
  // round: a replica of its own, or the one model every session of the round
  // shares (`round_shared`: null at the round's start, made at its first split
  // client and kept there, starting after the shallowest cut of `round_clients`).
  // Null for a client that is not split.
  std::shared_ptr<ServerModel> server_model(const supernet::Supernet& net, const ClientProfile& client,
                                            const std::vector<const ClientProfile*>& round_clients,
                                            std::shared_ptr<ServerModel>& round_shared) const;
  // Whether the round's clients are served one after another, each in a turn
  // of its own, from the previous one's upload (SL); otherwise side by side.
  bool serves_in_turns() const { return server_mode() == ServerMode::shared_in_turns; }
  // Whether a client's round depends on no other client's (no server model
  // is shared between them), so it may be computed in another process.
  bool rounds_are_independent() const {
    return server_mode() == ServerMode::none || server_mode() == ServerMode::replica_per_client;
  }

  // (d) The time the server gives a round from its start (shared_in_turns:
  // a turn, for one client) = timeout_factor x the nominal pace.
  core::SimDuration round_period(const std::vector<const ClientProfile*>& selected) const;
  core::SimDuration turn_period(const ClientProfile& client) const;

  // (c) Adds one client's trained copies to the round's sum (called from a
  // task, in the order results arrive; const and thread-safe).
  virtual void fold(supernet::WriteBack& sum, const SessionResult& result, int round) const;
  // shared_in_turns: writes a client's upload into the supernet before the
  // next turn, so nothing of the turn is left for the round's sum (late
  // uploads are dropped: SL, the one strategy that takes turns, does not
  // reintegrate them).
  virtual void after_turn(supernet::Supernet& net, const SessionResult& result, int round) const;
  // Applies the sum and any server-side step; returns the server FLOPs that
  // step spent (nullopt: the algorithm has none).
  virtual std::optional<int64_t> finish(supernet::Supernet& net, supernet::WriteBack& sum,
                                        const RoundResults& round) const;
  // Whether uploads that arrive rounds late (deferred after a failure, or
  // delivered after their round's deadline) are folded in with the staleness
  // discount (SuperSFL), or dropped: the baselines' clients miss the round.
  virtual bool reintegrates_late_uploads() const { return false; }
  // Readies the evaluated model (HeteroFL re-estimates BatchNorm statistics).
  virtual void prepare_evaluation(supernet::BodyPart& /*model*/) const {}

  // fold() for each result in order, then finish(): the whole step at once.
  // (shared_in_turns: the uploads were written by after_turn during the round.)
  std::optional<int64_t> aggregate(supernet::Supernet& net, const RoundResults& round) const;

 protected:
  // What the server side above is decided from: the algorithm's, and no one else's.
  virtual ServerMode server_mode() const = 0;
  // shared modes: whether the one model serves clients of different cuts
  // (ServerModel's by_unit); it then starts after the round's shallowest cut.
  virtual bool server_steps_by_unit() const { return false; }
  // What every client's part is decided from.
  struct Fleet {
    double largest_memory_gb = 0;
    double smallest_memory_gb = 0;
    int64_t fastest_flops_per_s = 1;
    core::SimDuration latency_min{}, latency_max{};
  };
  // Sets p's cut, split, config, head_cuts and own network (p.config starts
  // as the whole supernet, head_cuts empty, split true).
  virtual void assign_part(const supernet::Architecture& arch, const Fleet& fleet, int client,
                           ClientProfile& p) = 0;
  // After every part is known; returns the evaluated subnet (default: the whole supernet).
  virtual supernet::SubnetConfig settle_parts(const supernet::Architecture& arch, std::vector<ClientProfile>& profiles);
  // Whether a client whose memory cannot hold its part is left out (the
  // algorithms with one shape for all; the others size the part to the device).
  virtual bool excludes_misfits() const { return false; }
  // Its aggregation weights (SuperSFL's performance factor, or plain sample counts).
  virtual fusion::AggregationOptions aggregation() const;

  // The contribution of an upload (waits for its tasks).
  fusion::ClientUpdate update_from(const protocol::ModelUpload& upload, int round) const;
  // What the server side trained for a result with server batches: its samples
  // and mean server loss, no slices (waits for the session's steps).
  fusion::ClientUpdate server_side_update(const SessionResult& result) const;

 private:
  StrategyOptions options_;
};

}  // namespace sflsim::server
