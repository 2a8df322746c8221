// `sflsim sweep`: cells in row-major order, skip finished cells on a rerun,
// finish an interrupted one with the same bytes, reject bad cells up front.
#include "simulator/scenario/json_reader.hpp"
#include "simulator/sweep/sweep.hpp"
#include "csv_file.hpp"
#include "temp_dir.hpp"

#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace sflsim::cli;

namespace {
using sflsim::test::csv_rows;
using sflsim::test::read_file;

void write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

const char* kSweep = R"({
  "base": {"dataset": {"name": "synthetic", "augment": false},
           "training": {"rounds": 2, "batch_size": 16, "max_samples_per_round": 32, "eval_samples": 100}},
  "set": {"clients.tiers": [{"name": "phone", "memory_gb": 4, "gflops": 20}]},
  "axes": [{"path": "clients.count", "values": [2, 3]},
           {"path": "clients.network", "values": ["3g", "wifi"]}]
})";

SweepOptions quiet(const std::filesystem::path& dir) {
  SweepOptions options;
  options.out_dir = dir;
  options.progress = false;
  return options;
}
}  // namespace

TEST_CASE("sweep cells: the product of the axes, first axis slowest, with readable directories", "[sweep]") {
  sflsim::test::TempDir dir;
  write(dir.path() / "s.json", kSweep);
  const std::vector<SweepCell> cells = sweep_cells(dir.path() / "s.json");
  REQUIRE(cells.size() == 4);
  CHECK(cells[0].directory == "000_count=2_network=3g");
  CHECK(cells[1].label == "clients.count=2 clients.network=wifi");
  CHECK(cells[2].assignments == std::vector<std::string>{"clients.count=3", "clients.network=\"3g\""});
  CHECK(cells[3].directory == "003_count=3_network=wifi");
}

TEST_CASE("sweep: bad sweep files and bad cells are rejected before anything runs", "[sweep]") {
  sflsim::test::TempDir dir;
  const auto rejects = [&](const std::string& text, const std::string& message) {
    write(dir.path() / "bad.json", text);
    CHECK_THROWS_WITH(run_sweep(dir.path() / "bad.json", quiet(dir.path() / "out")), Catch::Contains(message));
  };
  rejects(R"({"base": {}, "axes": []})", "$.axes: expected a non-empty array");
  rejects(R"({"base": {}, "axes": [{"path": "seed"}]})", "$.axes[0]: expected");
  rejects(R"({"base": {}, "axis": []})", "$.axis: unknown key");
  rejects(R"({"base": "missing.json", "axes": [{"path": "seed", "values": [1]}]})", "$.base: cannot read");
  rejects(R"({"base": {}, "axes": [{"path": "clients.count", "values": [10, -1]}]})",
          "$.clients.count: -1 is out of range");
  rejects(R"({"base": {}, "axes": [{"path": "clients.count", "values": [10, -1]}]})", "cell clients.count=-1");
  CHECK_FALSE(std::filesystem::exists(dir.path() / "out" / "sweep.csv"));
}

TEST_CASE("sweep: a rerun skips finished cells; an interrupted cell is finished with identical results",
          "[sweep][heavy]") {
  at::set_num_threads(1);
  sflsim::test::TempDir dir;
  write(dir.path() / "s.json", kSweep);
  const std::filesystem::path out = dir.path() / "out";

  const SweepResult first = run_sweep(dir.path() / "s.json", quiet(out));
  CHECK(first.ran == 4);
  const std::string table = read_file(out / "sweep.csv");
  const std::string interrupted_metrics = read_file(out / "002_count=3_network=3g" / "metrics.csv");
  std::istringstream lines(table);
  std::string header, row_3g, row_wifi;
  std::getline(lines, header);
  std::getline(lines, row_3g);
  std::getline(lines, row_wifi);
  CHECK(header.rfind("cell,clients.count,clients.network,final_accuracy,", 0) == 0);
  CHECK(row_3g.rfind("000_count=2_network=3g,2,3g,", 0) == 0);
  // The network axis reaches the run: 3G rounds take longer in virtual time than Wi-Fi ones.
  const auto virtual_time = [](const std::string& row) {
    std::vector<std::string> cells;
    std::istringstream fields(row);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    return std::stod(cells.at(6));
  };
  CHECK(virtual_time(row_3g) > virtual_time(row_wifi));

  const SweepResult rerun = run_sweep(dir.path() / "s.json", quiet(out));
  CHECK(rerun.ran == 0);
  CHECK(rerun.skipped == 4);
  CHECK(read_file(out / "sweep.csv") == table);

  // As if killed in the middle of cell 2: no summary, half a metrics file.
  std::filesystem::remove(out / "002_count=3_network=3g" / "summary.json");
  write(out / "002_count=3_network=3g" / "metrics.csv", "round,virtual_time_s\n1,");
  const SweepResult resumed = run_sweep(dir.path() / "s.json", quiet(out));
  CHECK(resumed.ran == 1);
  CHECK(resumed.skipped == 3);
  CHECK(read_file(out / "sweep.csv") == table);
  CHECK(read_file(out / "002_count=3_network=3g" / "metrics.csv") == interrupted_metrics);
}
