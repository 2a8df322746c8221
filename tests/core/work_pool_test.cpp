#include "simulator/core/work_pool.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>
#include <thread>

using sflsim::core::submit_work;
using sflsim::core::WorkPool;
using sflsim::core::WorkTicket;

TEST_CASE("work pool: every task runs exactly once and its result is visible after wait", "[work_pool]") {
  for (int workers : {0, 1, 3}) {
    WorkPool pool(workers);
    std::vector<long> sums(200, 0);
    std::vector<WorkTicket> tickets;
    for (size_t i = 0; i < sums.size(); ++i) {
      tickets.push_back(pool.submit([&sums, i] {
        for (size_t k = 0; k <= i; ++k) sums[i] += static_cast<long>(k);
      }));
    }
    for (size_t i = 0; i < sums.size(); ++i) {
      tickets[i].wait();
      CHECK(sums[i] == static_cast<long>(i * (i + 1) / 2));
    }
  }
}

TEST_CASE("work pool: without workers a task runs on the waiting thread, at the wait", "[work_pool]") {
  WorkPool pool(0);
  std::thread::id ran_on;
  bool ran = false;
  WorkTicket ticket = pool.submit([&] {
    ran = true;
    ran_on = std::this_thread::get_id();
  });
  CHECK_FALSE(ran);
  ticket.wait();
  CHECK(ran);
  CHECK(ran_on == std::this_thread::get_id());
  ticket.wait();  // a second wait returns at once
  CHECK_FALSE(ticket.pending());
}

TEST_CASE("work pool: a task's exception is rethrown by wait", "[work_pool]") {
  WorkPool pool(2);
  WorkTicket ticket = pool.submit([] { throw std::runtime_error("bad batch"); });
  CHECK_THROWS_WITH(ticket.wait(), "bad batch");
  CHECK_THROWS_WITH(ticket.wait(), "bad batch");  // every waiter sees it
  WorkTicket inline_ticket = submit_work(nullptr, [] { throw std::runtime_error("inline"); });
  CHECK_THROWS_WITH(inline_ticket.wait(), "inline");
}

TEST_CASE("work pool: a guard waits for the last task of a chain when its scope ends", "[work_pool]") {
  WorkPool pool(2);
  std::vector<int> order;
  {
    sflsim::core::WorkGuard guard;
    for (int i = 0; i < 50; ++i) {
      const WorkTicket previous = guard.last;
      guard.last = pool.submit([&order, previous, i] {
        previous.wait();
        if (i == 10) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        order.push_back(i);
      });
    }
  }
  std::vector<int> expected(50);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(order == expected);  // each task waited for its predecessor, the guard for all
}

TEST_CASE("work pool: workers run their start hook once each", "[work_pool]") {
  std::atomic<int> started{0};
  {
    WorkPool pool(3, [&] { ++started; });
    pool.submit([] {}).wait();
  }
  CHECK(started == 3);
}

namespace {
// Spins until `flag` is set or two seconds pass; returns the flag.
bool eventually(const std::atomic<bool>& flag) {
  for (int i = 0; i < 2000 && !flag; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return flag;
}
}  // namespace

using sflsim::core::Start;

TEST_CASE("work pool: an on-demand task waits for release or wait; release offers it to the workers",
          "[work_pool]") {
  WorkPool pool(2, {}, /*open_chains_limit=*/0);  // no running ahead: only release or wait starts it
  std::atomic<bool> ran{false};
  const WorkTicket ticket = pool.submit([&] { ran = true; }, pool.open_chain(), Start::on_demand);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(ran);  // nothing may start it; this cannot pass by luck the wrong way
  pool.release(ticket);
  CHECK(eventually(ran));  // a worker ran it: nobody waited
  ticket.wait();
  CHECK_FALSE(ticket.pending());
}

TEST_CASE("work pool: idle workers start at most the limit of chains ahead of their release", "[work_pool]") {
  WorkPool pool(1, {}, /*open_chains_limit=*/1);
  std::atomic<bool> first_ran{false}, second_ran{false};
  const uint64_t first = pool.open_chain(), second = pool.open_chain();
  const WorkTicket a = pool.submit([&] { first_ran = true; }, first, Start::on_demand);
  const WorkTicket b = pool.submit([&] { second_ran = true; }, second, Start::on_demand);
  CHECK(eventually(first_ran));  // the oldest chain is taken ahead by the idle worker
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(second_ran);  // the first chain is open (neither released nor closed): no second one
  pool.close_chain(first);
  CHECK(eventually(second_ran));
  b.wait();
  a.wait();
}

TEST_CASE("work pool: released tasks of the oldest chain run first, the newest of a chain first", "[work_pool]") {
  WorkPool pool(1);
  std::atomic<bool> gate_open{false}, all_ran{false};
  std::vector<std::string> order;  // written by the one worker only
  const WorkTicket gate = pool.submit([&] {
    while (!gate_open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the worker is inside the gate
  const uint64_t older = pool.open_chain(), newer = pool.open_chain();
  std::vector<WorkTicket> tickets;
  const auto record = [&](const char* name) {
    order.emplace_back(name);
    if (order.size() == 3) all_ran = true;
  };
  tickets.push_back(pool.submit([&] { record("newer"); }, newer));
  tickets.push_back(pool.submit([&] { record("older-1"); }, older));
  tickets.push_back(pool.submit([&] { record("older-2"); }, older));
  gate_open = true;
  REQUIRE(eventually(all_ran));  // the worker ran all three; nobody waited (a wait could run one itself)
  CHECK(order == std::vector<std::string>{"older-2", "older-1", "newer"});
  for (const WorkTicket& ticket : tickets) ticket.wait();
  gate.wait();
}

TEST_CASE("work pool: a not-ahead task is left to the later task that needs it, past the oldest chains",
          "[work_pool]") {
  WorkPool pool(1, {}, /*open_chains_limit=*/8);  // one worker: only the oldest open chain may run such a task ahead
  std::atomic<bool> older_ran{false}, graph_made{false}, stepped{false};
  const uint64_t older = pool.open_chain(), chain = pool.open_chain();
  const WorkTicket older_task = pool.submit([&] { older_ran = true; }, older, Start::on_demand);
  REQUIRE(eventually(older_ran));  // the older chain is open now (neither released nor closed)
  const WorkTicket forward = pool.submit([&] { graph_made = true; }, chain, Start::on_demand_not_ahead);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(graph_made);  // the idle worker may not start it ahead
  const WorkTicket step = pool.submit(
      [&, forward] {
        forward.wait();
        stepped = true;
      },
      chain, Start::on_demand);
  CHECK(eventually(stepped));  // taken ahead, running the forward inline first
  CHECK(graph_made);
  step.wait();
  older_task.wait();
}
