#pragma once
// The world a scenario describes, built and wired: data and its partition,
// the supernet, one Simulation with the server's device and bottleneck
// links, and per client a device, an uplink and a downlink, a cut and a
// schedule of rounds. The runner owns one World per run.
#include "client/client.hpp"
#include "datasets/dataset.hpp"
#include "server/client_profile.hpp"
#include "server/session.hpp"
#include "server/strategy.hpp"
#include "simulator/core/shared_bandwidth.hpp"
#include "simulator/core/simulation.hpp"
#include "simulator/core/work_pool.hpp"
#include "simulator/scenario/scenario.hpp"
#include "supernet/supernet.hpp"

#include <memory>
#include <vector>

namespace sflsim::cli {

// The scenario's data as a run uses it (train_fraction and eval_samples applied).
datasets::DatasetSplits load_world_data(const Scenario& scenario);
// The scenario's supernet on that data.
supernet::SupernetOptions supernet_options(const Scenario& scenario, const datasets::DatasetSplits& data);

struct World {
  // `threads` run the tensor work of clients, server sessions and evaluation
  // (each task on one thread with one LibTorch intra-op thread, so results do
  // not depend on the count); 1 = all of it on the simulation thread.
  explicit World(const Scenario& scenario, int threads = 1);
  World(const World&) = delete;
  World& operator=(const World&) = delete;
  ~World();

  const Scenario& scenario;
  datasets::DatasetSplits data;
  std::unique_ptr<supernet::Supernet> net;
  std::unique_ptr<server::Strategy> strategy;  // the scenario's algorithm
  supernet::SubnetConfig config;  // what is evaluated: the whole supernet (RaFL: its knowledge network)
  std::vector<std::vector<int64_t>> partition;
  std::vector<server::ClientProfile> profiles;  // parts assigned by the strategy
  std::vector<std::vector<int>> selected;  // by round, 1-based
  int excluded_clients = 0;

  std::unique_ptr<core::WorkPool> work;  // outlives the simulation, whose actors may hold tickets
  std::unique_ptr<core::Simulation> sim;
  core::EntityId server_entity{};
  core::Device* server_device = nullptr;
  core::SharedBandwidth* ingress = nullptr;
  core::SharedBandwidth* egress = nullptr;
  std::vector<core::Device*> devices;
  std::vector<client::Uplink*> uplinks;
  std::vector<client::Downlink*> downlinks;
  std::vector<server::OrderLink*> orders;
  std::vector<server::NoticeLink*> notices;
  server::ResultLink* results = nullptr;
  // Computes the clients' recorded rounds: in this process (rounds/chain_rounds.hpp)
  // unless use_scripts() gives another runner (rounds/remote_rounds.hpp);
  // declared before the client states whose tickets use it.
  std::unique_ptr<protocol::ScriptRunner> scripts;
  std::vector<client::ClientSetup> client_setups;
  std::vector<client::ClientState> client_states;
  std::vector<server::SessionSetup> session_setups;
  client::TrafficCounters traffic;

  // Replaces the script runner (before the run starts).
  void use_scripts(std::unique_ptr<protocol::ScriptRunner> runner);
  int64_t samples_per_round(int client) const;
  core::EntityId client_entity(int client) const { return core::EntityId{static_cast<uint64_t>(client) + 1}; }
};

}  // namespace sflsim::cli
