// train-central learns the real Fashion-MNIST: the model and data path work end to end.
#include "simulator/bench/train_central.hpp"

#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

TEST_CASE("two epochs on 12,000 real Fashion-MNIST images reach 80 % test accuracy", "[slow][train-central]") {
  at::set_num_threads(2);
  sflsim::cli::TrainCentralOptions options;
  options.epochs = 2;
  options.augment = false;  // augmentation pays off over full runs, not over 375 steps
  options.train_samples = 12000;
  const double accuracy = sflsim::cli::train_central(options);
  CHECK(accuracy >= 0.80);
}
