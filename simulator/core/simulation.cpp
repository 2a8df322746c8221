#include "simulator/core/simulation.hpp"

#include "simulator/core/state_codec.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

namespace sflsim::core {

struct Simulation::ActorRecord {
  SpawnOptions options;
  ActorBody body;
  // One signal per incarnation: a killed incarnation may still be unwinding
  // when the next one starts, and its frames refer to its own signal.
  std::vector<std::unique_ptr<asio::cancellation_signal>> signals;
  int incarnation = 0;
  int killed_up_to = 0;  // incarnations <= this were killed
  bool running = false;
  bool crashed = false;  // killed by its entity's crash; restart at rejoin
};

struct Simulation::Sleeper {
  VoidHandler handler;
  TimerHandle timer;
  ActorId actor = kNoActor;
  std::uint32_t generation = 0;
  bool active = false;
};

// Installed in the awaiting handler's cancellation slot; the generation makes
// a late cancellation of a finished sleep harmless.
struct Simulation::SleepCanceller {
  SleepCanceller(Simulation* s, std::uint32_t i, std::uint32_t g) : sim(s), index(i), generation(g) {}
  Simulation* sim;
  std::uint32_t index;
  std::uint32_t generation;
  void operator()(asio::cancellation_type_t) const { sim->cancel_sleep(index, generation); }
};

// ---- SimObject --------------------------------------------------------------

SimObject::SimObject(Simulation& sim) : sim_(sim) { sim.objects_.push_back(this); }

SimObject::~SimObject() {
  auto& objects = sim_.objects_;
  objects.erase(std::remove(objects.begin(), objects.end(), this), objects.end());
}

void SimObject::describe_waiters(std::vector<std::pair<ActorId, std::string>>&) const {}
void SimObject::on_crash(EntityId) {}

// ---- Simulation -------------------------------------------------------------

// BOOST_ASIO_CONCURRENCY_HINT_UNSAFE: one thread only, so the scheduler can
// skip its locks.
Simulation::Simulation(std::uint64_t seed)
    : ctx_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE), work_(ctx_.get_executor()), seed_(seed) {}

Simulation::~Simulation() {
  // Destroying a stored handler destroys the suspended coroutine behind it
  // (Asio posts the unwinding to the io_context), so the owned objects and
  // sleepers go first, while the io_context is alive; its destructor then
  // discards whatever was posted.
  while (!owned_.empty()) owned_.pop_back();
  sleepers_.clear();
  work_.reset();
}

ActorId Simulation::spawn(SpawnOptions options, ActorBody body) {
  if (!body) throw std::invalid_argument("Simulation::spawn: empty actor body");
  const ActorId id{static_cast<std::uint32_t>(actors_.size())};
  auto record = std::make_unique<ActorRecord>();
  record->options = std::move(options);
  record->body = std::move(body);
  actors_.push_back(std::move(record));
  if (std::find(down_.begin(), down_.end(), actors_.back()->options.entity) != down_.end()) {
    actors_.back()->crashed = true;  // its entity is down (a restored checkpoint): it starts at the rejoin
    return id;
  }
  start_actor(id);
  return id;
}

void Simulation::start_actor(ActorId id) {
  ActorRecord& record = *actors_[id.value];
  const int incarnation = ++record.incarnation;
  record.running = true;
  record.signals.push_back(std::make_unique<asio::cancellation_signal>());
  // co_spawn may run the new actor inline when called from a running actor;
  // the spawner is the current actor again afterwards.
  const ActorId spawner = current_actor_;
  asio::co_spawn(ctx_, actor_main(id),
                 asio::bind_cancellation_slot(record.signals.back()->slot(),
                                              [this, id, incarnation](std::exception_ptr error) {
                                                on_actor_done(id, incarnation, error);
                                              }));
  current_actor_ = spawner;
}

asio::awaitable<void> Simulation::actor_main(ActorId id) {
  current_actor_ = id;
  co_await actors_[id.value]->body();
}

