#pragma once
// A scenario as plain option structs with their defaults. JSON is mapped onto
// these in scenario_schema.cpp (the one place that lists every key, its type,
// range, default and meaning); nothing below the runner sees JSON. A default
// that the code it configures has already is taken from there, not repeated.
#include "fusion/aggregation_options.hpp"
#include "fusion/lambda_policy.hpp"
#include "server/optimizer_options.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sflsim::cli {

struct DatasetOptions {
  std::string name = "fashion-mnist";
  std::string dir;                  // empty: the dataset's standard location
  std::string partition = "dirichlet";
  double alpha = 0.5;               // Dirichlet concentration (dirichlet, quantity)
  int classes_per_client = 2;       // shards
  bool augment = true;
  double train_fraction = 1.0;      // use the first fraction of the training set (quick experiments)
};

struct ModelOptions {
  double width_multiplier = 0.25;   // 1.0 = ResNet-18
};

struct TrainingOptions {
  int rounds = 10;
  int local_epochs = 1;
  int batch_size = 32;
  double learning_rate = protocol::OptimizerOptions{}.learning_rate;
  double momentum = protocol::OptimizerOptions{}.momentum;
  double weight_decay = protocol::OptimizerOptions{}.weight_decay;
  int64_t max_samples_per_round = 0;  // per client; 0 = all of its samples
  int eval_every = 1;                 // rounds between test-set evaluations
  int64_t eval_samples = 0;           // 0 = the whole test set
  double target_accuracy = 0.0;       // 0 = none; summary reports rounds and time to reach it
};

// A class of devices; clients are assigned to tiers by fraction.
struct DeviceTier {
  std::string name = "phone";
  double fraction = 1.0;
  double memory_gb = 4.0;
  double gflops = 20.0;              // sustained training throughput
  std::string network = "4g";        // a built-in profile: 3g, 4g, 5g, wifi, lan
  double idle_w = 0.5;
  double compute_w = 5.0;
  double transmit_w = 1.0;
  double receive_w = 1.0;
};

struct ClientOptions {
  int count = 20;
  double participation = 1.0;        // fraction of clients selected each round
  std::string network = "per-tier";  // or one profile name for every client
  std::vector<DeviceTier> tiers{DeviceTier{}};
};

struct ServerOptions {
  double gflops = 2000.0;
  int concurrency = 8;               // suffix jobs computed at once
  double ingress_mbps = 1000.0;      // shared by all uploads
  double egress_mbps = 1000.0;       // shared by all downloads
};

struct CutOptions {
  std::string policy = "resource";   // resource (spec §1.3), fixed, flops, memory
  double alpha = 0.5;                // layers per GB of memory
  double beta = 4.0;                 // weight of the latency rank
  int fixed = 3;                     // the cut for policy "fixed"
  double flops_budget_gflops = 1.0;  // policy "flops": deepest prefix whose forward FLOPs per sample fit
  std::string baseline = "fixed";    // SL/SFL's one cut: "fixed" (misfits excluded) or "weakest" (the weakest device's)
};

struct RaflOptions {
  int proxy_samples = 1024;          // server-held unlabelled training images for ensemble distillation
  double temperature = 20.0;         // of the distillation
  int distill_epochs = 1;            // passes over the proxy set per round
  double learning_rate = 0.001;      // of the server's distillation (SGD, momentum 0.9; FedDF's step size)
};

struct AlgorithmOptions {
  std::string name = "supersfl";
  CutOptions cut;
  std::string lambda{fusion::to_string(fusion::LambdaPolicy{}.rule)};
  double lambda_fixed = fusion::LambdaPolicy{}.fixed_value;
  std::string server_side = "replicas";  // SuperSFL: "replicas" (one per client) or "shared" (one model, spec §1.6)
  bool performance_weights = fusion::AggregationOptions{}.performance_weighting;  // false = FedAvg's n_i
  double temperature = fusion::AggregationOptions{}.temperature;                  // performance factor tau
  double staleness_gamma = fusion::AggregationOptions{}.staleness_gamma;
  double timeout_factor = 2.0;       // gradient deadline = factor x expected round trip
  bool include_excluded = false;     // baselines: train clients whose memory cannot hold their part anyway
  RaflOptions rafl;
};

struct ServerOutage {
  int start_round = 1;
  int rounds = 1;
};

struct LinkDown {
  int client = 0;
  double start_s = 0.0;
  double duration_s = 0.0;
};

struct Crash {
  int client = 0;
  double at_s = 0.0;
  double rejoin_after_s = -1.0;      // < 0: never rejoins
};

struct FaultOptions {
  double drop_probability = 0.0;
  std::vector<ServerOutage> server_outages;
  std::vector<LinkDown> link_down;
  std::vector<Crash> crashes;
};

struct Scenario {
  std::string name = "scenario";
  uint64_t seed = 1;
  DatasetOptions dataset;
  ModelOptions model;
  TrainingOptions training;
  ClientOptions clients;
  ServerOptions server;
  AlgorithmOptions algorithm;
  FaultOptions faults;
};

}  // namespace sflsim::cli
