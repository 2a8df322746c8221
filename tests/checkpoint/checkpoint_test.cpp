// Checkpoint and resume of whole simulations: a run stopped at a round
// boundary and resumed (at another --threads) writes the same bytes as one
// that was never stopped, for every algorithm and with every kind of fault.
#include "baseline_run.hpp"
#include "simulator/checkpoint/checkpoint.hpp"
#include "simulator/io/build_identity.hpp"
#include "simulator/run/interrupt.hpp"
#include "simulator/scenario/scenario_io.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <utility>
#include <vector>

using namespace sflsim;

namespace {

struct Outputs {
  std::string metrics, clients, summary;
  cli::RunResult result;
};

// summary.json without its wall-clock figure.
std::string deterministic_summary(const std::filesystem::path& dir) {
  return std::regex_replace(test::read_file(dir / "summary.json"), std::regex("\"wall_time_s\": [^,\\n]*"), "");
}

Outputs outputs_of(const std::filesystem::path& dir, cli::RunResult result = {}) {
  return {test::read_file(dir / "metrics.csv"), test::read_file(dir / "clients.csv"), deterministic_summary(dir), result};
}

cli::RunOptions options_for(const cli::Scenario& s, const std::filesystem::path& dir, int threads) {
  cli::RunOptions options;
  options.out_dir = dir;
  options.scenario_text = cli::resolved_json(s);
  options.progress = false;
  options.threads = threads;
  return options;
}

Outputs uninterrupted(const cli::Scenario& s, int threads, int checkpoint_every = 0) {
  at::set_num_threads(1);
  test::TempDir dir;
  cli::RunOptions options = options_for(s, dir.path(), threads);
  options.checkpoint_every = checkpoint_every;
  cli::World world(s, threads);
  const cli::RunResult result = cli::run_world(world, options);
  CHECK_FALSE(std::filesystem::exists(dir / cli::kCheckpointFile));  // removed once the outputs are complete
  return outputs_of(dir.path(), result);
}

// Stopped after round `stop_after` (at the first boundary at rest from
// there), then resumed in a new world; returns the round it resumed at.
int stop_and_resume(const cli::Scenario& s, int stop_after, int threads_before, int threads_after,
                    const std::filesystem::path& dir) {
  at::set_num_threads(1);
  int stopped_after = 0;
  {
    cli::RunOptions options = options_for(s, dir, threads_before);
    options.stop_after_round = stop_after;
    cli::World world(s, threads_before);
    try {
      cli::run_world(world, options);
    } catch (const cli::Interrupted& e) {
      stopped_after = e.rounds;
    }
  }
  REQUIRE(stopped_after >= stop_after);  // some boundary from there on was at rest
  REQUIRE(std::filesystem::exists(dir / cli::kCheckpointFile));
  REQUIRE_FALSE(std::filesystem::exists(dir / "summary.json"));
  cli::RunOptions options = options_for(s, dir, threads_after);
  options.resume = true;
  cli::World world(s, threads_after);
  const cli::RunResult result = cli::run_world(world, options);
  CHECK(result.resumed_at == stopped_after + 1);
  CHECK_FALSE(std::filesystem::exists(dir / cli::kCheckpointFile));
  return result.resumed_at;
}

using ThreadChanges = std::vector<std::pair<int, int>>;  // (--threads stopped at, --threads resumed at)

void check_resume_equals(const Outputs& reference, const cli::Scenario& s, int stop_after,
                         const ThreadChanges& changes) {
  for (const auto& [before, after] : changes) {
    INFO("stopped after round " << stop_after << " at --threads " << before << ", resumed at --threads " << after);
    test::TempDir dir;
    stop_and_resume(s, stop_after, before, after, dir.path());
    const Outputs resumed = outputs_of(dir.path());
    CHECK(resumed.metrics == reference.metrics);
    CHECK(resumed.clients == reference.clients);
    CHECK(resumed.summary == reference.summary);
  }
}

void check_resume_equals_uninterrupted(const cli::Scenario& s, int stop_after, int reference_threads = 1,
                                       const ThreadChanges& changes = {{1, 2}, {2, 1}}) {
  check_resume_equals(uninterrupted(s, reference_threads), s, stop_after, changes);
}

// Runs `s` into `dir` until the checkpoint after round 1.
void stop_after_first_round(const cli::Scenario& s, const std::filesystem::path& dir) {
  cli::RunOptions options = options_for(s, dir, 1);
  options.stop_after_round = 1;
  cli::World world(s);
  CHECK_THROWS_AS(cli::run_world(world, options), cli::Interrupted);
}

}  // namespace

