#pragma once
// The messages between rank 0 and the worker ranks of one `sflsim run --ranks`
// (or --world) simulation, and of a sweep spread over ranks. Torch-free.
//
//   rank 0 -> worker: hello (the resolved scenario, or a sweep), job (a recorded client round, with
//                     its supernet when the worker may not hold it), cell (a
//                     sweep cell to run), eval (test samples to score, with
//                     the evaluated model when the worker may not hold it), shutdown
//   worker -> rank 0: ready, result, failed (the job threw: deterministic, so
//                     not retried elsewhere), missing (the job's supernet is
//                     not held: send it along), heartbeat (while alive)
//
// Errors: decode() throws core::StateError (byte offset) on malformed bytes.
#include "simulator/core/state_codec.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sflsim::cli {

// The ranks' defaults, written once: a worker silent this long is lost
// (--rank-timeout), and how often a worker says it is alive.
inline constexpr std::chrono::seconds kDefaultRankTimeout{60};
inline constexpr std::chrono::milliseconds kHeartbeatPeriod{1000};

enum class RankMessageKind : std::uint8_t {
  hello = 1,
  job = 3,
  cell = 4,
  shutdown = 5,
  eval = 7,
  ready = 10,
  result = 11,
  failed = 12,
  missing = 13,
  heartbeat = 14,
  stopped = 15,  // a cell stopped by a signal at a round boundary, its checkpoint written; number = the signal
};

// One message; which fields mean something depends on the kind.
struct RankMessage {
  RankMessageKind kind = RankMessageKind::heartbeat;
  std::uint64_t id = 0;       // job or cell: its number; result, failed, missing: the job's
  std::uint64_t version = 0;  // job: the supernet's version; eval: the model's; cell: checkpoint every N rounds
  std::int64_t number = 0;    // hello: heartbeat period in ms; ready: the worker's threads; cell: the cell index;
                              // eval: the first test sample (text: the count)
  std::string text;     // hello: the resolved scenario (empty for a sweep); job: the encoded job; result: the
                        // encoded result; failed: the error; cell: the cell's output directory
  std::string payload;  // job (when sent along): the supernet (put_tensors bytes); cell: its resolved
                        // scenario; eval (when sent along): the model (a PartData)
};

inline RankMessage rank_message(RankMessageKind kind) {
  RankMessage message;
  message.kind = kind;
  return message;
}

// The supernets a worker keeps (the newest versions; rank 0 mirrors the count).
inline constexpr std::size_t kWorkerSnapshots = 3;

std::string encode(const RankMessage& message);
RankMessage decode_rank_message(std::string_view bytes);

}  // namespace sflsim::cli