void Simulation::on_actor_done(ActorId id, int incarnation, std::exception_ptr error) {
  ActorRecord& record = *actors_[id.value];
  const bool was_killed = incarnation <= record.killed_up_to;
  if (incarnation == record.incarnation) record.running = false;
  if (!error) return;
  if (was_killed) {
    try {
      std::rethrow_exception(error);
    } catch (const boost::system::system_error& e) {
      if (e.code() == asio::error::operation_aborted) return;  // the normal end of a killed actor
    } catch (...) {
    }
  }
  if (!failure_) failure_ = error;
}

void Simulation::kill(ActorId id) {
  ActorRecord& record = *actors_.at(id.value);
  if (!record.running || record.killed_up_to == record.incarnation) return;
  record.killed_up_to = record.incarnation;
  record.signals.back()->emit(asio::cancellation_type::terminal);
}

bool Simulation::running(ActorId id) const { return actors_.at(id.value)->running; }
const std::string& Simulation::name(ActorId id) const { return actors_.at(id.value)->options.name; }
int Simulation::incarnation(ActorId id) const { return actors_.at(id.value)->incarnation; }

RunReport Simulation::run_until(SimTime limit) {
  bool hit_limit = false;
  for (;;) {
    ctx_.poll();
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
    if (timers_.empty()) break;
    const SimTime t = timers_.next_time();
    if (t > limit) {
      hit_limit = true;
      break;
    }
    now_ = t;
    // Fired from inside the io_context: completions posted while firing then
    // take Asio's per-thread recycled memory instead of malloc.
    asio::post(ctx_, [this, t] { fire_timers_due(t); });
  }
  if (hit_limit && limit > now_) now_ = limit;
  RunReport report{now_, events_, std::nullopt};
  if (!hit_limit) {
    const bool stuck = std::any_of(actors_.begin(), actors_.end(), [](const auto& record) {
      return record->running && !record->options.daemon;
    });
    if (stuck) report.deadlock = deadlock_report();
  }
  return report;
}

void Simulation::fire_timers_due(SimTime t) {
  do {
    const TimerCallback callback = timers_.pop();
    ++events_;
    callback.fn(callback.object, callback.arg);
  } while (!timers_.empty() && timers_.next_time() == t);
}

DeadlockReport Simulation::deadlock_report() const {
  std::vector<std::pair<ActorId, std::string>> waits;
  for (const SimObject* object : objects_) object->describe_waiters(waits);
  std::map<std::uint32_t, std::string> waiting_on;
  for (auto& [actor, what] : waits) {
    auto& text = waiting_on[actor.value];
    text += text.empty() ? what : "; " + what;
  }
  DeadlockReport report{now_, {}};
  for (std::uint32_t i = 0; i < actors_.size(); ++i) {
    const ActorRecord& record = *actors_[i];
    if (!record.running) continue;
    const auto it = waiting_on.find(i);
    report.blocked.push_back(BlockedActor{
        ActorId{i}, record.options.name, record.options.entity, record.options.daemon,
        it != waiting_on.end() ? it->second : "an await outside the kernel (no kernel operation pending)"});
  }
  return report;
}

std::string DeadlockReport::to_string() const {
  std::ostringstream out;
  out << "deadlock at " << core::to_string(at) << ": " << blocked.size() << " actor(s) wait forever";
  for (const BlockedActor& actor : blocked) {
    out << "\n  " << actor.name << " (actor " << actor.id.value << ", entity " << actor.entity.value
        << (actor.daemon ? ", daemon" : "") << "): " << actor.waiting_on;
  }
  return out.str();
}

// ---- Sleeping ---------------------------------------------------------------

TimerHandle Simulation::schedule_at(SimTime when, TimerCallback callback) {
  return timers_.schedule(std::max(when, now_), callback);
}

void Simulation::start_sleep(VoidHandler handler, SimTime when) {
  const SlotId id = sleepers_.take();
  Sleeper& sleeper = sleepers_[id.index];
  sleeper.actor = current_actor_;
  auto slot = asio::get_associated_cancellation_slot(handler);
  store_handler(sleeper.handler, std::move(handler));
  sleeper.timer = schedule_at(when, {&Simulation::fire_sleep, this, id.packed()});
  if (slot.is_connected()) slot.template emplace<SleepCanceller>(this, id.index, id.generation);
}

