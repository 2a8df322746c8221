// A real worker rank (serve_rank_zero, forked) answers every request: an
// evaluation that throws, or whose model cannot be decoded, is answered
// "failed" with the reason, and the worker goes on taking requests.
#include "forked_ranks.hpp"
#include "simulator/parts/part_codec.hpp"
#include "simulator/parts/part_format.hpp"
#include "simulator/ranks/messages.hpp"
#include "simulator/ranks/worker.hpp"
#include "simulator/scenario/scenario_io.hpp"
#include "simulator/world/world.hpp"
#include "supernet/supernet.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

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

  cli::RankMessage scoring = cli::rank_message(cli::RankMessageKind::eval);
  scoring.id = 1;
  scoring.version = 1;
  scoring.payload = model;
  scoring.number = 0;
  scoring.text = "not a count";  // the worker's scoring throws
  comm->send(1, cli::encode(scoring), 10s);
  std::optional<cli::RankMessage> reply = next_reply(*comm, 5s);  // heartbeats every 100 ms meanwhile
  REQUIRE(reply);
  CHECK(reply->kind == cli::RankMessageKind::failed);
  CHECK(reply->id == 1);
  CHECK_FALSE(reply->text.empty());

  cli::RankMessage malformed = cli::rank_message(cli::RankMessageKind::eval);
  malformed.id = 2;
  malformed.version = 2;
  malformed.payload = "not a model";
  malformed.text = "10";
  comm->send(1, cli::encode(malformed), 10s);
  reply = next_reply(*comm, 5s);
  REQUIRE(reply);
  CHECK(reply->kind == cli::RankMessageKind::failed);
  CHECK(reply->id == 2);

  // Still serving: a good request is scored, and shutdown ends it cleanly.
  cli::RankMessage good = cli::rank_message(cli::RankMessageKind::eval);
  good.id = 3;
  good.version = 3;
  good.payload = model;
  good.number = 0;
  good.text = "10";
  comm->send(1, cli::encode(good), 10s);
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
