#pragma once
// The discrete-event kernel: one virtual clock, one timer heap, one Asio
// io_context running C++20 coroutine actors.
//
// The loop (libsimulator's, with the clock as a member rather than a global):
//   1. run every ready Asio handler (io_context::poll) until none is left;
//   2. jump the clock to the earliest pending timer and fire every timer due
//      at that instant, in insertion order (they post completions);
//   3. repeat until no timer is left.
// If actors are still suspended when nothing is ready and no timer is left,
// no one can ever wake them: that is a deadlock, and run() reports which
// actors wait on what.
//
// Single-threaded by design: handlers run one at a time in a fixed order, so
// a run depends only on its inputs and seed, never on OS timing.
#include "simulator/core/error.hpp"
#include "simulator/core/faults.hpp"
#include "simulator/core/handler_pool.hpp"
#include "simulator/core/ids.hpp"
#include "simulator/core/rng.hpp"
#include "simulator/core/slot_table.hpp"
#include "simulator/core/time.hpp"
#include "simulator/core/timer_queue.hpp"
#include "simulator/core/trace.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sflsim::core {

namespace asio = boost::asio;

class Simulation;
class EnergyMeter;
class StateWriter;
class StateReader;

// A type-erased completion handler for operations that only report success
// or failure. Ops keep these, never raw coroutine handles, so cancellation,
// executors and allocators follow Asio's rules.
using VoidHandler = asio::any_completion_handler<void(error_code)>;

// Stores `source` in `target`. Boost 1.81's any_completion_handler move
// assignment wraps the source inside a new handler, recursing until the stack
// overflows (fixed in Boost 1.82), so kernel code never assigns handlers: it
// move-constructs and swaps.
template <typename Handler>
void store_handler(Handler& target, Handler&& source) noexcept {
  Handler moved(std::move(source));
  target.swap(moved);
}

// The body of an actor: called once per incarnation (again after a crash and
// rejoin), so it must be restartable. The std::function is kept by the
// Simulation for the whole run, which makes capturing lambdas safe:
//   sim.spawn({.name = "client7", .entity = EntityId{7}}, [&]() -> asio::awaitable<void> { ... });
using ActorBody = std::function<asio::awaitable<void>()>;

struct SpawnOptions {
  std::string name;   // for deadlock reports
  EntityId entity{};  // crashes of this entity kill the actor
  // A daemon (a server loop, a monitor) may still be waiting when the run
  // ends without that being a deadlock.
  bool daemon = false;
  // Started again from the top when its entity rejoins after a crash.
  bool restart_on_rejoin = true;
};

struct BlockedActor {
  ActorId id;
  std::string name;
  EntityId entity;
  bool daemon = false;
  std::string waiting_on;  // "receive on link 'server->c3'", ...
};

struct DeadlockReport {
  SimTime at;
  std::vector<BlockedActor> blocked;
  std::string to_string() const;
};

struct RunReport {
  SimTime end;                            // the clock when run() returned
  std::uint64_t events = 0;               // timer events fired so far (all runs)
  std::optional<DeadlockReport> deadlock; // set if non-daemon actors can never wake
};

// Anything that can hold actors suspended or must react to a crash (links,
// devices). Registers itself with the Simulation for its lifetime.
inline constexpr std::string_view kTimedWait = " until a deadline";

class SimObject {
 public:
  explicit SimObject(Simulation& sim);
  virtual ~SimObject();
  SimObject(const SimObject&) = delete;
  SimObject& operator=(const SimObject&) = delete;

  Simulation& simulation() const { return sim_; }

  // For deadlock reports: one entry per suspended await held here; an await
  // that has a timer of its own ends its entry with kTimedWait (busy_reason
  // names those when timers are pending).
  virtual void describe_waiters(std::vector<std::pair<ActorId, std::string>>& out) const;
  // The entity crashed: drop whatever it held (queued messages, ...).
  virtual void on_crash(EntityId entity);

  // Checkpoints. At rest: nothing in flight or queued here (no transfer, no
  // job, no undelivered message), so the object's whole state is what
  // save_state writes; load_state reads it back into an object built the
  // same way (throws StateError on bad input).
  virtual bool at_rest() const { return true; }
  virtual std::string describe() const { return "an object"; }  // for busy_reason()
  virtual void save_state(StateWriter& /*out*/) const {}
  virtual void load_state(StateReader& /*in*/) {}

