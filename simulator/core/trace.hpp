#pragma once
// Typed trace events. Kernel and protocol code never print: they emit events,
// and writers (CSV, JSONL, progress, fingerprint) subscribe.
#include "simulator/core/ids.hpp"
#include "simulator/core/time.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace sflsim::core {

enum class TraceKind : std::uint8_t {
  transfer_start,  // entity = sender, peer = receiver, bytes = declared size
  transfer_end,    // entity = receiver, peer = sender: the message arrived
  drop,            // entity = sender, peer = receiver: lost (cause says why)
  compute_start,   // entity = device owner, bytes = FLOPs (or ns for compute_for)
  compute_end,     // same, when the job finished or was aborted (cause)
  fault,           // a down window began: entity = link or entity that went down
  fault_cleared,   // that window ended
  crash,           // entity crashed; its actors were killed
  rejoin,          // entity came back; its restartable actors were restarted
};

std::string_view to_string(TraceKind kind);

struct TraceEvent {
  SimTime time;
  EntityId entity;
  TraceKind kind;
  std::int64_t bytes = 0;
  EntityId peer{};
  int cause = 0;  // an errc value for drops and aborted jobs, else 0
};

// A subscriber. Called synchronously, in event order, at the virtual instant
// of the event; it must not call back into the simulation.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void on_event(const TraceEvent& event) = 0;
};

// The fan-out point. Emitting with no subscriber costs one branch.
class Trace {
 public:
  // The sink is not owned and must outlive the simulation's run.
  void subscribe(TraceSink& sink) { sinks_.push_back(&sink); }
  void unsubscribe(TraceSink& sink);
  bool active() const { return !sinks_.empty(); }
  void emit(const TraceEvent& event) const {
    for (TraceSink* sink : sinks_) sink->on_event(event);
  }

 private:
  std::vector<TraceSink*> sinks_;
};

// Hash of every event's (time, entity, kind, bytes) for regression tests.
//
// Why a sum of mixed hashes rather than a chained hash: events at the same
// virtual instant that belong to unrelated entities may be emitted in either
// order depending on which entity was created first; a commutative combination
// makes the fingerprint depend on *what* happened *when*, not on that order.
class FingerprintSink final : public TraceSink {
 public:
  void on_event(const TraceEvent& event) override;
  std::uint64_t value() const { return sum_ ^ mix_count(); }
  std::uint64_t events() const { return count_; }

 private:
  std::uint64_t mix_count() const;
  std::uint64_t sum_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace sflsim::core
