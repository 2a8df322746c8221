#include "simulator/bench/train_central.hpp"

#include "datasets/loaders.hpp"
#include "datasets/random.hpp"
#include "supernet/evaluate.hpp"
#include "simulator/io/progress.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>
#include <torch/optim/sgd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

namespace sflsim::cli {

double train_central(const TrainCentralOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const datasets::DatasetSplits data = datasets::load_dataset(options.dataset, options.data_dir);

  supernet::SupernetOptions net_options;
  net_options.in_channels = data.train.channels();
  net_options.num_classes = data.train.num_classes;
  net_options.image_height = data.train.height();
  net_options.image_width = data.train.width();
  net_options.width_multiplier = options.width_multiplier;
  net_options.init_seed = options.seed;
  const supernet::Supernet net(net_options);
  supernet::SubnetConfig config = net.architecture().full_config();
  config.width.fill(options.subnet_width);
  supernet::BodyPart model = net.extract(config);

  const int64_t train_size = options.train_samples > 0 ? std::min(options.train_samples, data.train.size())
                                                       : data.train.size();
  std::printf("train-central: %s (%lld train / %lld test), subnet %s of a width-%.2f supernet, %lld parameters\n",
              data.train.name.c_str(), static_cast<long long>(train_size),
              static_cast<long long>(data.test.size()), config.to_string().c_str(), options.width_multiplier,
              static_cast<long long>(model.slices().parameter_count()));
  std::fflush(stdout);

  torch::optim::SGD optimizer(model.slices().parameters(), torch::optim::SGDOptions(options.learning_rate)
                                                               .momentum(options.momentum)
                                                               .weight_decay(options.weight_decay));
  std::ofstream csv;
  if (!options.csv.empty()) {
    csv.open(options.csv);
    csv << "epoch,train_loss,test_accuracy,test_loss,wall_s\n";
  }
  std::mt19937_64 rng(options.seed);
  const datasets::AugmentOptions augment;
  std::vector<int64_t> order(static_cast<size_t>(train_size));
  const int64_t steps_per_epoch = (train_size + options.batch_size - 1) / options.batch_size;
  const int64_t total_steps = steps_per_epoch * options.epochs;
  int64_t step = 0;
  double accuracy = 0.0;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    datasets::shuffle_in_place(std::span<int64_t>(order), rng);
    ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(options.epochs), steps_per_epoch);
    double loss_sum = 0.0;
    for (int64_t b = 0; b < steps_per_epoch; ++b, ++step) {
      const double lr = 0.5 * options.learning_rate * (1.0 + std::cos(M_PI * static_cast<double>(step) / total_steps));
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      const int64_t begin = b * options.batch_size;
      const int64_t count = std::min<int64_t>(options.batch_size, train_size - begin);
      const datasets::Batch batch = datasets::make_batch(
          data.train, std::span<const int64_t>(order).subspan(static_cast<size_t>(begin), static_cast<size_t>(count)),
          options.augment ? &augment : nullptr, &rng);
      optimizer.zero_grad();
      const at::Tensor loss = at::cross_entropy_loss(model.forward(batch.images, supernet::Mode::train), batch.labels);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      char status[64];
      std::snprintf(status, sizeof status, "loss %.3f", loss_sum / static_cast<double>(b + 1));
      bar.update(b + 1, status);
    }
    const supernet::Evaluation eval = supernet::evaluate(model, data.test);
    accuracy = eval.accuracy;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    char status[96];
    std::snprintf(status, sizeof status, "train loss %.4f", loss_sum / static_cast<double>(steps_per_epoch));
    bar.finish(status);
    std::printf("epoch %d/%d  train_loss %.4f  test_accuracy %.4f  test_loss %.4f  wall %.1f s\n", epoch,
                options.epochs, loss_sum / static_cast<double>(steps_per_epoch), eval.accuracy, eval.loss, wall);
    std::fflush(stdout);
    if (csv.is_open()) {
      csv << epoch << ',' << loss_sum / static_cast<double>(steps_per_epoch) << ',' << eval.accuracy << ','
          << eval.loss << ',' << wall << '\n';
    }
  }
  return accuracy;
}

}  // namespace sflsim::cli
