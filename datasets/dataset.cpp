#include "datasets/dataset.hpp"

#include "datasets/compute_device.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "datasets/random.hpp"

namespace sflsim::datasets {

int64_t ImageDataset::size() const { return images.defined() ? images.size(0) : 0; }
int ImageDataset::channels() const { return images.defined() ? static_cast<int>(images.size(1)) : 0; }
int ImageDataset::height() const { return images.defined() ? static_cast<int>(images.size(2)) : 0; }
int ImageDataset::width() const { return images.defined() ? static_cast<int>(images.size(3)) : 0; }

std::span<const int64_t> ImageDataset::label_span() const {
  if (!labels.defined()) return {};
  if (labels.scalar_type() != at::kLong || !labels.is_contiguous() || !labels.device().is_cpu()) {
    throw std::invalid_argument("ImageDataset::label_span: labels of '" + name +
                                "' must be a contiguous int64 CPU tensor");
  }
  return {labels.data_ptr<int64_t>(), static_cast<size_t>(labels.numel())};
}

// Output pixel (c, y, x) of a sample, with crop offsets (oy, ox) in [0, 2p] and
// flip f, is
//     raw(c, y + oy - p, x' + ox - p)   where x' = f ? W-1-x : x,
// taken as raw 0 (black) outside the image -- padding happens in raw pixel
// space before normalisation, as torchvision's RandomCrop(padding=p) followed
// by Normalize does -- and then mapped to (v/255 - mean[c]) / stddev[c]. The
// per-sample draws, in order, are: oy, ox (only when random_crop and p > 0;
// each uniform_below(rng, 2p+1)), then the flip bit (only when
// horizontal_flip; the top bit of one rng() draw).
std::vector<SampleAugment> draw_augmentation(int64_t count, const AugmentOptions* augment, std::mt19937_64* rng) {
  std::vector<SampleAugment> draws;
  if (augment == nullptr) return draws;
  if (rng == nullptr) throw std::invalid_argument("make_batch: augmentation needs an rng");
  if (augment->crop_padding < 0) throw std::invalid_argument("make_batch: crop_padding < 0");
  const bool crop = augment->random_crop && augment->crop_padding > 0;
  const int64_t pad = crop ? augment->crop_padding : 0;
  draws.resize(static_cast<size_t>(count));
  for (SampleAugment& draw : draws) {
    if (crop) {
      const auto range = static_cast<uint64_t>(2 * pad + 1);
      draw.dy = static_cast<int32_t>(static_cast<int64_t>(uniform_below(*rng, range)) - pad);
      draw.dx = static_cast<int32_t>(static_cast<int64_t>(uniform_below(*rng, range)) - pad);
    }
    if (augment->horizontal_flip) draw.mirror = ((*rng)() >> 63) != 0;
  }
  return draws;
}

Batch make_batch(const ImageDataset& data, std::span<const int64_t> indices, const AugmentOptions* augment,
                 std::mt19937_64* rng) {
  const std::vector<SampleAugment> draws = draw_augmentation(static_cast<int64_t>(indices.size()), augment, rng);
  return make_batch(data, indices, draws);
}

at::Tensor batch_labels(const ImageDataset& data, std::span<const int64_t> indices) {
  const auto labels = data.label_span();
  const auto n = static_cast<int64_t>(labels.size());
  at::Tensor out = at::empty({static_cast<int64_t>(indices.size())}, at::kLong);
  int64_t* lab = out.data_ptr<int64_t>();
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t idx = indices[i];
    if (idx < 0 || idx >= n) {
      throw std::out_of_range("make_batch: index " + std::to_string(idx) + " is outside [0, " + std::to_string(n) +
                              ") of '" + data.name + "'");
    }
    lab[i] = labels[static_cast<size_t>(idx)];
  }
  const c10::Device device = compute_device();
  return device.is_cpu() ? out : out.to(device);
}