TEST_CASE("every algorithm resumed from a checkpoint writes the uninterrupted run's bytes, at 1 and 2 threads", "[checkpoint][heavy]") {
  for (const char* algorithm : {"supersfl", "sl", "sfl-v1", "sfl-v2", "fedavg", "heterofl", "depthfl", "rafl"}) {
    INFO(algorithm);
    cli::Scenario s = test::baseline_scenario(algorithm);
    s.training.rounds = 4;
    s.training.eval_every = 1;
    s.algorithm.include_excluded = true;
    check_resume_equals_uninterrupted(s, 2);
  }
}

TEST_CASE("a resumed run with drops, a link-down window, crashes and a server outage writes the same bytes", "[checkpoint][faults]") {
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.training.rounds = 6;
  s.faults.drop_probability = 0.2;
  s.faults.server_outages = {{3, 1}};
  s.faults.link_down = {{1, 20.0, 40.0}};
  s.faults.crashes = {{2, 15.0, 60.0}, {4, 30.0, -1.0}};
  const Outputs every = uninterrupted(s, 2, 1);
  INFO("boundaries at rest: " << every.result.checkpoints << " of 5");
  CHECK(every.result.checkpoints >= 2);
  const Outputs plain = uninterrupted(s, 1);
  CHECK(every.metrics == plain.metrics);  // checkpointing itself changes nothing
  CHECK(every.clients == plain.clients);
  // Each stop point once, each direction of thread change once (both at both points added no code path).
  check_resume_equals(plain, s, 1, {{1, 2}});
  check_resume_equals(plain, s, 3, {{2, 1}});
}

TEST_CASE("a run of outage rounds checkpoints at the boundaries inside it and resumes there to the same bytes", "[checkpoint][faults]") {
  // Rounds 2-4 are one outage block: the coordinator sleeps through them, and
  // before each of them but the first it reaches a boundary like any other.
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.training.rounds = 5;
  s.faults.server_outages = {{2, 3}};
  const Outputs every = uninterrupted(s, 1, 1);
  CHECK(every.result.checkpoints == 4);  // before rounds 2, 3, 4 and 5: every boundary
  const Outputs plain = uninterrupted(s, 1);
  CHECK(every.metrics == plain.metrics);
  CHECK(every.clients == plain.clients);
  for (const int stop_after : {2, 3}) {  // inside the block: the window is added again from where it began
    INFO("stopped after round " << stop_after);
    test::TempDir dir;
    CHECK(stop_and_resume(s, stop_after, 1, 2, dir.path()) == stop_after + 1);
    const Outputs resumed = outputs_of(dir.path());
    CHECK(resumed.metrics == plain.metrics);
    CHECK(resumed.clients == plain.clients);
    CHECK(resumed.summary == plain.summary);
  }
}

TEST_CASE("scenarios/faults.json resumed from a checkpoint writes the uninterrupted run's bytes", "[checkpoint][slow]") {
  // One change of thread count (2 to 1): the other direction is the fault case above's, on a smaller world.
  const cli::Scenario s = cli::load_scenario("scenarios/faults.json");
  check_resume_equals_uninterrupted(s, 6, 2, {{2, 1}});
}

