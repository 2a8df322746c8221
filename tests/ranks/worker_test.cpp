// A real worker rank (serve_rank_zero, forked) answers every request: an
// evaluation that throws, or whose model cannot be decoded, is answered
// "failed" with the reason, and the worker goes on taking requests.
#include "forked_ranks.hpp"
#include "simulator/io/build_identity.hpp"
#include "simulator/parts/part_codec.hpp"
#include "simulator/parts/part_format.hpp"
#include "simulator/ranks/messages.hpp"
#include "simulator/ranks/pool.hpp"
#include "simulator/ranks/worker.hpp"
#include "simulator/scenario/scenario_io.hpp"
#include "simulator/world/world.hpp"
#include "supernet/supernet.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

using namespace std::chrono_literals;
using namespace sflsim;
using namespace sflsim::test;

namespace {

// The next message from the worker that is not a heartbeat, or nullopt after `limit`.
std::optional<cli::RankMessage> next_reply(Communicator& comm, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    cli::RankMessage m = cli::decode_rank_message(comm.receive(1, 10s));
    if (m.kind != cli::RankMessageKind::heartbeat) return m;
  }
  return std::nullopt;
}

cli::RankMessage eval_request(std::uint64_t id, std::uint64_t version, std::string model, std::string count) {
  cli::RankMessage m = cli::rank_message(cli::RankMessageKind::eval);
  m.id = id;
  m.version = version;
  m.payload = std::move(model);
  m.number = 0;  // from the first test sample
  m.text = std::move(count);
  return m;
}

}  // namespace

TEST_CASE("ranks: a worker answers an evaluation that throws, or whose model is malformed, with failed", "[ranks]") {
  TempDir dir;
  const auto store = file_store(dir);
  Children children;
  const pid_t worker = children.spawn([&store] {
    auto comm = Communicator::join(store, 1, 2, 10s);
    return cli::serve_rank_zero(*comm, 1);
  });
  auto comm = Communicator::join(store, 0, 2, 10s);
  const cli::Scenario scenario = cli::load_scenario("tests/ranks/smoke.json");
  cli::RankMessage hello = cli::rank_message(cli::RankMessageKind::hello);
  hello.text = cli::resolved_json(scenario);
  hello.number = 100;  // heartbeat every 100 ms
  comm->send(1, cli::encode(hello), 10s);
  const std::optional<cli::RankMessage> ready = next_reply(*comm, 60s);
  REQUIRE(ready);
  REQUIRE(ready->kind == cli::RankMessageKind::ready);

  const datasets::DatasetSplits data = cli::load_world_data(scenario);
  supernet::Supernet net(cli::supernet_options(scenario, data));
  const supernet::BodyPart whole = net.extract(net.architecture().full_config());
  core::StateWriter writer;
  put(writer, cli::body_data(whole));
  const std::string model = writer.take();

  comm->send(1, cli::encode(eval_request(1, 1, model, "not a count")), 10s);  // the worker's scoring throws
  std::optional<cli::RankMessage> reply = next_reply(*comm, 5s);  // heartbeats every 100 ms meanwhile
  REQUIRE(reply);
  CHECK(reply->kind == cli::RankMessageKind::failed);
  CHECK(reply->id == 1);
  CHECK_FALSE(reply->text.empty());

  comm->send(1, cli::encode(eval_request(2, 2, "not a model", "10")), 10s);
  reply = next_reply(*comm, 5s);
  REQUIRE(reply);
  CHECK(reply->kind == cli::RankMessageKind::failed);
  CHECK(reply->id == 2);

  // Still serving: a good request is scored, and shutdown ends it cleanly.
  comm->send(1, cli::encode(eval_request(3, 3, model, "10")), 10s);
  reply = next_reply(*comm, 20s);
  REQUIRE(reply);
  CHECK(reply->kind == cli::RankMessageKind::result);
  CHECK(reply->id == 3);
  core::StateReader score(reply->text);
  const std::int64_t correct = score.i64();
  CHECK((correct >= 0 && correct <= 10));
  comm->send(1, cli::encode(cli::rank_message(cli::RankMessageKind::shutdown)), 10s);
  CHECK(children.wait(worker) == 0);
}

TEST_CASE("ranks: rank 0 refuses a worker of another build, naming both builds", "[ranks]") {
  TempDir dir;
  const auto store = file_store(dir);
  Children children;
  const pid_t worker = children.spawn([&store] {
    // A worker as another build would greet: ready, with its own identity; then it waits to be told to go.
    auto comm = Communicator::join(store, 1, 2, 10s);
    cli::decode_rank_message(comm->receive(0, 10s));  // the greeting
    cli::RankMessage ready = cli::rank_message(cli::RankMessageKind::ready);
    ready.number = 1;
    ready.text = "sflsim 0.0.1, commit 000000000000, GNU 1.0, LibTorch 1.0";
    comm->send(0, cli::encode(ready), 10s);
    const cli::RankMessage next = cli::decode_rank_message(comm->receive(0, 10s));
    return next.kind == cli::RankMessageKind::shutdown ? 0 : 1;
  });
  auto comm = Communicator::join(store, 0, 2, 10s);
  cli::RankPoolOptions options;
  options.ready_timeout = 10s;
  try {
    cli::RankPool pool(*comm, cli::rank_message(cli::RankMessageKind::hello), options);
    FAIL("the pool took a worker of another build");
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    CHECK(what.find("rank 1 is another build (sflsim 0.0.1, commit 000000000000") != std::string::npos);
    CHECK(what.find(cli::build_identity()) != std::string::npos);
  }
  CHECK(children.wait(worker) == 0);  // and it was shut down, not left waiting
}
