#include "simulator/core/link_core.hpp"

#include "simulator/core/state_codec.hpp"

#include "simulator/core/shared_bandwidth.hpp"

#include <algorithm>

namespace sflsim::core {

struct LinkCore::SendCanceller {
  SendCanceller(LinkCore* l, std::uint32_t i, std::uint32_t g) : link(l), index(i), generation(g) {}
  LinkCore* link;
  std::uint32_t index;
  std::uint32_t generation;
  void operator()(asio::cancellation_type_t) const { link->cancel_wait(index, generation); }
};

LinkCore::LinkCore(Simulation& sim, LinkOptions options)
    : SimObject(sim),
      options_(std::move(options)),
      entity_{hash_name(options_.name)},
      drop_rng_(sim.seed(), entity_, "drop"),
      jitter_rng_(sim.seed(), entity_, "jitter") {}

LinkCore::~LinkCore() {
  // Leave no timer or flow pointing at a destroyed link.
  for (Transfer& t : transfers_) {
    if (!t.active) continue;
    simulation().cancel(t.timer);
    simulation().cancel(t.abort_timer);
    if (options_.shared != nullptr && t.flow != 0) options_.shared->abort_flow(t.flow);
  }
}

std::uint32_t LinkCore::arg_index(std::uint64_t arg) const { return static_cast<std::uint32_t>(arg); }

std::uint64_t LinkCore::arg_of(std::uint32_t index) const {
  return SlotId{index, transfers_[index].generation}.packed();
}

const DownWindows& LinkCore::windows() {
  const Simulation& sim = simulation();
  if (windows_version_ != sim.fault_plan_version()) {
    windows_ = sim.faults().windows_for(options_.name, options_.from, options_.to);
    drop_probability_ = sim.faults().drop_probability(options_.name);
    windows_version_ = sim.fault_plan_version();
  }
  return windows_;
}

void LinkCore::start_send(VoidHandler handler, std::uint32_t payload, std::int64_t bytes) {
  const SlotId id = transfers_.take();
  const std::uint32_t index = id.index;
  const std::uint32_t generation = id.generation;
  Transfer& t = transfers_[index];
  t.waiting = true;
  t.actor = simulation().current_actor();
  t.payload = payload;
  t.bytes = std::max<std::int64_t>(bytes, 0);
  t.flow = 0;
  auto slot = asio::get_associated_cancellation_slot(handler);
  store_handler(t.handler, std::move(handler));
  if (slot.is_connected()) slot.template emplace<SendCanceller>(this, index, generation);
  queue_.push_back(index);
  begin_transmissions();
}

void LinkCore::begin_transmissions() {
  while (!transmitting_ && !queue_.empty()) {
    const std::uint32_t index = queue_.front();
    queue_.pop_front();
    begin(index);
  }
}

void LinkCore::begin(std::uint32_t index) {
  Simulation& sim = simulation();
  const SimTime now = sim.now();
  const DownWindows& down = windows();
  Transfer& t = transfers_[index];
  t.start = now;
  ++stats_.messages_sent;
  stats_.bytes_sent += t.bytes;
  sim.emit(TraceEvent{now, options_.from, TraceKind::transfer_start, t.bytes, options_.to});
  t.fail_at = down.first_down_from(now);
  if (t.fail_at == now) {  // down already: fails at once, costs nothing
    end_transmission(index, now);
    return;
  }
  // One drop draw per transmitted message (when p > 0) and one jitter draw
  // (when jitter > 0), each from the link's own stream: a link's draws depend
  // only on how many messages it has sent, never on other links.
  const bool dropped = drop_probability_ > 0.0 && drop_rng_.bernoulli(drop_probability_);
  t.fate = dropped ? error_code{errc::message_dropped} : error_code{};
  t.delay = options_.latency;
  if (options_.jitter > SimDuration::zero()) t.delay += SimDuration{jitter_rng_.uniform_int(0, options_.jitter.count())};
  transmitting_ = true;

  EnergyMeter* tx_meter = sim.meter_of(options_.from);
  EnergyMeter* rx_meter = sim.meter_of(options_.to);
  if (options_.shared == nullptr) {
    const SimTime tx_end = options_.bandwidth.finish_time(now, nanobits(t.bytes));
    const SimTime stop = std::min(tx_end, t.fail_at);
    if (tx_meter != nullptr) tx_meter->add(Activity::transmit, now, stop, now);
    const bool arrives = !dropped && t.fail_at >= tx_end + t.delay;
    if (rx_meter != nullptr && arrives) rx_meter->add(Activity::receive, now + t.delay, tx_end + t.delay, now);
    t.timer = sim.schedule_at(stop, {&LinkCore::on_tx_end, this, arg_of(index)});
  } else {
    if (tx_meter != nullptr) t.tx_interval = tx_meter->open(Activity::transmit, now, now);
    if (rx_meter != nullptr) t.rx_interval = rx_meter->open(Activity::receive, now + t.delay, now);
    t.flow = options_.shared->start_flow(nanobits(t.bytes), &options_.bandwidth,
                                         {&LinkCore::on_flow_done, this, arg_of(index)});
    if (t.fail_at != kNever) t.abort_timer = sim.schedule_at(t.fail_at, {&LinkCore::on_abort, this, arg_of(index)});
  }
}

void LinkCore::end_transmission(std::uint32_t index, SimTime now) {
  Simulation& sim = simulation();
  Transfer& t = transfers_[index];
  const SimTime arrival = now + t.delay;
  if (t.fail_at <= now || (!t.fate && t.fail_at < arrival)) t.fate = errc::link_down;
  const bool ok = !t.fate;
  transmitting_ = false;  // begin() runs only when the wire is free
  if (options_.shared != nullptr && t.flow != 0) {
    if (EnergyMeter* m = sim.meter_of(options_.from)) m->close(t.tx_interval, now, now);
    if (EnergyMeter* m = sim.meter_of(options_.to)) m->close(t.rx_interval, ok ? arrival : SimTime{}, now);
    t.flow = 0;
  }
  if (ok) {
    t.timer = sim.schedule_at(arrival, {&LinkCore::on_arrival, this, arg_of(index)});
  } else {
    ++(t.fate == errc::message_dropped ? stats_.dropped : stats_.failed);
    sim.emit(TraceEvent{now, options_.from, TraceKind::drop, t.bytes, options_.to, t.fate.value()});
    discard(t.payload);
  }
  if (t.waiting) {
    t.waiting = false;
    VoidHandler handler(std::move(t.handler));
    asio::get_associated_cancellation_slot(handler).clear();
    sim.complete(std::move(handler), t.actor, t.fate);
  }
  if (!ok) release(index);
}

void LinkCore::release(std::uint32_t index) {
  transfers_.release(index);
}

void LinkCore::cancel_wait(std::uint32_t index, std::uint32_t generation) {
  if (!transfers_.holds({index, generation})) return;
  Transfer& t = transfers_[index];
  if (!t.waiting) return;
  t.waiting = false;
  VoidHandler handler(std::move(t.handler));
  simulation().complete(std::move(handler), t.actor, error_code{asio::error::operation_aborted});
}

void LinkCore::on_tx_end(void* self, std::uint64_t arg) {
  auto& link = *static_cast<LinkCore*>(self);
  link.end_transmission(link.arg_index(arg), link.simulation().now());
  link.begin_transmissions();
}

void LinkCore::on_flow_done(void* self, std::uint64_t arg) {
  auto& link = *static_cast<LinkCore*>(self);
  const std::uint32_t index = link.arg_index(arg);
  link.simulation().cancel(link.transfers_[index].abort_timer);
  link.end_transmission(index, link.simulation().now());
  link.begin_transmissions();
}

void LinkCore::on_abort(void* self, std::uint64_t arg) {
  auto& link = *static_cast<LinkCore*>(self);
  const std::uint32_t index = link.arg_index(arg);
  link.options_.shared->abort_flow(link.transfers_[index].flow);
  link.end_transmission(index, link.simulation().now());
  link.begin_transmissions();
}

void LinkCore::on_arrival(void* self, std::uint64_t arg) {
  auto& link = *static_cast<LinkCore*>(self);
  Simulation& sim = link.simulation();
  const std::uint32_t index = link.arg_index(arg);
  const Transfer& t = link.transfers_[index];
  sim.emit(TraceEvent{sim.now(), link.options_.to, TraceKind::transfer_end, t.bytes, link.options_.from});
  ++link.stats_.delivered;
  const std::uint32_t payload = t.payload;
  link.release(index);
  link.deliver(payload);
}

void LinkCore::describe_waiters(std::vector<std::pair<ActorId, std::string>>& out) const {
  for (const Transfer& t : transfers_) {
    if (t.active && t.waiting) out.emplace_back(t.actor, "send on link '" + options_.name + "'");
  }
}

bool LinkCore::at_rest() const {
  return queue_.empty() && !transmitting_ && transfers_.none_taken();
}

void LinkCore::save_state(StateWriter& out) const {
  for (const RngStream* rng : {&drop_rng_, &jitter_rng_}) {
    for (std::uint64_t word : rng->state()) out.u64(word);
  }
  for (std::int64_t count : {stats_.messages_sent, stats_.bytes_sent, stats_.delivered, stats_.dropped, stats_.failed}) {
    out.i64(count);
  }
}

void LinkCore::load_state(StateReader& in) {
  for (RngStream* rng : {&drop_rng_, &jitter_rng_}) {
    std::array<std::uint64_t, 4> state{};
    for (std::uint64_t& word : state) word = in.u64();
    rng->set_state(state);
  }
  for (std::int64_t* count : {&stats_.messages_sent, &stats_.bytes_sent, &stats_.delivered, &stats_.dropped, &stats_.failed}) {
    *count = in.i64();
  }
}

}  // namespace sflsim::core