TEST_CASE("a checkpoint of another scenario, a truncated or a corrupt one is refused with the reason", "[checkpoint]") {
  at::set_num_threads(1);
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.training.rounds = 3;
  test::TempDir dir;
  stop_after_first_round(s, dir.path());
  const std::filesystem::path file = dir / cli::kCheckpointFile;
  const std::string good = test::read_file(file);
  const auto refusal = [&](const std::string& bytes, const cli::Scenario& scenario) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
    cli::RunOptions options = options_for(scenario, dir.path(), 1);
    options.resume = true;
    cli::World world(scenario);
    try {
      cli::run_world(world, options);
    } catch (const cli::checkpoint::CheckpointError& e) {
      return std::string(e.what());
    }
    return std::string("not refused");
  };
  cli::Scenario other = s;
  other.seed = 99;
  CHECK_THAT(refusal(good, other), Catch::Contains("written for another scenario"));
  CHECK_THAT(refusal(good.substr(0, good.size() / 2), s), Catch::Contains("truncated"));
  std::string corrupt = good;
  corrupt[corrupt.size() / 2] ^= 0x40;
  CHECK_THAT(refusal(corrupt, s), Catch::Contains("checksum mismatch"));
  CHECK_THAT(refusal("not a checkpoint", s), Catch::Contains("not an sflsim checkpoint"));
  std::string future = good;
  future[8] = 9;  // the format version
  CHECK_THAT(refusal(future, s), Catch::Contains("another sflsim version"));
  cli::checkpoint::Checkpoint other_build = cli::checkpoint::decode(good);
  other_build.sflsim_version = "sflsim 0.1.0, commit 000000000000, GNU 12.2.0, LibTorch 1.13.0";
  const std::string from_other_build = refusal(cli::checkpoint::encode(other_build), s);
  CHECK_THAT(from_other_build, Catch::Contains("written by another build (sflsim 0.1.0, commit 000000000000"));
  CHECK_THAT(from_other_build, Catch::Contains("this is " + cli::build_identity()));
  for (const std::string& message : {refusal(corrupt, s), refusal(good.substr(0, 100), s)}) {
    CHECK_THAT(message, Catch::StartsWith(file.string()));
    CHECK(message.find('\n') == std::string::npos);
  }
  // The refusals left the good checkpoint's outputs as they were: metrics.csv has round 1.
  CHECK(test::read_file(dir / "metrics.csv").find("\n1,") != std::string::npos);
}

TEST_CASE("a run without resume refuses a directory with an unfinished run's checkpoint; fresh starts over", "[checkpoint]") {
  at::set_num_threads(1);
  cli::Scenario s = test::baseline_scenario("supersfl");
  s.training.rounds = 2;
  test::TempDir dir;
  stop_after_first_round(s, dir.path());
  const std::string checkpoint = test::read_file(dir / cli::kCheckpointFile);
  const std::string metrics = test::read_file(dir / "metrics.csv");
  try {
    cli::run_scenario(s, options_for(s, dir.path(), 1));
    FAIL("not refused");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), Catch::StartsWith((dir / cli::kCheckpointFile).string()) && Catch::Contains("--resume") &&
                             Catch::Contains("--fresh"));
  }
  CHECK(test::read_file(dir / cli::kCheckpointFile) == checkpoint);  // nothing was lost
  CHECK(test::read_file(dir / "metrics.csv") == metrics);
  cli::RunOptions fresh = options_for(s, dir.path(), 1);
  fresh.fresh = true;
  const cli::RunResult result = cli::run_scenario(s, fresh);
  CHECK(result.resumed_at == 0);
  CHECK_FALSE(std::filesystem::exists(dir / cli::kCheckpointFile));
  CHECK(test::read_file(dir / "metrics.csv") == uninterrupted(s, 1).metrics);
}

TEST_CASE("the committed format-1 checkpoints decode and encode back to the same bytes", "[checkpoint]") {
  // Written by the encoder before the field lists (tests/fuzz/make_checkpoint_corpus.cpp): every field in place.
  for (const char* name : {"full", "minimal"}) {
    INFO(name);
    const std::string bytes = test::read_file(std::filesystem::path("tests/fuzz/corpus/checkpoint") / name);
    REQUIRE(bytes.size() > 100);
    CHECK(cli::checkpoint::encode(cli::checkpoint::decode(bytes)) == bytes);
  }
}