void Simulation::fire_sleep(void* self, std::uint64_t arg) {
  auto& sim = *static_cast<Simulation*>(self);
  const auto index = static_cast<std::uint32_t>(arg);
  Sleeper& sleeper = sim.sleepers_[index];
  VoidHandler handler = std::move(sleeper.handler);
  sim.sleepers_.release(index);
  asio::get_associated_cancellation_slot(handler).clear();
  sim.complete(std::move(handler), sleeper.actor, error_code{});
}

void Simulation::cancel_sleep(std::uint32_t index, std::uint32_t generation) {
  if (!sleepers_.holds({index, generation})) return;
  Sleeper& sleeper = sleepers_[index];
  timers_.cancel(sleeper.timer);
  VoidHandler handler = std::move(sleeper.handler);
  sleepers_.release(index);
  complete(std::move(handler), sleeper.actor, error_code{asio::error::operation_aborted});
}

// ---- Faults -----------------------------------------------------------------

void Simulation::add_outage(const OutageWindow& outage) {
  plan_.outages.push_back(outage);
  faults_ = FaultIndex(plan_);
  ++fault_version_;
  for (const auto& [when, kind] : {std::pair{outage.window.begin, TraceKind::fault},
                                   std::pair{outage.window.end, TraceKind::fault_cleared}}) {
    if (when == kNever || when < now_) continue;  // a past edge fired before the checkpoint resumed from
    fault_events_.push_back(TraceEvent{when, outage.entity, kind});
    fault_timers_.push_back(schedule_at(when, {&Simulation::fire_fault_event, this, fault_events_.size() - 1}));
  }
}

void Simulation::set_fault_plan(const FaultPlan& plan) {
  plan_ = plan;
  faults_ = FaultIndex(plan);
  ++fault_version_;
  auto schedule = [this](SimTime when, EntityId entity, TraceKind kind) {
    if (when == kNever) return;
    fault_events_.push_back(TraceEvent{when, entity, kind});
    fault_timers_.push_back(schedule_at(when, {&Simulation::fire_fault_event, this, fault_events_.size() - 1}));
  };
  for (const auto& down : plan.link_down) {
    const EntityId link{hash_name(down.link)};
    schedule(down.window.begin, link, TraceKind::fault);
    schedule(down.window.end, link, TraceKind::fault_cleared);
  }
  for (const auto& outage : plan.outages) {
    schedule(outage.window.begin, outage.entity, TraceKind::fault);
    schedule(outage.window.end, outage.entity, TraceKind::fault_cleared);
  }
  for (const auto& c : plan.crashes) {
    schedule(c.at, c.entity, TraceKind::crash);
    if (c.rejoin_after) schedule(c.at + *c.rejoin_after, c.entity, TraceKind::rejoin);
  }
  plan_edges_ = fault_events_.size();
}

void Simulation::fire_fault_event(void* self, std::uint64_t arg) {
  auto& sim = *static_cast<Simulation*>(self);
  const TraceEvent event = sim.fault_events_[arg];
  sim.fired_edges_.push_back(static_cast<std::uint32_t>(arg));
  sim.emit(event);
  if (event.kind == TraceKind::crash) sim.crash(event.entity);
  if (event.kind == TraceKind::rejoin) sim.rejoin(event.entity);
}

void Simulation::crash(EntityId entity) {
  if (std::find(down_.begin(), down_.end(), entity) == down_.end()) down_.push_back(entity);
  for (std::uint32_t i = 0; i < actors_.size(); ++i) {
    ActorRecord& record = *actors_[i];
    if (record.options.entity == entity && record.running) {
      record.crashed = true;
      kill(ActorId{i});
    }
  }
  // Copy: an object's reaction must not invalidate the iteration.
  const std::vector<SimObject*> objects = objects_;
  for (SimObject* object : objects) object->on_crash(entity);
}

void Simulation::rejoin(EntityId entity) {
  down_.erase(std::remove(down_.begin(), down_.end(), entity), down_.end());
  for (std::uint32_t i = 0; i < actors_.size(); ++i) {
    ActorRecord& record = *actors_[i];
    if (record.options.entity == entity && record.crashed) {
      record.crashed = false;
      if (record.options.restart_on_rejoin) start_actor(ActorId{i});
    }
  }
}

