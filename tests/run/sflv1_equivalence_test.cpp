// With the server-only lambda policy and one fixed cut, SuperSFL is SFL-V1:
// the simulator's supernet after two rounds equals a direct, time-free
// SFL-V1 implementation (per-client server replicas, FedAvg by samples).
#include "datasets/random.hpp"
#include "simulator/run/run_scenario.hpp"
#include "simulator/world/world.hpp"
#include "temp_dir.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <torch/optim/sgd.h>

using namespace sflsim;
using namespace sflsim::cli;

namespace {
torch::optim::SGD sgd(const supernet::BodyPart& part, const TrainingOptions& t) {
  return torch::optim::SGD(part.slices().parameters(),
                           torch::optim::SGDOptions(t.learning_rate).momentum(t.momentum).weight_decay(t.weight_decay));
}
}  // namespace

TEST_CASE("server-only lambda with a fixed cut equals a direct SFL-V1 implementation", "[run][sflv1][heavy]") {
  Scenario s;
  s.dataset.name = "synthetic";
  s.dataset.augment = false;
  s.training.rounds = 2;
  s.training.batch_size = 16;
  s.training.max_samples_per_round = 48;
  s.training.eval_samples = 50;
  s.clients.count = 3;
  s.algorithm.cut.policy = "fixed";
  s.algorithm.cut.fixed = 3;
  s.algorithm.lambda = "server-only";
  s.algorithm.performance_weights = false;  // FedAvg weights n_i
  s.algorithm.timeout_factor = 1e6;   // every gradient arrives in time
  at::set_num_threads(1);
  World world(s);
  const int L = world.net->architecture().unit_count();
  const int cut = s.algorithm.cut.fixed;

  // The reference: same initial supernet, same per-client sample order, no time.
  supernet::Supernet reference(world.net->architecture().options());
  std::vector<std::mt19937_64> data_rng;
  std::vector<std::vector<int64_t>> order(static_cast<size_t>(s.clients.count));
  std::vector<size_t> cursor(static_cast<size_t>(s.clients.count), 0);
  for (int c = 0; c < s.clients.count; ++c) {
    data_rng.emplace_back(core::RngStream(s.seed, world.client_entity(c), "data").next_u64());
  }
  for (int round = 1; round <= s.training.rounds; ++round) {
    std::vector<std::unique_ptr<supernet::BodyPart>> trained;
    std::vector<supernet::Contribution> contributions;
    for (int c = 0; c < s.clients.count; ++c) {
      auto prefix = std::make_unique<supernet::BodyPart>(reference.extract(world.config, 1, cut));
      auto suffix = std::make_unique<supernet::BodyPart>(reference.extract(world.config, cut + 1, L));
      torch::optim::SGD client_sgd = sgd(*prefix, s.training), server_sgd = sgd(*suffix, s.training);
      const int64_t samples = world.samples_per_round(c);
      for (int64_t done = 0, k = 1; done < samples; done += s.training.batch_size, ++k) {
        std::vector<int64_t> indices;
        while (static_cast<int64_t>(indices.size()) < std::min<int64_t>(s.training.batch_size, samples - done)) {
          auto& own = order[static_cast<size_t>(c)];
          if (cursor[static_cast<size_t>(c)] >= own.size()) {
            own = world.partition[static_cast<size_t>(c)];
            datasets::shuffle_in_place(std::span<int64_t>(own), data_rng[static_cast<size_t>(c)]);
            cursor[static_cast<size_t>(c)] = 0;
          }
          indices.push_back(own[cursor[static_cast<size_t>(c)]++]);
        }
        const datasets::Batch batch = datasets::make_batch(world.data.train, indices, nullptr, nullptr);
        const double momentum = 1.0 / static_cast<double>(k);
        const at::Tensor z = prefix->forward(batch.images, supernet::Mode::train, momentum);
        const at::Tensor received = z.detach().requires_grad_(true);
        server_sgd.zero_grad();
        at::cross_entropy_loss(suffix->forward(received, supernet::Mode::train, momentum), batch.labels).backward();
        server_sgd.step();
        client_sgd.zero_grad();
        z.backward(received.grad());
        client_sgd.step();
      }
      contributions.push_back({&prefix->slices(), static_cast<double>(samples)});
      contributions.push_back({&suffix->slices(), static_cast<double>(samples)});
      trained.push_back(std::move(prefix));
      trained.push_back(std::move(suffix));
    }
    reference.write_back(contributions);
  }

  sflsim::test::TempDir dir;
  RunOptions options;
  options.out_dir = dir.path();
  options.progress = false;
  run_world(world, options);

  double worst = 0.0;
  for (size_t id = 0; id < reference.tensors().size(); ++id) {
    if (world.net->architecture().specs()[id].head) continue;  // local heads are not part of SFL-V1
    const double diff = (world.net->tensors()[id] - reference.tensors()[id]).abs().max().item<double>();
    if (diff > 1e-6) UNSCOPED_INFO("largest difference so far in " << world.net->architecture().specs()[id].name << ": " << diff);
    worst = std::max(worst, diff);
  }
  CHECK(worst <= 1e-5);
  // ...and the two rounds really changed the model.
  const supernet::Supernet initial(world.net->architecture().options());
  CHECK((world.net->tensors()[0] - initial.tensors()[0]).abs().max().item<double>() > 1e-3);
}
