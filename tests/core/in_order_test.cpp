#include "simulator/core/in_order.hpp"

#include <catch2/catch.hpp>

#include <memory>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using sflsim::core::InOrder;
using sflsim::core::Start;
using sflsim::core::WorkPool;
using sflsim::core::WorkTicket;

namespace {

// A task that finishes after `delay`: inputs that complete in reverse order.
WorkTicket slow_input(WorkPool& pool, std::chrono::milliseconds delay, std::atomic<int>& done) {
  return pool.submit([delay, &done] {
    std::this_thread::sleep_for(delay);
    ++done;
  }, Start::on_demand);
}

}  // namespace

TEST_CASE("in order: steps run in the order they were added, whatever order their inputs finish in",
          "[in_order][work_pool]") {
  for (const int workers : {0, 1, 2, 3}) {
    CAPTURE(workers);
    WorkPool pool(workers);
    std::atomic<int> inputs_done{0};
    std::vector<int> order;  // written by the steps only: they never run at once
    std::vector<int> inputs_seen;  // (Catch2 assertions are not for worker threads)
    {
      InOrder steps(&pool);
      for (int i = 0; i < 6; ++i) {
        const WorkTicket input = slow_input(pool, std::chrono::milliseconds(5 * (6 - i)), inputs_done);
        steps.add({input}, [&order, &inputs_seen, &inputs_done, i] {
          inputs_seen.push_back(inputs_done.load());
          order.push_back(i);
        });
      }
      steps.wait();
      CHECK(inputs_done.load() == 6);  // deferred inputs were run by the steps' tasks
      CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
      for (size_t i = 0; i < inputs_seen.size(); ++i) CHECK(inputs_seen[i] >= static_cast<int>(i) + 1);
    }
  }
}

TEST_CASE("in order: a step's exception is rethrown by wait, and a step's captures go once it ran",
          "[in_order][work_pool]") {
  WorkPool pool(2);
  InOrder steps(&pool);
  auto held = std::make_shared<int>(7);
  const std::weak_ptr<int> watch = held;
  std::atomic<int> seen{0};
  steps.add({}, [held = std::move(held), &seen] { seen = *held; });
  steps.add({}, [] { throw std::runtime_error("step failed"); });
  CHECK_THROWS_WITH(steps.wait(), "step failed");
  CHECK(seen == 7);
  CHECK(watch.expired());
}
