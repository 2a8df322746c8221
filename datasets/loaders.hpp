#pragma once
// Reading the standard image datasets from their official files, and a
// synthetic dataset for fast tests.
//
// Every reader returns the data as one contiguous uint8 tensor [N, C, H, W]
// (plus int64 labels) per split. Bad data -- a missing file, a file of the
// wrong size, a truncated file, a bad magic number, a label out of range,
// image and label counts that disagree -- throws DataError with a one-line
// message that names the file and what is wrong with it.
//
// Normalisation constants: every loader sets `mean`/`stddev` of BOTH splits to
// the per-channel mean and (population) standard deviation of pixel/255 over
// the TRAINING split, computed exactly from pixel histograms (so the test
// split is normalised with the train split's statistics, and no test data
// leaks into them). For Fashion-MNIST this gives 0.2860 / 0.3530 (checked in
// the tests), the well-known values; for CIFAR-10 it should give the widely
// quoted 0.4914, 0.4822, 0.4465 / 0.2470, 0.2435, 0.2616 (not checked here: the
// real CIFAR files are not installed).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "datasets/dataset.hpp"

namespace sflsim::datasets {

// Where the datasets live when no directory is given: /usr/share/datasets/<name>
// with <name> one of fashion-mnist, mnist, cifar10, cifar100.
std::filesystem::path default_data_root();  // /usr/share/datasets
std::filesystem::path default_fashion_mnist_dir();
std::filesystem::path default_mnist_dir();
std::filesystem::path default_cifar10_dir();
std::filesystem::path default_cifar100_dir();

// One pair of idx files (images: magic 0x00000803, dims N x H x W big-endian;
// labels: magic 0x00000801, dim N). Each path may name a gzipped or a plain
// file (gzip is recognised by its content, not its name). Labels must lie in
// [0, num_classes). Returns a 1-channel dataset; mean/stddev are computed from
// these images.
ImageDataset read_idx(const std::filesystem::path& images_path,
                      const std::filesystem::path& labels_path, std::string name, int num_classes);

// Fashion-MNIST / MNIST: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte in `dir`, each with or
// without a .gz suffix (.gz preferred when both exist). 10 classes, 1x28x28.
DatasetSplits load_fashion_mnist(const std::filesystem::path& dir = default_fashion_mnist_dir());
DatasetSplits load_mnist(const std::filesystem::path& dir = default_mnist_dir());

// CIFAR-10 binary version: data_batch_1.bin .. data_batch_5.bin (train) and
// test_batch.bin, records of 1 label byte + 3072 pixel bytes (1024 R, 1024 G,
// 1024 B, each row-major 32x32). Any whole number of records per file is
// accepted (the official files hold 10,000). If `dir` lacks the files but has
// the archive's `cifar-10-batches-bin/` subfolder, that is used.
DatasetSplits load_cifar10(const std::filesystem::path& dir = default_cifar10_dir());

// CIFAR-100 binary version: train.bin and test.bin, records of 1 coarse-label
// byte, 1 fine-label byte, 3072 pixel bytes. 100 fine or 20 coarse classes.
// If `dir` lacks the files but has `cifar-100-binary/`, that is used.
enum class Cifar100Labels { fine, coarse };
DatasetSplits load_cifar100(const std::filesystem::path& dir = default_cifar100_dir(),
                            Cifar100Labels labels = Cifar100Labels::fine);

// A learnable, class-conditional synthetic dataset, generated from `seed`.
// Each class has a template image: a sum of `blobs_per_class` random Gaussian
// bumps (random centre, size, sign and channel mix) on a mid-grey background.
// A sample is its class template shifted by up to `max_shift` pixels in each
// direction (edge pixels repeated), its contrast around mid-grey scaled by
// 1 + brightness_jitter * z, plus per-pixel noise noise_stddev * z (in 0..255
// units), rounded and clamped to [0, 255]; each z is approximately standard
// normal (the sum of four 16-bit uniforms from one mt19937_64 draw, rescaled --
// cheap, and the same on every standard library). Labels cycle through the
// classes (balanced) in a seeded random order. Train and test come from the
// same templates with independent streams. Generating the default 2,500
// images takes a few tens of milliseconds.
struct SyntheticOptions {
  int num_classes = 10;
  int channels = 1;  // 1 (Fashion-MNIST-like 1x28x28) or 3 (CIFAR-like 3x32x32)
  int height = 28;
  int width = 28;
  int64_t train_size = 2000;
  int64_t test_size = 500;
  uint64_t seed = 1;
  int blobs_per_class = 4;
  int max_shift = 2;
  double noise_stddev = 24.0;
  double brightness_jitter = 0.1;

  // Convenience presets.
  static SyntheticOptions mnist_like() { return {}; }
  static SyntheticOptions cifar_like() {
    SyntheticOptions o;
    o.channels = 3;
    o.height = 32;
    o.width = 32;
    return o;
  }
};
DatasetSplits make_synthetic(const SyntheticOptions& options = {});

// By name: "fashion-mnist", "mnist", "cifar10", "cifar100" (fine labels),
// "cifar100-coarse", "synthetic" (SyntheticOptions{} -- `dir` is ignored).
// An empty `dir` means the dataset's default location. An unknown name throws
// std::invalid_argument listing the valid names.
DatasetSplits load_dataset(std::string_view name, const std::filesystem::path& dir = {});

// The names load_dataset accepts, comma-separated (for CLI help).
std::string dataset_names();

}  // namespace sflsim::datasets
