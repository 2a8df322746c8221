#pragma once
// `sflsim bench train`: training throughput of one whole subnet through the
// supernet code path and through a plain torch::nn model of the same shape.
#include <string>
#include <vector>

namespace sflsim::cli {

struct TrainBenchmarkOptions {
  std::vector<double> widths{0.25, 1.0};  // supernet width multipliers
  int batch_size = 32;
  double seconds_per_measurement = 8.0;
  int image_size = 32;  // CIFAR shape: 3 x 32 x 32, 10 classes
  int channels = 3;     // 1 x 28 x 28 for the Fashion-MNIST scenarios
};

// Runs the benchmark and returns it as JSON (one object per width).
std::string run_train_benchmark(const TrainBenchmarkOptions& options);

}  // namespace sflsim::cli
