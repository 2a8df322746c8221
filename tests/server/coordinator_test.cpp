// server::run_coordinator on a hand-built world (coordinator_world.hpp): the
// coordinator and one run_session per client (the code under test), links
// built as simulator/world.cpp builds them, and clients played by this test
// (scripted coroutines that record every notice and plan, and upload or stay
// silent as told). Exact round end times, notices, summaries, and aggregation with the
// failed clients passed in as results without uploads.
//
// Link rates are chosen so that a transfer costs a whole number of ns per
// byte; the expected times below are written out with those numbers.
#include "coordinator_world.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <utility>
#include <vector>

using namespace sflsim;
using namespace sflsim::test;

namespace {

void check_notice(const Seen& s, int round, int64_t start, int64_t period) {
  CAPTURE(round);
  CHECK(s.round == round);
  CHECK(s.at_ns == start);
  CHECK(s.plan_due_ns == start + period / 2);
  CHECK(s.deadline_ns == start + period);
}

}  // namespace

TEST_CASE("the coordinator's rounds: silent clients hold a round to its period, outage rounds last theirs, "
          "notices are exact and failures reach aggregation as results without uploads", "[server]") {
  // Round 1: every client; only c0 answers. Rounds 2-3: a server outage.
  // Round 4: c0 and c2, both answer (c2 also brings an update from round 1).
  World w(server::make_supersfl(strategy_options()), 3, {{}, {0, 1, 2}, {0, 1, 2}, {0, 2}, {0, 2}});
  REQUIRE(w.strategy->reintegrates_late_uploads());
  w.setup.outage_round = [](int round) { return round == 2 || round == 3; };
  w.clients[0].actions = {{1, Action::upload}, {4, Action::upload}};
  w.clients[2].actions = {{4, Action::stale_then_upload}};
  const supernet::BodyPart suffix_before = w.net.extract(w.full, kCut + 1, w.arch.unit_count());
  w.run();

  // Periods: timeout_factor (2) x the slowest selected client's nominal round.
  REQUIRE(w.profiles[0].cut == kCut);
  const int64_t all = 2 * std::max({w.nominal(0), w.nominal(1), w.nominal(2)});
  const int64_t without_c1 = 2 * std::max(w.nominal(0), w.nominal(2));
  REQUIRE(all == 2 * w.nominal(1));
  REQUIRE(without_c1 < all);
  const int64_t pb = w.model_bytes();

  REQUIRE(w.summaries.size() == 4);
  // Round 1 lasts its whole period: c1 and c2 never answer.
  const server::RoundSummary& r1 = w.summaries[0];
  CHECK(r1.round == 1);
  CHECK(ns(r1.end) == all);
  CHECK_FALSE(r1.outage);
  CHECK(r1.clients_ok == 1);
  CHECK(r1.clients_failed == 2);
  CHECK(r1.train_loss == 1.5);  // no server batch: the uploads' mean local loss
  CHECK_FALSE(r1.evaluated);
  CHECK(r1.reintegrated.empty());
  // Rounds 2 and 3: one outage from round 1's end to round 3's, announced once.
  REQUIRE(w.outages.size() == 1);
  CHECK(w.outages[0] == std::make_pair(all, all + all + without_c1));
  const server::RoundSummary& r2 = w.summaries[1];
  CHECK(r2.round == 2);
  CHECK(r2.outage);
  CHECK(ns(r2.end) == 2 * all);
  CHECK(r2.clients_ok == 0);
  CHECK(r2.clients_failed == 3);
  CHECK(r2.evaluated);  // every eval_every rounds, outage or not
  CHECK(r2.test_accuracy == 0.25);
  CHECK(r2.test_loss == 2.0);
  const server::RoundSummary& r3 = w.summaries[2];
  CHECK(r3.round == 3);
  CHECK(r3.outage);
  CHECK(ns(r3.end) == 2 * all + without_c1);  // its own selection's period
  CHECK(r3.clients_failed == 2);
  CHECK_FALSE(r3.evaluated);
  // Round 4 ends when its last upload arrives, well before its deadline.
  const int64_t s4 = 2 * all + without_c1;
  const int64_t c0_upload = s4 + 10'000'000 + pb * 1000 + pb * 1000 + 10'000'000;
  const int64_t c2_upload = s4 + 20'000'000 + pb * 1000 + 2 * pb * 2000 + 20'000'000;  // behind its stale update
  const server::RoundSummary& r4 = w.summaries[3];
  CHECK(r4.round == 4);
  CHECK_FALSE(r4.outage);
  CHECK(ns(r4.end) == std::max(c0_upload, c2_upload));
  CHECK(ns(r4.end) < s4 + without_c1);
  CHECK(r4.clients_ok == 2);
  CHECK(r4.clients_failed == 0);
  CHECK(r4.train_loss == 1.5);
  CHECK(r4.evaluated);
  CHECK(r4.reintegrated == std::vector<std::pair<int, int>>{{2, 3}});  // staleness 4 - 1
  CHECK(w.evaluations == 2);
  // A boundary comes before every round but the first, inside a run of outage rounds too.
  CHECK(w.boundaries == std::vector<int>{2, 3, 4});

  // The notices each client received, and the plans that followed.
  REQUIRE(w.clients[0].seen.size() == 4);
  REQUIRE(w.clients[1].seen.size() == 2);
  REQUIRE(w.clients[2].seen.size() == 4);
  for (size_t c = 0; c < 3; ++c) {
    check_notice(w.clients[c].seen[0], 1, 0, all);
    check_notice(w.clients[c].seen[1], 2, all, all);
    CHECK(w.clients[c].seen[0].plan_at_ns == kNets[c].latency_ns + pb * kNets[c].down_ns_per_byte);
    CHECK(w.clients[c].seen[1].plan_at_ns == -1);  // outage: no plan
  }
  for (size_t c : {size_t{0}, size_t{2}}) {
    check_notice(w.clients[c].seen[2], 3, 2 * all, without_c1);
    check_notice(w.clients[c].seen[3], 4, s4, without_c1);
    CHECK(w.clients[c].seen[2].plan_at_ns == -1);
    CHECK(w.clients[c].seen[3].plan_at_ns == s4 + kNets[c].latency_ns + pb * kNets[c].down_ns_per_byte);
  }
  CHECK(w.notices[1]->ready() == 0);  // c1 was told nothing of rounds 3 and 4
  CHECK(w.downlinks[1]->stats().delivered == 1);
  // Traffic: five plans went down (three in round 1, two in round 4), no gradient.
  CHECK(w.weights == 5 * pb);
  CHECK(w.down == 5 * pb);
  CHECK(w.gradients == 0);

  // Round 1's aggregation: c0's upload alone (the failed clients are results
  // without uploads and without server batches): the prefix and the head at
  // the cut are c0's values exactly; the server side is untouched.
  const std::vector<at::Tensor>& after1 = w.supernet_after[0];
  const supernet::BodyPart prefix = w.net.extract(w.full, 1, kCut);
  const supernet::LocalHead head = w.net.extract_head(w.full, kCut);
  for (const supernet::SliceSet* slices : {&prefix.slices(), &head.slices()}) {
    for (int id : slices->spec_ids) {
      CAPTURE(id);
      CHECK(after1[static_cast<size_t>(id)].min().item<double>() == 0.5);
      CHECK(after1[static_cast<size_t>(id)].max().item<double>() == 0.5);
    }
  }
  const supernet::SliceSet& before = suffix_before.slices();
  for (size_t i = 0; i < before.spec_ids.size(); ++i) {
    CAPTURE(before.spec_ids[i]);
    CHECK(at::equal(after1[static_cast<size_t>(before.spec_ids[i])], before.tensors[i]));
  }
}

