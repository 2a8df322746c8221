#include "simulator/core/shared_bandwidth.hpp"

#include <algorithm>
#include <limits>

namespace sflsim::core {
namespace {

constexpr std::int64_t kUncapped = std::numeric_limits<std::int64_t>::max();

}  // namespace

SharedBandwidth::SharedBandwidth(Simulation& sim, std::string name, BandwidthSchedule capacity)
    : SimObject(sim), name_(std::move(name)), capacity_(std::move(capacity)), last_update_(sim.now()) {}

SharedBandwidth::~SharedBandwidth() { simulation().cancel(timer_); }

SharedBandwidth::Flow* SharedBandwidth::find(std::uint64_t flow) {
  const SlotId id = SlotId::unpack(flow);
  return flows_.holds(id) ? &flows_[id.index] : nullptr;
}

const SharedBandwidth::Flow* SharedBandwidth::find(std::uint64_t flow) const {
  return const_cast<SharedBandwidth*>(this)->find(flow);
}

std::uint64_t SharedBandwidth::start_flow(Int128 work, const BandwidthSchedule* cap, TimerCallback on_done) {
  advance();
  const SlotId id = flows_.take();
  const std::uint32_t index = id.index;
  Flow& f = flows_[index];
  f.remaining = work;
  f.cap = cap;
  f.on_done = on_done;
  order_.push_back(index);
  reallocate();
  reschedule();
  return id.packed();
}

bool SharedBandwidth::abort_flow(std::uint64_t flow) {
  Flow* f = find(flow);
  if (f == nullptr) return false;
  advance();
  const std::uint32_t index = SlotId::unpack(flow).index;
  order_.erase(std::find(order_.begin(), order_.end(), index));
  flows_.release(index);
  reallocate();
  reschedule();
  return true;
}

std::int64_t SharedBandwidth::rate_of(std::uint64_t flow) const {
  const Flow* f = find(flow);
  return f == nullptr ? 0 : f->rate_num / f->rate_den;
}

void SharedBandwidth::advance() {
  const SimTime now = simulation().now();
  const std::int64_t dt = (now - last_update_).count();
  last_update_ = now;
  if (dt <= 0) return;
  for (const std::uint32_t index : order_) {
    Flow& f = flows_[index];
    f.remaining -= static_cast<Int128>(f.rate_num) * dt / f.rate_den;
  }
}

void SharedBandwidth::reallocate() {
  const SimTime now = simulation().now();
  std::vector<std::pair<std::int64_t, std::uint32_t>> by_cap;
  by_cap.reserve(order_.size());
  for (const std::uint32_t index : order_) {
    const Flow& f = flows_[index];
    by_cap.emplace_back(f.cap != nullptr ? f.cap->rate_at(now) : kUncapped, index);
  }
  std::stable_sort(by_cap.begin(), by_cap.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Water-filling: a flow whose cap is below the equal share of what is left
  // keeps its cap; once one is not, all the rest share equally.
  Int128 left = capacity_.rate_at(now);
  auto sharing = static_cast<std::int64_t>(by_cap.size());
  std::size_t i = 0;
  for (; i < by_cap.size(); ++i) {
    const std::int64_t cap = by_cap[i].first;
    if (static_cast<Int128>(cap) * sharing > left) break;
    Flow& f = flows_[by_cap[i].second];
    f.rate_num = cap;
    f.rate_den = 1;
    left -= cap;
    --sharing;
  }
  for (; i < by_cap.size(); ++i) {
    Flow& f = flows_[by_cap[i].second];
    f.rate_num = static_cast<std::int64_t>(left);
    f.rate_den = sharing;
  }
}

void SharedBandwidth::reschedule() {
  Simulation& sim = simulation();
  const SimTime now = sim.now();
  sim.cancel(timer_);
  if (order_.empty()) return;
  SimTime next = capacity_.next_change_after(now);
  for (const std::uint32_t index : order_) {
    const Flow& f = flows_[index];
    if (f.cap != nullptr) next = std::min(next, f.cap->next_change_after(now));
    if (f.remaining <= 0) {
      next = now;
    } else if (f.rate_num > 0) {
      const Int128 wait = ceil_div(f.remaining * f.rate_den, f.rate_num);
      if (wait < (kNever - now).count()) next = std::min(next, now + SimDuration{static_cast<std::int64_t>(wait)});
    }
  }
  if (next != kNever) timer_ = sim.schedule_at(next, {&SharedBandwidth::on_timer, this, 0});
}

void SharedBandwidth::on_timer(void* self, std::uint64_t) {
  auto& shared = *static_cast<SharedBandwidth*>(self);
  shared.timer_ = TimerHandle{};
  shared.advance();
  std::vector<TimerCallback> finished;
  std::erase_if(shared.order_, [&](std::uint32_t index) {
    Flow& f = shared.flows_[index];
    if (f.remaining > 0) return false;
    finished.push_back(f.on_done);
    shared.flows_.release(index);
    return true;
  });
  shared.reallocate();
  shared.reschedule();
  // In start order; a callback may start the next flow at once.
  for (const TimerCallback& done : finished) done.fn(done.object, done.arg);
}

}  // namespace sflsim::core
