#include "simulator/bench/ranks_bench.hpp"
#include "simulator/io/files.hpp"

#include "simulator/run/run_scenario.hpp"

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
  // (ceil(jobs / worker threads) jobs in a row, each its compute plus its
  // communication) and rank 0's own work (its CPU per round plus moving the
  // round's bytes through its network link). Per job, the least contended
  // measurement (on 2 cores, more ranks mostly add contention); rank 0's CPU,
  // the most; bytes per round a + b x (workers given jobs) fitted on the
  // measured counts (b: the supernet and the evaluated model a worker is sent).
  double compute = 1e300, communication = 1e300, rank0 = 0;
  for (const Json& row : rows) {
    compute = std::min(compute, row["worker_compute_s_per_job"].get<double>());
    communication = std::min(communication, std::max(0.0, row["communication_s_per_job"].get<double>()));
    rank0 = std::max(rank0, row["rank0_cpu_s_per_round"].get<double>());
  }
  const Json& first = rows.front();
  const double per_worker_bytes =
      rows.size() > 1 ? (largest["bytes_between_ranks_per_round"].get<double>() - first["bytes_between_ranks_per_round"].get<double>()) /
                            (largest["ranks"].get<double>() - first["ranks"].get<double>())
                      : 0.0;
  const double fixed_bytes = first["bytes_between_ranks_per_round"].get<double>() - per_worker_bytes * first["ranks"].get<double>();
  const double jobs = largest["jobs_per_round"];
  const double samples_per_round = plain.samples / plain.rounds;
  Json model = Json::array();
  for (int ranks : {16, 64}) {
    const double threads = static_cast<double>(ranks) * options.model_threads_per_rank;
    const double workers_s = std::ceil(jobs / threads) * (compute + communication);
    // A worker is sent the round's supernet and evaluated model only if it gets work: at most one per job.
    const double bytes = fixed_bytes + per_worker_bytes * std::min<double>(ranks, jobs);
    const double rank0_s = rank0 + bytes / (options.model_link_gbps * 1e9 / 8);
    model.push_back({{"ranks", ranks},
                     {"threads_per_rank", options.model_threads_per_rank},
                     {"busy_worker_threads", std::min(threads, jobs)},
                     {"round_s", std::max(workers_s, rank0_s)},
                     {"workers_s_per_round", workers_s},
                     {"rank0_s_per_round", rank0_s},
                     {"bytes_per_round", bytes},
                     {"bound_by", workers_s >= rank0_s ? "the workers (a client's job is the unit of work)" : "rank 0"},
                     {"samples_per_s", samples_per_round / std::max(workers_s, rank0_s)}});
  }
  const Json basis{{"compute_s_per_job", compute},
                   {"communication_s_per_job", communication},
                   {"rank0_cpu_s_per_round", rank0},
                   {"bytes_per_round_fixed", fixed_bytes},
                   {"bytes_per_round_per_worker", per_worker_bytes},
                   {"jobs_per_round", jobs}};
  std::filesystem::remove_all(scratch);
  return Json{{"scenario", options.scenario},
              {"rounds", options.rounds},
              {"threads", options.threads},
              {"one_process", {{"samples_per_s", plain.samples / plain.wall_s}, {"wall_s_per_round", plain.wall_s / plain.rounds}}},
              {"ranks", rows},
              {"model", {{"link_gbps", options.model_link_gbps}, {"basis", basis}, {"rows", model}}}}
      .dump(2);
}

}  // namespace sflsim::cli
