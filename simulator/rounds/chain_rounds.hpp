#pragma once
// The computation of recorded client rounds (server/round_script.hpp): every
// step a client or its session records becomes, as it is recorded, a task of
// the client's chain (core/work_pool.hpp), on demand:
//   forward k      after the client's previous step: batch k through the
//                  prefix and heads (the batch gathered from its indices and
//                  augmentation draws), the local loss;
//   server step k  after the server model's previous step and forward k: the
//                  suffix's step on batch k's features, the cut gradient and
//                  the server loss (added to the session's loss sum);
//   fused step k   after the client's previous step (and server step k when
//                  its gradient came): one optimizer step of the client.
// A chain's first task waits for the client's previous chain, so rounds of
// one client follow each other; a shared server model chains the steps of
// every client that reaches it, in the order the server received them.
//
// ChainRunner is the ScriptRunner of a run in one process. A recorded job
// computed on another rank is replayed into the same ChainScript (round_job.cpp),
// so there is one training loop, and its results are the same bytes.
//
// Virtual time: none. Errors: a step's exception is rethrown by the tickets
// that wait for it (and by what waits for them: folds, checkpoints).
// Ownership: tasks share what they compute with (the models, the batch's
// features and step, the trainer), never the script; the dataset must
// outlive every task.
#include "server/round_script.hpp"

#include <memory>

namespace sflsim::datasets {
struct ImageDataset;
}

namespace sflsim::cli {

// A script whose steps run as tasks on `work` (null: on the thread that waits
// for them); `units` is the supernet's unit count (the lambda policy's depth).
std::shared_ptr<protocol::RoundScript> make_chain_script(core::WorkPool* work, const datasets::ImageDataset& train,
                                                         int units);

class ChainRunner : public protocol::ScriptRunner {
 public:
  ChainRunner(core::WorkPool* work, const datasets::ImageDataset& train, int units)
      : work_(work), train_(train), units_(units) {}
  void begin_round(const supernet::Supernet& /*net*/, int /*round*/) override {}
  std::shared_ptr<protocol::RoundScript> open(int /*client*/, int /*round*/) override {
    return make_chain_script(work_, train_, units_);
  }

 private:
  core::WorkPool* work_;
  const datasets::ImageDataset& train_;
  int units_;
};

}  // namespace sflsim::cli