Batch make_batch(const ImageDataset& data, std::span<const int64_t> indices, std::span<const SampleAugment> draws) {
  const at::Tensor& images = data.images;
  if (!images.defined() || images.dim() != 4 || images.scalar_type() != at::kByte ||
      !images.is_contiguous() || !images.device().is_cpu()) {
    throw std::invalid_argument("make_batch: images of '" + data.name +
                                "' must be a contiguous uint8 CPU tensor [N, C, H, W]");
  }
  const auto labels = data.label_span();
  const int64_t n = images.size(0);
  const int64_t c = images.size(1);
  const int64_t h = images.size(2);
  const int64_t w = images.size(3);
  if (c < 1 || c > 3) throw std::invalid_argument("make_batch: 1 to 3 channels supported");
  if (static_cast<int64_t>(labels.size()) != n) {
    throw std::invalid_argument("make_batch: '" + data.name + "' has " + std::to_string(n) +
                                " images but " + std::to_string(labels.size()) + " labels");
  }
  if (!draws.empty() && draws.size() != indices.size()) {
    throw std::invalid_argument("make_batch: " + std::to_string(draws.size()) + " augmentation draws for " +
                                std::to_string(indices.size()) + " samples");
  }
  // Per-channel lookup table raw byte -> normalised float.
  std::array<std::array<float, 256>, 3> lut{};
  for (int64_t ch = 0; ch < c; ++ch) {
    const auto k = static_cast<size_t>(ch);
    const float sd = data.stddev[k];
    if (!(sd > 0.0F)) {
      throw std::invalid_argument("make_batch: '" + data.name + "' has stddev <= 0 in channel " +
                                  std::to_string(ch));
    }
    const float scale = 1.0F / (255.0F * sd);
    const float bias = -data.mean[k] / sd;
    for (int v = 0; v < 256; ++v) lut[k][static_cast<size_t>(v)] = static_cast<float>(v) * scale + bias;
  }

  const auto b = static_cast<int64_t>(indices.size());
  Batch out;
  out.labels = batch_labels(data, indices);  // checks the indices
  out.images = at::empty({b, c, h, w}, at::kFloat);
  float* dst = out.images.data_ptr<float>();
  const uint8_t* src_all = images.data_ptr<uint8_t>();
  const int64_t sample = c * h * w;

  for (int64_t i = 0; i < b; ++i) {
    const int64_t idx = indices[static_cast<size_t>(i)];
    const SampleAugment draw = draws.empty() ? SampleAugment{} : draws[static_cast<size_t>(i)];
    const int64_t dy = draw.dy;
    const int64_t dx = draw.dx;
    const bool mirror = draw.mirror;
    const uint8_t* src = src_all + idx * sample;
    float* o = dst + i * sample;
    // Valid output columns: 0 <= x + dx < w.
    const int64_t x0 = std::clamp<int64_t>(-dx, 0, w);
    const int64_t x1 = std::clamp<int64_t>(w - dx, x0, w);
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* table = lut[static_cast<size_t>(ch)].data();
      const float zero = table[0];
      for (int64_t y = 0; y < h; ++y) {
        float* row_out = o + (ch * h + y) * w;
        const int64_t sy = y + dy;
        if (sy < 0 || sy >= h) {
          std::fill(row_out, row_out + w, zero);
          continue;
        }
        const uint8_t* row_in = src + (ch * h + sy) * w;
        for (int64_t x = 0; x < x0; ++x) row_out[x] = zero;
        for (int64_t x = x0; x < x1; ++x) row_out[x] = table[row_in[x + dx]];
        for (int64_t x = x1; x < w; ++x) row_out[x] = zero;
        if (mirror) std::reverse(row_out, row_out + w);
      }
    }
  }
  const c10::Device device = compute_device();
  if (!device.is_cpu()) out.images = out.images.to(device);
  return out;
}

// Exact per-channel mean and population stddev of pixel/255, from histograms.
void set_normalisation_from(ImageDataset& d) {
  const int64_t n = d.images.size(0);
  const int64_t c = d.images.size(1);
  const int64_t plane = d.images.size(2) * d.images.size(3);
  const uint8_t* p = d.images.data_ptr<uint8_t>();
  d.mean.fill(0.0F);
  d.stddev.fill(0.0F);
  for (int64_t ch = 0; ch < c && ch < 3; ++ch) {
    std::array<int64_t, 256> hist{};
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* q = p + (i * c + ch) * plane;
      for (int64_t j = 0; j < plane; ++j) ++hist[q[j]];
    }
    const double count = static_cast<double>(n * plane);
    if (count == 0) continue;
    double sum = 0.0;
    for (int v = 0; v < 256; ++v) sum += static_cast<double>(hist[static_cast<size_t>(v)]) * v;
    const double mean = sum / count / 255.0;
    double var = 0.0;
    for (int v = 0; v < 256; ++v) {
      const double dv = v / 255.0 - mean;
      var += static_cast<double>(hist[static_cast<size_t>(v)]) * dv * dv;
    }
    var /= count;
    d.mean[static_cast<size_t>(ch)] = static_cast<float>(mean);
    // A constant channel would divide by zero in make_batch; keep it finite.
    d.stddev[static_cast<size_t>(ch)] = static_cast<float>(var > 0 ? std::sqrt(var) : 1.0);
  }
}

void set_normalisation_from_train(DatasetSplits& s) {
  set_normalisation_from(s.train);
  s.test.mean = s.train.mean;
  s.test.stddev = s.train.stddev;
}


}  // namespace sflsim::datasets