 private:
  Simulation& sim_;
};

class Simulation {
 public:
  explicit Simulation(std::uint64_t seed = 1);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  SimTime now() const { return now_; }
  std::uint64_t seed() const { return seed_; }
  asio::io_context::executor_type get_executor() { return ctx_.get_executor(); }
  asio::io_context& context() { return ctx_; }

  // ---- Actors -------------------------------------------------------------
  // Starts an actor at the current instant (it first runs at the next poll,
  // or at once if spawned by a running actor).
  ActorId spawn(SpawnOptions options, ActorBody body);
  // Kills the current incarnation: its pending await completes with
  // operation_aborted and every later co_await throws, so the coroutine unwinds.
  void kill(ActorId id);
  bool running(ActorId id) const;
  const std::string& name(ActorId id) const;
  int incarnation(ActorId id) const;  // 1 for the first run, +1 per restart
  // The actor whose code runs now, or whose await is being started
  // (kNoActor outside actors). Kernel ops record it to report deadlocks. It is
  // set whenever the kernel resumes an actor; code resumed by other means
  // (raw asio::post) may be attributed to the actor that ran last.
  ActorId current_actor() const { return current_actor_; }

  // ---- Running ------------------------------------------------------------
  // Runs until no timer is left. Rethrows the first exception that escaped an
  // actor (other than the unwinding of a killed one).
  RunReport run() { return run_until(kNever); }
  // Runs every event due at or before `limit`; then the clock reads `limit`
  // if events remain, else the time of the last event.
  RunReport run_until(SimTime limit);
  std::uint64_t events_processed() const { return events_; }

  // ---- Time ---------------------------------------------------------------
  // Completes after `d` of virtual time (at once if d <= 0, still through the
  // executor). Errors: operation_aborted if cancelled. Default token:
  // asio::deferred, so `co_await sim.sleep_for(1s)` needs no frame; pass
  // asio::use_awaitable to combine with the || operator.
  template <typename Token = asio::deferred_t>
  auto sleep_for(SimDuration d, Token&& token = {}) {
    return sleep_until(now_ + d, std::forward<Token>(token));
  }
  // Completes at `when` (or now, if `when` has passed). Errors: operation_aborted.
  template <typename Token = asio::deferred_t>
  auto sleep_until(SimTime when, Token&& token = {}) {
    return asio::async_initiate<Token, void(error_code)>(
        [this](auto handler, SimTime t) { start_sleep(erase<VoidHandler>(std::move(handler)), t); }, token, when);
  }

  // ---- Kernel services (links, devices, tests) ----------------------------
  TimerHandle schedule_at(SimTime when, TimerCallback callback);
  bool cancel(TimerHandle& handle) { return timers_.cancel(handle); }
  bool pending(TimerHandle handle) const { return timers_.pending(handle); }

  // Type-erases a handler with its storage taken from the simulation's pool.
  template <typename Erased, typename Handler>
  Erased erase(Handler&& handler) {
    return Erased(asio::bind_allocator(PoolAllocator<void>(pool_), std::forward<Handler>(handler)));
  }

  // Delivers a completion: posts `handler(args...)` to the io_context (never
  // runs it inline, so initiating functions are never re-entered) and marks
  // `actor` as running when it resumes. The handler is invoked on the
  // io_context's thread; handlers bound to another execution context are not
  // supported (the simulation is single-threaded by design).
  template <typename Handler, typename... Args>
  void complete(Handler handler, ActorId actor, Args&&... args) {
    asio::post(ctx_, asio::bind_allocator(PoolAllocator<void>(pool_),
                                          [this, actor, h = std::move(handler), ... a = std::forward<Args>(args)]() mutable {
                                            current_actor_ = actor;
                                            std::move(h)(std::move(a)...);
                                          }));
  }

