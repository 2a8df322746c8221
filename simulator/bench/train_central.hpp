#pragma once
// `sflsim train-central`: ordinary (non-federated) training of one subnet of
// the supernet, the sanity check that the model and data path learn.
#include <cstdint>
#include <filesystem>
#include <string>

namespace sflsim::cli {

struct TrainCentralOptions {
  std::string dataset = "fashion-mnist";
  std::filesystem::path data_dir;  // empty: the dataset's default location
  double width_multiplier = 0.25;  // of the supernet
  double subnet_width = 1.0;       // fraction of every stage kept
  int epochs = 2;
  int batch_size = 64;
  double learning_rate = 0.05;     // peak; cosine-decayed to zero over the run
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool augment = true;
  int64_t train_samples = 0;       // use only the first N training samples; 0 = all
  uint64_t seed = 1;
  std::filesystem::path csv;       // optional per-epoch metrics
};

// Returns the final test accuracy in [0, 1].
double train_central(const TrainCentralOptions& options);

}  // namespace sflsim::cli