void Simulation::register_meter(EntityId entity, EnergyMeter* meter) { meters_[entity] = meter; }

EnergyMeter* Simulation::meter_of(EntityId entity) const {
  const auto it = meters_.find(entity);
  return it == meters_.end() ? nullptr : it->second;
}

std::string Simulation::busy_reason() const {
  std::size_t pending_edges = 0;
  for (const TimerHandle& edge : fault_timers_) pending_edges += timers_.pending(edge) ? 1 : 0;
  std::vector<std::pair<ActorId, std::string>> waiting;
  for (const SimObject* object : objects_) {
    if (!object->at_rest()) return object->describe() + " is busy";
    object->describe_waiters(waiting);
  }
  if (timers_.size() != pending_edges) {
    std::string timed;
    for (const auto& [actor, what] : waiting) {
      if (what.ends_with(kTimedWait)) timed += "; '" + actors_[actor.value]->options.name + "' waits for " + what;
    }
    return std::to_string(timers_.size() - pending_edges) + " timers pending" + timed;
  }
  for (std::uint32_t i = 0; i < actors_.size(); ++i) {
    if (!actors_[i]->running || ActorId{i} == current_actor_) continue;
    const bool waits = std::any_of(waiting.begin(), waiting.end(), [i](const auto& w) { return w.first == ActorId{i}; });
    if (!waits) return "actor '" + actors_[i]->options.name + "' is ready to run";
  }
  return "";
}

void Simulation::save_state(StateWriter& out) const {
  out.i64(now_.time_since_epoch().count());
  out.u64(events_);
  std::vector<std::uint32_t> fired;  // edges of add_outage lie in the past of a boundary: not restored
  for (std::uint32_t edge : fired_edges_) {
    if (edge < plan_edges_) fired.push_back(edge);
  }
  out.u64(fired.size());
  for (std::uint32_t edge : fired) out.u32(edge);
  out.u64(objects_.size());
  for (const SimObject* object : objects_) {
    StateWriter blob;
    object->save_state(blob);
    out.string(blob.bytes());
  }
}

void Simulation::load_state(StateReader& in) {
  if (!actors_.empty() || now_ != SimTime{}) throw std::logic_error("Simulation::load_state: the simulation has already run");
  const std::int64_t now = in.i64_in(0, kNever.time_since_epoch().count() - 1, "the clock");
  const std::uint64_t events = in.u64();
  const std::size_t fired = in.count(4);
  std::vector<bool> seen(plan_edges_, false);
  for (std::size_t k = 0; k < fired; ++k) {
    const std::size_t at = in.offset();
    const std::uint32_t edge = in.u32();
    if (edge >= plan_edges_ || seen[edge]) {
      throw StateError("fault edge " + std::to_string(edge) + " is not an unfired edge of this scenario's fault plan (" +
                           std::to_string(plan_edges_) + " edges)",
                       at);
    }
    if (fault_events_[edge].time.time_since_epoch().count() > now) {
      throw StateError("fault edge " + std::to_string(edge) + " fired after the saved clock", at);
    }
    seen[edge] = true;
    timers_.cancel(fault_timers_[edge]);
    fired_edges_.push_back(edge);
    const TraceEvent& event = fault_events_[edge];
    if (event.kind == TraceKind::crash && std::find(down_.begin(), down_.end(), event.entity) == down_.end()) {
      down_.push_back(event.entity);
    }
    if (event.kind == TraceKind::rejoin) down_.erase(std::remove(down_.begin(), down_.end(), event.entity), down_.end());
  }
  const std::size_t objects = in.count(8);
  if (objects != objects_.size()) {
    in.fail("the checkpoint has " + std::to_string(objects) + " simulation objects, this scenario builds " +
            std::to_string(objects_.size()));
  }
  for (SimObject* object : objects_) {
    const std::size_t base = in.offset() + 8;
    const std::string blob = in.string();
    StateReader part(blob, base);
    object->load_state(part);
    part.expect_done("an object's state");
  }
  now_ = SimTime{SimDuration{now}};
  events_ = events;
}

}  // namespace sflsim::core
