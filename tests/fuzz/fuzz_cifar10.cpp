// CIFAR-10 binary files: load_cifar10 (see cifar_harness.hpp for the input format).
#include "cifar_harness.hpp"

SFLSIM_FUZZ_TARGET(cifar10) {
  static const sflsim::fuzz::CifarLayout layout{
      "cifar-10-batches-bin",
      {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
      {"test_batch.bin"},
      1,
      {10, 0}};
  sflsim::fuzz::run_cifar(
      input, layout, [](const std::filesystem::path& dir, bool) { return sflsim::datasets::load_cifar10(dir); },
      [](bool) { return 0; });
}
