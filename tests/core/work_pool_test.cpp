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

TEST_CASE("work pool: a chain of tasks runs in order when its last task is waited for", "[work_pool]") {
  WorkPool pool(2);
  std::vector<int> order;
  WorkTicket last;
  for (int i = 0; i < 50; ++i) {
    const WorkTicket previous = last;
    last = pool.submit([&order, previous, i] {
      previous.wait();
      if (i == 10) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      order.push_back(i);
    });
  }
  last.wait();
  std::vector<int> expected(50);
  std::iota(expected.begin(), expected.end(), 0);
  CHECK(order == expected);  // each task waited for its predecessor, the last wait for all
}

TEST_CASE("work pool: workers run their start hook once each", "[work_pool]") {
  std::atomic<int> started{0};
  {
    WorkPool pool(3, [&] { ++started; });
    pool.submit([] {}).wait();
  }
  CHECK(started == 3);
}

using sflsim::core::Start;

TEST_CASE("work pool: an on-demand task runs only when waited for, on the waiting thread", "[work_pool]") {
  WorkPool pool(2);
  std::atomic<bool> ran{false};
  std::thread::id ran_on;
  const WorkTicket ticket = pool.submit([&] {
    ran_on = std::this_thread::get_id();
    ran = true;
  }, Start::on_demand);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(ran);  // no worker may take it; this cannot pass by luck the wrong way
  ticket.wait_for_workers();  // not offered to them: runs here
  CHECK(ran);
  CHECK(ran_on == std::this_thread::get_id());
}

TEST_CASE("work pool: offered tasks run in submission order; wait_for_workers leaves them to the workers",
          "[work_pool]") {
  WorkPool pool(1);
  std::atomic<bool> gate_open{false};
  std::vector<std::thread::id> ran_on;  // written by the one worker only
  std::vector<int> order;
  const WorkTicket gate = pool.submit([&] {
    while (!gate_open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  std::vector<WorkTicket> tickets;
  for (int i = 0; i < 3; ++i) {
    tickets.push_back(pool.submit([&, i] {
      order.push_back(i);
      ran_on.push_back(std::this_thread::get_id());
    }));
  }
  gate_open = true;
  for (auto it = tickets.rbegin(); it != tickets.rend(); ++it) it->wait_for_workers();  // the last first
  CHECK(order == std::vector<int>{0, 1, 2});
  for (const std::thread::id& id : ran_on) CHECK(id != std::this_thread::get_id());
  gate.wait();
}
