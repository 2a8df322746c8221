#pragma once
// Computes recorded client rounds (server/round_script.hpp) somewhere else
// than in the simulation's work pool: in other processes (RankComputer in rank_pool.hpp,
// sflsim run --ranks) or, for tests and as the last resort, here through the
// same bytes (LocalComputer).
//
// RemoteRounds is the ScriptRunner of a run. A script's tickets are
// on-demand tasks: the first wait() on one turns what has been recorded into
// a RoundJob (capturing, once, the client's state as the script starts: loss
// averages and any model that is not fresh), has it computed, and writes the
// result into the client's models, averages and sums and the session's
// replica and loss sum. The server's ticket may be waited for while the
// client still trains (a client past its round's deadline): the job then
// stops at the last server step and wants only the server side; the
// client's ticket later computes the whole script again (the same bytes:
// computation is deterministic).
//
// Virtual time: none. Errors: a computer's exception is rethrown by the
// ticket's wait() (and so by the fold that waits). Ownership: the runner
// must outlive every ticket it made; snapshots live while a script or a
// computer needs them.
#include "server/protocol.hpp"
#include "simulator/rounds/round_job.hpp"
#include "supernet/architecture.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sflsim::datasets {
struct ImageDataset;
}

namespace sflsim::cli {

// The supernet a round's fresh models come from, as bytes (put_tensors).
struct SupernetSnapshot {
  std::uint64_t version = 0;
  std::string tensors;
};

// Where jobs are computed.
class RoundComputer {
 public:
  virtual ~RoundComputer() = default;
  // A new round's supernet: computers may send it ahead to where jobs will run.
  virtual void publish(const std::shared_ptr<const SupernetSnapshot>& snapshot) = 0;
  // Computes an encoded RoundJob against `snapshot`; returns the encoded
  // RoundJobResult. Blocks; safe from several threads at once.
  virtual std::string compute(const std::string& job, const std::shared_ptr<const SupernetSnapshot>& snapshot) = 0;
};

// The supernets of the last few snapshots, rebuilt from their bytes.
class SupernetCache {
 public:
  explicit SupernetCache(supernet::SupernetOptions options, size_t keep = 3) : options_(std::move(options)), keep_(keep) {}
  // The supernet of `version`, loading `tensors` (put_tensors bytes) if it is not held yet.
  std::shared_ptr<const supernet::Supernet> get(std::uint64_t version, const std::string& tensors);
  // The supernet of `version` if held.
  std::shared_ptr<const supernet::Supernet> find(std::uint64_t version) const;

 private:
  supernet::SupernetOptions options_;
  size_t keep_;
  mutable std::mutex mutex_;
  std::map<std::uint64_t, std::shared_ptr<const supernet::Supernet>> nets_;
};

// Computes in this process, through the encoded job and result.
class LocalComputer : public RoundComputer {
 public:
  LocalComputer(supernet::SupernetOptions options, const datasets::ImageDataset& train);
  void publish(const std::shared_ptr<const SupernetSnapshot>& /*snapshot*/) override {}
  std::string compute(const std::string& job, const std::shared_ptr<const SupernetSnapshot>& snapshot) override;

 private:
  SupernetCache nets_;
  const datasets::ImageDataset& train_;
};

class RemoteRounds : public protocol::ScriptRunner {
 public:
  explicit RemoteRounds(RoundComputer& computer) : computer_(computer) {}
  void begin_round(const supernet::Supernet& net, int round) override;
  std::shared_ptr<protocol::RoundScript> open(int client, int round) override;

  // Jobs computed so far (reruns included) and their computing ranks' time.
  std::int64_t jobs() const { return jobs_; }
  double compute_seconds() const;
  double queued_seconds() const;  // waiting for a thread where they were computed

 private:
  struct Computation;
  void run(Computation& computation, bool for_client);

  RoundComputer& computer_;
  std::shared_ptr<const SupernetSnapshot> snapshot_;
  std::atomic<std::int64_t> jobs_{0};
  mutable std::mutex stats_mutex_;
  double compute_seconds_ = 0;
  double queued_seconds_ = 0;
};

// Serializes `net`'s tensors for a snapshot.
std::string snapshot_tensors(const supernet::Supernet& net);

}  // namespace sflsim::cli