  // ---- Faults, randomness, trace, energy ----------------------------------
  // Installs the fault plan: crashes, rejoins and window edges are scheduled
  // now. Call before run(); links read their windows when they next send.
  void set_fault_plan(const FaultPlan& plan);
  // Adds one outage window while the simulation runs: for outages whose start
  // is known only then (a server outage decided by round number). Links see it
  // from their next send; transfers already in flight are not cut. An edge
  // that lies in the past is not scheduled (a window re-added on resume,
  // whose begin fired before the checkpoint).
  void add_outage(const OutageWindow& outage);
  const FaultIndex& faults() const { return faults_; }
  std::uint64_t fault_plan_version() const { return fault_version_; }

  // ---- Checkpoints ---------------------------------------------------------
  // Whether the whole simulation could be saved now, by the running actor:
  // every other live actor waits in an object (nothing is ready to run),
  // every object is at rest, and the only pending timers are fault-plan edges.
  bool at_rest() const { return busy_reason().empty(); }
  // Why not (for logs): "" when at rest, else the first thing found in flight.
  std::string busy_reason() const;
  // Saves the clock, the fault-plan edges fired so far and every object's
  // state (objects in creation order). Call only when at_rest().
  void save_state(StateWriter& out) const;
  // Restores what save_state wrote into a simulation built the same way
  // (same objects, same fault plan), before any actor is spawned: the clock
  // jumps there, fired crashes leave their entities down (actors spawned for
  // them start at their rejoin), and each object reads its state.
  // Errors: StateError naming the byte offset.
  void load_state(StateReader& in);

  // The stream keyed by (this simulation's seed, entity, purpose).
  RngStream rng(EntityId entity, std::string_view purpose) const { return {seed_, entity, purpose}; }

  Trace& trace() { return trace_; }
  void emit(const TraceEvent& event) const {
    if (trace_.active()) trace_.emit(event);
  }

  // Energy meters by entity (a Device registers its own); links charge
  // transmit and receive energy to the meters of their endpoints.
  void register_meter(EntityId entity, EnergyMeter* meter);
  EnergyMeter* meter_of(EntityId entity) const;

  // Constructs an object owned by the simulation, T(sim, args...), destroyed
  // before the simulation's internals: sim.create<Link<Msg>>(options).
  template <typename T, typename... Args>
  T& create(Args&&... args) {
    auto object = std::make_unique<T>(*this, std::forward<Args>(args)...);
    T& ref = *object;
    owned_.push_back(std::move(object));
    return ref;
  }

 private:
  friend class SimObject;
  struct ActorRecord;
  struct Sleeper;
  struct SleepCanceller;

  void start_actor(ActorId id);
  asio::awaitable<void> actor_main(ActorId id);
  void on_actor_done(ActorId id, int incarnation, std::exception_ptr error);
  void start_sleep(VoidHandler handler, SimTime when);
  static void fire_sleep(void* self, std::uint64_t arg);
  void cancel_sleep(std::uint32_t index, std::uint32_t generation);
  static void fire_fault_event(void* self, std::uint64_t arg);
  void crash(EntityId entity);
  void rejoin(EntityId entity);
  void fire_timers_due(SimTime t);
  DeadlockReport deadlock_report() const;

  // Declared first so they are destroyed last: stored handlers live in the
  // pool, and coroutine frames refer to the actors' signals until they are gone.
  HandlerPool pool_;
  std::vector<std::unique_ptr<ActorRecord>> actors_;
  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::uint64_t seed_;
  SimTime now_{};
  std::uint64_t events_ = 0;
  ActorId current_actor_ = kNoActor;
  std::exception_ptr failure_;
  TimerQueue timers_;
  SlotTable<Sleeper> sleepers_;
  FaultPlan plan_;
  FaultIndex faults_;
  std::uint64_t fault_version_ = 0;
  std::vector<TraceEvent> fault_events_;  // scheduled edges of the fault plan
  std::vector<TimerHandle> fault_timers_;  // by edge
  std::size_t plan_edges_ = 0;              // edges of set_fault_plan (the rest: add_outage)
  std::vector<std::uint32_t> fired_edges_;  // in firing order
  std::vector<EntityId> down_;              // crashed entities not yet rejoined
  Trace trace_;
  std::unordered_map<EntityId, EnergyMeter*> meters_;
  std::vector<SimObject*> objects_;
  std::vector<std::unique_ptr<SimObject>> owned_;
};

}  // namespace sflsim::core
