// `sflsim train-central`: one subnet trained as an ordinary network.
#include "simulator/bench/train_central.hpp"
#include "simulator/cli/commands.hpp"

#include <CLI/CLI.hpp>

#include <memory>

namespace sflsim::cli {

Command add_train_central_command(CLI::App& app) {
  struct Flags {
    TrainCentralOptions central;
    std::string data_dir;
    std::string csv;
    bool no_augment = false;
  };
  auto flags = std::make_shared<Flags>();
  TrainCentralOptions& central = flags->central;
  CLI::App* train = app.add_subcommand("train-central", "Train one subnet of the supernet centrally (no federation)");
  train->add_option("--dataset", central.dataset, "fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse, synthetic")
      ->capture_default_str();
  train->add_option("--data-dir", flags->data_dir, "Directory of the dataset files (default: its standard location)");
  train->add_option("--width", central.width_multiplier, "Width multiplier of the supernet (1.0 = ResNet-18)")
      ->check(CLI::Range(0.01, 4.0))
      ->capture_default_str();
  train->add_option("--subnet-width", central.subnet_width, "Fraction of every stage's channels the subnet keeps")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  train->add_option("--epochs", central.epochs, "Training epochs")->check(CLI::Range(1, 10000))->capture_default_str();
  train->add_option("--batch-size", central.batch_size)->check(CLI::Range(1, 65536))->capture_default_str();
  train->add_option("--lr", central.learning_rate, "Peak learning rate (cosine decay)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  train->add_option("--train-samples", central.train_samples, "Use only the first N training samples (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  train->add_option("--seed", central.seed)->capture_default_str();
  train->add_flag("--no-augment", flags->no_augment, "Disable random crop and flip");
  train->add_option("--csv", flags->csv, "Write per-epoch metrics to this CSV file");
  return {train, [flags](const GlobalOptions&) {
            TrainCentralOptions options = flags->central;
            options.data_dir = flags->data_dir;
            options.csv = flags->csv;
            options.augment = !flags->no_augment;
            train_central(options);
            return 0;
          }};
}

}  // namespace sflsim::cli
