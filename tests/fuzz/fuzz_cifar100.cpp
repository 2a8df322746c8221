// CIFAR-100 binary files: load_cifar100, fine and coarse labels (see cifar_harness.hpp).
#include "cifar_harness.hpp"

SFLSIM_FUZZ_TARGET(cifar100) {
  static const sflsim::fuzz::CifarLayout layout{"cifar-100-binary", {"train.bin"}, {"test.bin"}, 2, {20, 100}};
  sflsim::fuzz::run_cifar(
      input, layout,
      [](const std::filesystem::path& dir, bool coarse) {
        return sflsim::datasets::load_cifar100(
            dir, coarse ? sflsim::datasets::Cifar100Labels::coarse : sflsim::datasets::Cifar100Labels::fine);
      },
      [](bool coarse) { return coarse ? 0 : 1; });
}
