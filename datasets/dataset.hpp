#pragma once
// An image-classification dataset held once in memory, and the per-batch view
// of it that training consumes.
#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <vector>
#include <stdexcept>
#include <string>

namespace sflsim::datasets {

// Bad or missing data: the message names the file and what is wrong with it
// (and the byte offset where that applies). Never thrown for programming errors.
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One split (train or test). `images` is one contiguous uint8 tensor
// [N, C, H, W]; `labels` is int64 [N] in [0, num_classes). Clients refer to
// samples by index into these tensors and never copy them.
struct ImageDataset {
  std::string name;
  at::Tensor images;
  at::Tensor labels;
  int num_classes = 0;
  std::array<float, 3> mean{};  // per-channel mean of pixel/255 (first `channels()` used)
  std::array<float, 3> stddev{};

  int64_t size() const;
  int channels() const;
  int height() const;
  int width() const;
  // The labels as a plain span (for partitioners, which are torch-free).
  std::span<const int64_t> label_span() const;
};

struct DatasetSplits {
  ImageDataset train;
  ImageDataset test;
};

// The standard CIFAR augmentation, applied per batch.
struct AugmentOptions {
  bool random_crop = true;
  int crop_padding = 4;  // zero padding on each side before the random crop
  bool horizontal_flip = true;
};

// On datasets::compute_device() (built on the CPU, then moved there).
struct Batch {
  at::Tensor images;  // float32 [B, C, H, W], normalised with the dataset's mean/stddev
  at::Tensor labels;  // int64 [B]
};

// Sets `data`'s mean/stddev to the exact per-channel statistics of its pixels.
void set_normalisation_from(ImageDataset& data);
// Sets both splits' mean/stddev to the exact per-channel statistics of the
// training split (the test split is normalised with the training statistics).
void set_normalisation_from_train(DatasetSplits& splits);

// One sample's augmentation: crop offsets in [-pad, pad] and the flip.
struct SampleAugment {
  int32_t dy = 0;
  int32_t dx = 0;
  bool mirror = false;
};

// The draws make_batch takes from `rng` for `count` samples, taken now: a
// batch can then be built later (and elsewhere) from a few bytes per sample
// instead of being held as pixels. Empty when `augment` is null.
std::vector<SampleAugment> draw_augmentation(int64_t count, const AugmentOptions* augment, std::mt19937_64* rng);

// Gathers `indices` into a batch, normalises it, and applies the per-sample
// crop / flip `draws` (empty: none; else one per index).
Batch make_batch(const ImageDataset& data, std::span<const int64_t> indices, std::span<const SampleAugment> draws);

// The labels of `indices` (int64 [B], on compute_device(), as in make_batch's
// batch). Throws std::out_of_range for an index outside the dataset.
at::Tensor batch_labels(const ImageDataset& data, std::span<const int64_t> indices);

// make_batch with draw_augmentation(indices.size(), augment, rng): the same
// rng state gives the same batch, byte for byte.
Batch make_batch(const ImageDataset& data, std::span<const int64_t> indices,
                 const AugmentOptions* augment, std::mt19937_64* rng);

}  // namespace sflsim::datasets
