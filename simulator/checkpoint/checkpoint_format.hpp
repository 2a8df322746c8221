#pragma once
// The checkpoint file of a simulation (`sflsim run --checkpoint-every N`), as
// plain data: no LibTorch here, so the reader can be fuzzed on its own.
// simulator/checkpoint/checkpoint.hpp fills it from a World and applies it to one.
//
// File layout (integers little-endian):
//   "SFLSIMCK"  u32 format version  u64 payload length  payload  u64 FNV-1a of the payload
// The payload starts with the writing build's identity and the scenario's
// hash, so a checkpoint of another build or scenario is refused with a
// reason. Each struct below has one field list (checkpoint_format.cpp) that
// both writes and reads it, in declaration order unless it says otherwise.
#include "simulator/parts/part_format.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sflsim::cli::checkpoint {

inline constexpr std::uint32_t kFormatVersion = 1;

// Bad checkpoint data: the message names the byte offset (one line).
class CheckpointError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

using cli::PartData;
using cli::TensorData;

struct UploadData {
  std::int32_t round_trained = 0;
  std::int32_t cut = 0;
  std::int64_t samples = 0;
  double local_sum = 0, server_sum = 0;
  std::int64_t local_batches = 0, server_batches = 0;
  bool shares_model = false;  // its prefix and heads are the client's current ones
  PartData prefix;            // unless shares_model
  std::vector<PartData> heads;
};

struct ClientData {
  double local_loss = -1, server_loss = -1;  // the loss averages
  std::optional<UploadData> pending;
  std::optional<PartData> prefix;
  std::vector<PartData> heads;
  std::optional<PartData> own_body;
  std::vector<PartData> own_heads;
  std::int64_t samples_per_round = 0;
  std::int32_t model_round = 0;
  std::string data_rng;  // std::mt19937_64 in its text form
  std::vector<std::int64_t> order;
  std::uint64_t cursor = 0;
};

struct TrafficData {
  std::int64_t up = 0, down = 0, activations = 0, gradients = 0, weights = 0;
};

struct RecordData {  // one row of clients.csv
  std::int32_t client = 0, round = 0, cut = 0;
  double width = 0;
  std::int64_t samples = 0, compute_ns = 0, transmit_ns = 0, idle_ns = 0, bytes = 0;
  double energy_j = 0;
  std::int32_t outcome = 0;
  std::int64_t gradients_received = 0, batches = 0;
};

struct RowData {  // one row of metrics.csv
  std::int32_t round = 0;
  std::int64_t end_ns = 0;
  bool evaluated = false, outage = false;
  double test_accuracy = 0, test_loss = 0, train_loss = 0;
  std::int32_t clients_ok = 0, clients_failed = 0;
  std::vector<std::pair<std::int32_t, std::int32_t>> reintegrated;
  TrafficData traffic;
  double energy_j = 0;
};

struct Checkpoint {
  std::string sflsim_version;  // build_identity() of the build that wrote it
  std::uint64_t scenario_hash = 0;
  std::string kernel;           // core::Simulation::save_state
  std::vector<TensorData> supernet;
  std::vector<ClientData> clients;
  std::vector<std::int32_t> has_own_model;
  TrafficData traffic, traffic_before;
  double energy_before = 0, last_accuracy = 0, best_accuracy = 0, wall_before_s = 0;
  std::vector<RowData> rows;
  std::vector<RecordData> records;
  std::vector<double> wall_seconds;

  int next_round() const { return static_cast<int>(rows.size()) + 1; }  // the first round still to run
};

std::string encode(const Checkpoint& checkpoint);
// Throws CheckpointError ("byte N: ..."). verify_checksum = false lets a fuzzer reach the payload.
Checkpoint decode(std::string_view file, bool verify_checksum = true);

}  // namespace sflsim::cli::checkpoint