TEST_CASE("SL serves clients in turns: a turn lasts its own period, the next client's notice comes as it ends, "
          "and its plan carries the previous upload", "[server]") {
  World w(server::make_sl(strategy_options()), 2, {{}, {0, 1}});
  REQUIRE(w.strategy->serves_in_turns());
  w.clients[0].actions = {{1, Action::upload}};
  w.run();
  const int64_t turn0 = 2 * w.nominal(0), turn1 = 2 * w.nominal(1);
  const int64_t pb = w.arch.weight_bytes(w.full, 1, kCut);  // SL: no local head
  REQUIRE(w.clients[0].seen.size() == 1);
  REQUIRE(w.clients[1].seen.size() == 1);
  const Seen& first = w.clients[0].seen[0];
  const Seen& second = w.clients[1].seen[0];
  check_notice(first, 1, 0, turn0);
  CHECK(first.plan_at_ns == 10'000'000 + pb * 1000);
  CHECK(first.plan_min != first.plan_max);  // the supernet's own weights
  const int64_t upload0 = first.plan_at_ns + pb * 1000 + 10'000'000;
  check_notice(second, 1, upload0, turn1);  // its turn begins when c0's result comes
  CHECK(second.plan_at_ns == upload0 + 50'000'000 + pb * 2000);
  CHECK(second.plan_min == 0.5);  // c0's upload, written before this turn
  CHECK(second.plan_max == 0.5);
  REQUIRE(w.summaries.size() == 1);
  CHECK(ns(w.summaries[0].end) == upload0 + turn1);  // c1 is silent: its whole turn
  CHECK(w.summaries[0].clients_ok == 1);
  CHECK(w.summaries[0].clients_failed == 1);
  CHECK(w.summaries[0].evaluated);  // the last round
  CHECK(w.weights == 2 * pb);
}

