// The timer heap against a reference model: (time, insertion) order, lazy
// cancellation, handles that stay safe after their event is gone.
#include "simulator/core/timer_queue.hpp"

#include "simulator/core/rng.hpp"

#include "printing.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <utility>
#include <vector>

using namespace sflsim::core;
using namespace std::chrono_literals;

namespace {

void record(void* log, std::uint64_t arg) { static_cast<std::vector<std::uint64_t>*>(log)->push_back(arg); }

}  // namespace

TEST_CASE("timers fire by time, then by insertion order", "[timer_queue]") {
  TimerQueue q;
  std::vector<std::uint64_t> fired;
  q.schedule(at(2s), {&record, &fired, 1});
  q.schedule(at(1s), {&record, &fired, 2});
  q.schedule(at(2s), {&record, &fired, 3});
  q.schedule(at(1s), {&record, &fired, 4});
  while (!q.empty()) {
    const TimerCallback cb = q.pop();
    cb.fn(cb.object, cb.arg);
  }
  CHECK(fired == std::vector<std::uint64_t>{2, 4, 1, 3});
}

TEST_CASE("handles are safe after their event fired or was cancelled", "[timer_queue]") {
  TimerQueue q;
  std::vector<std::uint64_t> fired;
  TimerHandle a = q.schedule(at(1s), {&record, &fired, 1});
  TimerHandle b = q.schedule(at(2s), {&record, &fired, 2});
  CHECK(q.pending(a));
  CHECK(q.cancel(a));
  CHECK_FALSE(q.pending(a));
  CHECK_FALSE(q.cancel(a));
  // The freed slot is reused; the old handle must not name the new event.
  const TimerHandle old_b = b;
  TimerHandle c = q.schedule(at(3s), {&record, &fired, 3});
  CHECK(q.size() == 2);
  CHECK(q.next_time() == at(2s));
  q.pop();
  CHECK_FALSE(q.pending(old_b));
  TimerHandle stale = old_b;
  CHECK_FALSE(q.cancel(stale));
  CHECK(q.pending(c));
  CHECK(TimerHandle{}.generation == 0);
  CHECK_FALSE(q.pending(TimerHandle{}));
}

TEST_CASE("random schedules and cancellations match a reference model", "[timer_queue]") {
  TimerQueue q;
  RngStream rng(5, EntityId{1}, "timer-test");
  std::map<std::pair<std::int64_t, std::uint64_t>, std::uint64_t> model;  // (time, order) -> id
  std::vector<std::pair<TimerHandle, std::pair<std::int64_t, std::uint64_t>>> handles;
  std::vector<std::uint64_t> fired;
  std::uint64_t order = 0;
  std::int64_t now = 0;
  for (int step = 0; step < 20'000; ++step) {
    const std::uint64_t action = rng.uniform_below(10);
    if (action < 5) {
      const std::int64_t t = now + static_cast<std::int64_t>(rng.uniform_below(50));
      const std::uint64_t id = order;
      handles.emplace_back(q.schedule(at(SimDuration{t}), {&record, &fired, id}), std::pair{t, order});
      model[{t, order++}] = id;
    } else if (action < 7 && !handles.empty()) {
      auto& [handle, key] = handles[rng.uniform_below(handles.size())];
      const bool expected = model.erase(key) == 1;
      CHECK(q.cancel(handle) == expected);
    } else if (!q.empty()) {
      REQUIRE(!model.empty());
      const auto first = model.begin();
      CHECK(ns_since_start(q.next_time()) == first->first.first);
      now = first->first.first;
      const TimerCallback cb = q.pop();
      cb.fn(cb.object, cb.arg);
      CHECK(fired.back() == first->second);
      model.erase(first);
    }
    REQUIRE(q.size() == model.size());
  }
}
