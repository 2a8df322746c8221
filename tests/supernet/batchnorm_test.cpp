// BatchNorm under slicing: running statistics are sliced, trained and written
// back like weights; recalibration re-estimates them for a new width.
#include "datasets/loaders.hpp"
#include "supernet/evaluate.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>
#include <torch/optim/sgd.h>

#include <numeric>

using namespace sflsim;
using namespace sflsim::supernet;

namespace {
SupernetOptions options_for(const datasets::ImageDataset& data) {
  SupernetOptions options;
  options.in_channels = data.channels();
  options.num_classes = data.num_classes;
  options.image_height = data.height();
  options.image_width = data.width();
  options.width_multiplier = 0.25;
  return options;
}

void train_one_epoch(BodyPart& model, const datasets::ImageDataset& train) {
  torch::optim::SGD sgd(model.slices().parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
  std::vector<int64_t> order(static_cast<size_t>(train.size()));
  std::iota(order.begin(), order.end(), 0);
  for (size_t begin = 0; begin < order.size(); begin += 32) {
    const size_t count = std::min<size_t>(32, order.size() - begin);
    const datasets::Batch batch = datasets::make_batch(train, std::span(order).subspan(begin, count), nullptr, nullptr);
    sgd.zero_grad();
    at::cross_entropy_loss(model.forward(batch.images, Mode::train), batch.labels).backward();
    sgd.step();
  }
}
}  // namespace

TEST_CASE("a sliced subnet trained, written back and re-extracted evaluates as before", "[supernet][batchnorm]") {
  const datasets::DatasetSplits data = datasets::make_synthetic();
  Supernet net(options_for(data.train));
  const SubnetConfig half{net.architecture().unit_count(), {0.5, 0.5, 0.5, 0.5}};
  BodyPart model = net.extract(half);
  train_one_epoch(model, data.train);
  const Evaluation trained = evaluate(model, data.test);
  const Contribution contribution{&model.slices(), 1.0};
  net.write_back(std::span(&contribution, 1));
  const Evaluation reextracted = evaluate(net.extract(half), data.test);
  CHECK(trained.accuracy >= 0.8);  // synthetic data is easy; one epoch learns it
  CHECK(reextracted.accuracy == trained.accuracy);
  CHECK(reextracted.loss == Approx(trained.loss).epsilon(1e-6));
}

TEST_CASE("recalibration sets running statistics to the mean over the given batches", "[supernet][batchnorm]") {
  const datasets::DatasetSplits data = datasets::make_synthetic();
  const Supernet net(options_for(data.train));
  BodyPart stem = net.extract(net.architecture().full_config(), 1, 1);
  std::vector<at::Tensor> batches;
  std::vector<int64_t> indices(64);
  std::iota(indices.begin(), indices.end(), 0);
  for (int k = 0; k < 2; ++k) {
    batches.push_back(datasets::make_batch(data.train, std::span(indices).subspan(32 * k, 32), nullptr, nullptr).images);
  }
  recalibrate_batchnorm(stem, batches);
  at::NoGradGuard no_grad;
  const at::Tensor& conv = stem.slices().tensors[0];
  at::Tensor expected = at::zeros({conv.size(0)});
  for (const at::Tensor& b : batches) expected += at::conv2d(b, conv, at::Tensor(), 1, 1).mean({0, 2, 3}) / 2.0;
  CHECK((stem.slices().tensors[3] - expected).abs().max().item<double>() < 1e-5);  // running_mean of the stem's BN
}