TEST_CASE("a client that trains with the server but never uploads fails the round; its server replica is still "
          "aggregated and its server loss is the round's training loss", "[server]") {
  World w(server::make_supersfl(strategy_options()), 2, {{}, {0, 1}});
  w.clients[0].actions = {{1, Action::upload}};
  w.clients[1].actions = {{1, Action::batches_only}};
  const supernet::BodyPart suffix_before = w.net.extract(w.full, kCut + 1, w.arch.unit_count());
  w.run();
  const int64_t period = 2 * std::max(w.nominal(0), w.nominal(1));
  REQUIRE(w.summaries.size() == 1);
  const server::RoundSummary& r = w.summaries[0];
  CHECK(ns(r.end) == period);  // c1's session waits for its upload to the deadline
  CHECK(r.clients_ok == 1);
  CHECK(r.clients_failed == 1);
  // The mean server loss over the round's batches (c0 sent none): c1's two.
  const ScriptedClient& c1 = w.clients[1];
  REQUIRE(c1.server_losses.size() == 2);
  CHECK(r.train_loss == (c1.server_losses[0] + c1.server_losses[1]) / 2);

  // c1's batches, at its rates (4 us per byte up, 2 us down, 50 ms each way) and the server's 1 FLOP/ns.
  const int64_t pb = w.model_bytes();
  const int64_t plan_at = 50'000'000 + pb * 2000;
  CHECK(c1.seen.at(0).plan_at_ns == plan_at);
  const int64_t a_bytes = 8 * (w.arch.activation_bytes(w.full, kCut) + protocol::kLabelBytes);
  const int64_t g_bytes = 4 * c1.features_numel.at(0);
  const int64_t step = 3 * w.arch.forward_flops(w.full, kCut + 1, w.arch.unit_count()) * 8;
  const int64_t trip = a_bytes * 4000 + 50'000'000 + step + g_bytes * 2000 + 50'000'000;
  REQUIRE(c1.gradient_at_ns.size() == 2);
  CHECK(c1.batch_sent_ns[0] == plan_at);
  CHECK(c1.gradient_at_ns[0] == plan_at + trip);
  CHECK(c1.gradient_at_ns[1] == plan_at + 2 * trip);
  CHECK(w.gradients == 2 * g_bytes);
  CHECK(w.down == 2 * pb + 2 * g_bytes);
  CHECK(w.server.energy().busy_time(core::Activity::compute).count() == 2 * step);

  // The prefix and head are c0's upload alone; the suffix is c1's trained replica (it moved).
  const std::vector<at::Tensor>& after = w.supernet_after[0];
  const supernet::BodyPart prefix = w.net.extract(w.full, 1, kCut);
  for (int id : prefix.slices().spec_ids) {
    CAPTURE(id);
    CHECK(after[static_cast<size_t>(id)].min().item<double>() == 0.5);
    CHECK(after[static_cast<size_t>(id)].max().item<double>() == 0.5);
  }
  const supernet::SliceSet& before = suffix_before.slices();
  int64_t moved = 0;
  for (size_t i = 0; i < before.spec_ids.size(); ++i) {
    moved += at::equal(after[static_cast<size_t>(before.spec_ids[i])], before.tensors[i]) ? 0 : 1;
  }
  CHECK(moved == static_cast<int64_t>(before.spec_ids.size()));  // every tensor of it, BatchNorm statistics too
}
