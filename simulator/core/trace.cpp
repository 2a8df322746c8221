#include "simulator/core/trace.hpp"

#include "simulator/core/rng.hpp"

#include <algorithm>

namespace sflsim::core {

std::string_view to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::transfer_start: return "transfer_start";
    case TraceKind::transfer_end: return "transfer_end";
    case TraceKind::drop: return "drop";
    case TraceKind::compute_start: return "compute_start";
    case TraceKind::compute_end: return "compute_end";
    case TraceKind::fault: return "fault";
    case TraceKind::fault_cleared: return "fault_cleared";
    case TraceKind::crash: return "crash";
    case TraceKind::rejoin: return "rejoin";
  }
  return "unknown";
}

void Trace::unsubscribe(TraceSink& sink) {
  sinks_.erase(std::remove(sinks_.begin(), sinks_.end(), &sink), sinks_.end());
}

void FingerprintSink::on_event(const TraceEvent& event) {
  std::uint64_t h = mix64(static_cast<std::uint64_t>(ns_since_start(event.time)));
  h = mix64(h ^ event.entity.value);
  h = mix64(h ^ static_cast<std::uint64_t>(event.kind));
  h = mix64(h ^ static_cast<std::uint64_t>(event.bytes));
  sum_ += h;
  ++count_;
}

std::uint64_t FingerprintSink::mix_count() const { return mix64(count_); }

}  // namespace sflsim::core
