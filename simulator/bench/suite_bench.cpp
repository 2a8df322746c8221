#include "simulator/bench/suite_bench.hpp"

#include "datasets/compute_device.hpp"
#include "datasets/dataset.hpp"
#include "datasets/loaders.hpp"
#include "simulator/scenario/json_reader.hpp"
#include "simulator/run/run_scenario.hpp"
#include "supernet/reference_resnet.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <stdexcept>

#include <unistd.h>

namespace sflsim::cli {

namespace {

using Json = nlohmann::json;

// Peak resident set size of this process so far, bytes (VmHWM).
int64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

Scenario fmnist_scenario(int clients, const SuiteOptions& options) {
  Scenario s;
  s.name = "bench";
  s.dataset.name = "fashion-mnist";
  s.dataset.augment = false;
  s.model.width_multiplier = 0.25;
  s.training.rounds = options.rounds;
  s.training.eval_every = options.rounds;
  s.training.eval_samples = 1000;
  s.training.batch_size = 32;
  s.training.learning_rate = 0.1;
  s.training.max_samples_per_round = options.samples_per_client;
  s.clients.count = clients;
  s.clients.tiers = {DeviceTier{"phone", 1.0, 4.0, 25.0, "4g"}};
  return s;
}

// Runs `scenario` into a scratch directory; returns wall.csv's seconds per round.
std::vector<double> run_scratch(const Scenario& scenario, int threads) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("sflsim-bench-" + std::to_string(::getpid()));
  RunOptions run;
  run.out_dir = dir;
  run.progress = false;
  run.threads = threads;
  at::set_num_threads(1);
  run_scenario(scenario, run);
  std::ifstream wall(dir / "wall.csv");
  std::string line;
  std::getline(wall, line);
  std::vector<double> seconds;
  while (std::getline(wall, line)) seconds.push_back(std::stod(line.substr(line.find(',') + 1)));
  std::filesystem::remove_all(dir);
  return seconds;
}

// The simulator on `clients` clients: mean wall seconds of the rounds without evaluation.
Json simulator_child(int clients, const SuiteOptions& options) {
  std::vector<double> seconds = run_scratch(fmnist_scenario(clients, options), options.threads);
  seconds.pop_back();  // the evaluated round
  const double per_round = std::accumulate(seconds.begin(), seconds.end(), 0.0) / static_cast<double>(seconds.size());
  const double samples = static_cast<double>(clients) * options.samples_per_client;
  return {{"clients", clients}, {"wall_s_per_round", per_round}, {"samples_per_s", samples / per_round},
          {"peak_rss_bytes", peak_rss_bytes()}};
}

// The plain loop: the same data and model shape, one torch::nn ResNet, one SGD.
Json plain_child(const SuiteOptions& options) {
  at::set_num_threads(options.threads);
  const datasets::DatasetSplits data = datasets::load_dataset("fashion-mnist", "");
  supernet::SupernetOptions net_options;
  net_options.in_channels = 1;
  net_options.image_height = net_options.image_width = 28;
  net_options.width_multiplier = 0.25;
  const supernet::Supernet net(net_options);
  const supernet::SubnetConfig config = net.architecture().full_config();
  supernet::ReferenceResNet plain(net.architecture(), config);
  plain->load_from(net.extract(config));
  plain->to(datasets::compute_device());
  plain->train();
  torch::optim::SGD sgd(plain->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
  const int64_t batch = 32;
  std::vector<int64_t> indices(static_cast<size_t>(batch));
  int64_t next = 0;
  const auto step = [&] {
    std::iota(indices.begin(), indices.end(), next);
    next = (next + batch) % (data.train.size() - batch);
    const datasets::Batch b = datasets::make_batch(data.train, indices, nullptr, nullptr);
    sgd.zero_grad();
    at::cross_entropy_loss(plain->forward(b.images), b.labels).backward();
    sgd.step();
  };
  for (int i = 0; i < 5; ++i) step();
  const int64_t samples = 100LL * options.samples_per_client;  // one round's worth at 100 clients
  const auto start = std::chrono::steady_clock::now();
  for (int64_t done = 0; done < samples; done += batch) step();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {{"samples_per_s", static_cast<double>(samples) / seconds}, {"peak_rss_bytes", peak_rss_bytes()}};
}

// Idle registered clients: one of them trains one short round.
Json memory_child(int clients, const SuiteOptions& options) {
  SuiteOptions one = options;
  one.rounds = 1;
  one.samples_per_client = 32;
  Scenario s = fmnist_scenario(clients, one);
  s.clients.participation = 1.0 / clients;
  s.training.eval_samples = 100;
  run_scratch(s, 1);
  return {{"clients", clients}, {"peak_rss_bytes", peak_rss_bytes()}};
}

Json run_child(const SuiteOptions& options, const std::string& what, int clients) {
  const std::string command = "'" + options.self + "' --threads " + std::to_string(options.threads) + " --device " +
                              datasets::compute_device().str() +
                              " bench " + what + " --child " + std::to_string(clients) + " --rounds " +
                              std::to_string(options.rounds) + " --samples " +
                              std::to_string(options.samples_per_client);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("bench: cannot start " + command);
  std::string out;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  if (::pclose(pipe) != 0) throw std::runtime_error("bench: child failed: " + command + "\n" + out);
  return Json::parse(out);
}

}  // namespace

std::string run_suite_child(const std::string& what, int clients, const SuiteOptions& options) {
  if (what == "memory") return memory_child(clients, options).dump();
  if (clients == 0) return plain_child(options).dump();
  return simulator_child(clients, options).dump();
}

std::string run_round_benchmark(const SuiteOptions& options) {
  const Json plain = run_child(options, "round", 0);
  Json rows = Json::array();
  for (int clients : options.clients) {
    Json row = run_child(options, "round", clients);
    row["ratio"] = row["samples_per_s"].get<double>() / plain["samples_per_s"].get<double>();
    row["peak_rss_ratio"] =
        static_cast<double>(row["peak_rss_bytes"].get<int64_t>()) / static_cast<double>(plain["peak_rss_bytes"].get<int64_t>());
    rows.push_back(row);
  }
  return Json{{"benchmark", "round"},
              {"model", "supernet width 0.25, Fashion-MNIST 1x28x28, batch 32"},
              {"threads", options.threads},
              {"samples_per_client", options.samples_per_client},
              {"plain", plain},
              {"results", rows}}
      .dump(2);
}

std::string run_memory_benchmark(const SuiteOptions& options) {
  const Json small = run_child(options, "memory", 1000);
  const Json large = run_child(options, "memory", 10000);
  const double per_client = static_cast<double>(large["peak_rss_bytes"].get<int64_t>() -
                                                small["peak_rss_bytes"].get<int64_t>()) / 9000.0;
  return Json{{"benchmark", "memory"},
              {"results", {small, large}},
              {"bytes_per_idle_client", per_client}}
      .dump(2);
}

}  // namespace sflsim::cli
