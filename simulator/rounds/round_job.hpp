#pragma once
// A recorded client round (server/round_script.hpp) as a self-contained job
// that any rank can compute, and what computing it yields.
//
// A job names the supernet its fresh models and the server replica come from
// by version (the coordinator's round; the computing rank holds that
// supernet), carries the tensors of every model that is not fresh (a
// local-only round's last model, RaFL's own network) and the steps in the
// order the chain would have run them. compute_round() runs them with the
// same functions the chain's tasks call (client::forward_step, fused_step,
// server::ServerModel::step), so its results are the chain's, to the byte.
//
// Errors: decode_* throw core::StateError (byte offset) on malformed bytes;
// compute_round throws std::invalid_argument when the job does not fit the
// supernet (another scenario) and rethrows LibTorch's errors.
#include "simulator/parts/part_format.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sflsim::datasets {
struct ImageDataset;
}
namespace sflsim::supernet {
class Supernet;
}

namespace sflsim::cli {

// A model: fresh (its shape only: extract it from the job's supernet) or its tensors.
struct ModelData {
  bool fresh = false;
  PartData part;
};

struct RoundJob {
  std::int32_t client = 0;
  std::int32_t round = 0;
  std::uint64_t supernet_version = 0;
  bool want_client = true;  // false: only the server side is wanted (the steps up to its last one)

  // The client's side (every job has one: server steps need its forward passes).
  std::int32_t objective = 0;  // protocol::Objective
  double learning_rate = 0, momentum = 0, weight_decay = 0;
  std::int32_t lambda_rule = 0;  // fusion::LambdaRule
  double lambda_fixed = 0, lambda_min = 0, lambda_max = 0, lambda_epsilon = 0;
  std::int32_t cut = 0;
  ModelData prefix;
  std::vector<ModelData> heads;
  std::optional<ModelData> own_body;
  std::vector<ModelData> own_heads;
  double local_loss = -1, server_loss = -1;  // the loss averages at the start

  // The server side: the client's replica (its shape) and its optimizer.
  std::optional<PartData> replica;
  double server_learning_rate = 0, server_momentum = 0, server_weight_decay = 0;

  struct Step {
    std::uint8_t kind = 0;  // 0 forward, 1 server step, 2 fused step
    std::vector<std::int64_t> indices;
    std::vector<std::int32_t> draws;  // dy, dx, mirror per sample (forward)
    std::int64_t batch = 0;           // server and fused steps
    bool with_gradient = false;       // fused step
  };
  std::vector<Step> steps;
};

struct RoundJobResult {
  bool has_client = false;
  PartData prefix;
  std::vector<PartData> heads;
  std::optional<PartData> own_body;
  std::vector<PartData> own_heads;
  double local_loss = -1, server_loss = -1;  // the averages at the end
  double local_sum = 0, server_sum = 0;      // the round's sums
  std::int64_t local_batches = 0, server_batches = 0;

  bool has_server = false;
  PartData replica;
  double server_loss_sum = 0;

  double compute_seconds = 0;  // wall time the computing rank spent (not part of the results)
  double queued_seconds = 0;   // wall time the job waited there for a free thread (set by a worker rank)
};

std::string encode(const RoundJob& job);
RoundJob decode_job(std::string_view bytes);
std::string encode(const RoundJobResult& result);
RoundJobResult decode_result(std::string_view bytes);

// Computes `job` on `net` (the supernet of job.supernet_version) and `train`
// (the scenario's training split). Uses LibTorch's current thread settings.
RoundJobResult compute_round(const RoundJob& job, const supernet::Supernet& net, const datasets::ImageDataset& train);

}  // namespace sflsim::cli
