#include "simulator/bench_ranks.hpp"

#include "simulator/run_scenario.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace sflsim::cli {

namespace {

using Json = nlohmann::json;

// A CSV's columns by name, summed over its data rows.
std::map<std::string, double> column_sums(const std::string& csv) {
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  std::vector<std::string> names;
  {
    std::istringstream header(line);
    for (std::string name; std::getline(header, name, ',');) names.push_back(name);
  }
  std::map<std::string, double> sums;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    size_t k = 0;
    for (std::string cell; std::getline(fields, cell, ','); ++k) {
      if (k < names.size() && !cell.empty()) sums[names[k]] += std::strtod(cell.c_str(), nullptr);
    }
  }
  return sums;
}

struct Measured {
  double wall_s = 0;
  double samples = 0;
  int rounds = 0;
  std::map<std::string, double> wall;  // wall.csv's columns, summed
  std::string metrics;
};

Measured run_once(const RanksBenchOptions& options, int ranks, const std::filesystem::path& out) {
  std::string command = "'" + options.self + "' --threads " + std::to_string(options.threads) + " run '" +
                        options.scenario + "' --out '" + out.string() + "' --set training.rounds=" +
                        std::to_string(options.rounds);
  if (ranks > 0) command += " --ranks " + std::to_string(ranks);
  command += " > '" + out.string() + ".log' 2>&1";
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("bench ranks: a run failed: " + command + "\n" + read_text(out.string() + ".log"));
  }
  Measured m;
  m.wall = column_sums(read_text(out / "wall.csv"));
  m.wall_s = m.wall["wall_s"];
  m.samples = column_sums(read_text(out / "clients.csv"))["samples"];
  m.rounds = options.rounds;
  m.metrics = read_text(out / "metrics.csv") + read_text(out / "clients.csv");
  return m;
}

}  // namespace

std::string run_ranks_benchmark(const RanksBenchOptions& options) {
  const std::filesystem::path scratch = std::filesystem::temp_directory_path() / ("sflsim-bench-ranks-" + std::to_string(::getpid()));
  std::filesystem::create_directories(scratch);
  const Measured plain = run_once(options, 0, scratch / "plain");
  Json rows = Json::array();
  Json largest;
  for (int ranks : options.ranks) {
    const Measured m = run_once(options, ranks, scratch / ("ranks" + std::to_string(ranks)));
    const double rounds = m.rounds;
    const double jobs = m.wall.at("jobs");
    Json row{{"ranks", ranks},
             {"samples_per_s", m.samples / m.wall_s},
             {"ratio_to_one_process", (m.samples / m.wall_s) / (plain.samples / plain.wall_s)},
             {"wall_s_per_round", m.wall_s / rounds},
             {"bytes_between_ranks_per_round", m.wall.at("rank_bytes") / rounds},
             {"bytes_per_job", m.wall.at("rank_bytes") / jobs},
             {"jobs_per_round", jobs / rounds},
             {"worker_compute_s_per_job", m.wall.at("worker_compute_s") / jobs},
             {"round_trip_s_per_job", m.wall.at("round_trip_s") / jobs},
             {"worker_queue_s_per_job", m.wall.at("worker_queue_s") / jobs},
             {"communication_s_per_job",
              (m.wall.at("round_trip_s") - m.wall.at("worker_compute_s") - m.wall.at("worker_queue_s")) / jobs},
             {"rank0_cpu_s_per_round", m.wall.at("rank0_cpu_s") / rounds},
             {"rank0_waiting_fraction", std::max(0.0, 1.0 - m.wall.at("rank0_cpu_s") / m.wall_s)},
             {"outputs_identical_to_one_process", m.metrics == plain.metrics}};
    rows.push_back(row);
    largest = row;
  }

  // The model: a round takes the longer of the workers' share of its jobs
  // (ceil(jobs / worker threads) jobs in a row, each with its compute and
  // its round trip's communication) and rank 0's own work (its CPU per round,
  // measured, plus moving the round's bytes through its network link).
  Json model = Json::array();
  const double jobs = largest["jobs_per_round"];
  const double per_job = largest["worker_compute_s_per_job"].get<double>() + largest["communication_s_per_job"].get<double>();
  const double rank0 = largest["rank0_cpu_s_per_round"];
  const double bytes = largest["bytes_between_ranks_per_round"];
  const double samples_per_round = plain.samples / plain.rounds;
  for (int ranks : {16, 64}) {
    const double workers_s = std::ceil(jobs / (ranks * options.model_threads_per_rank)) * per_job;
    const double rank0_s = rank0 + bytes / (options.model_link_gbps * 1e9 / 8);
    model.push_back({{"ranks", ranks},
                     {"threads_per_rank", options.model_threads_per_rank},
                     {"round_s", std::max(workers_s, rank0_s)},
                     {"workers_s_per_round", workers_s},
                     {"rank0_s_per_round", rank0_s},
                     {"bound_by", workers_s >= rank0_s ? "the slowest worker's share (one client job at most per thread)"
                                                       : "rank 0"},
                     {"samples_per_s", samples_per_round / std::max(workers_s, rank0_s)}});
  }
  std::filesystem::remove_all(scratch);
  return Json{{"scenario", options.scenario},
              {"rounds", options.rounds},
              {"threads", options.threads},
              {"one_process", {{"samples_per_s", plain.samples / plain.wall_s}, {"wall_s_per_round", plain.wall_s / plain.rounds}}},
              {"ranks", rows},
              {"model", {{"link_gbps", options.model_link_gbps}, {"rows", model}}}}
      .dump(2);
}

}  // namespace sflsim::cli
