// The synthetic, learnable, class-conditional dataset (see loaders.hpp).
#include "datasets/loaders.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "datasets/random.hpp"

namespace sflsim::datasets {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Approximately standard normal from one 64-bit draw: the sum of four 16-bit
// uniforms, centred and scaled to unit variance (Irwin-Hall, n = 4).
double cheap_normal(std::mt19937_64& rng) {
  const uint64_t r = rng();
  double s = 0.0;
  for (int i = 0; i < 4; ++i) s += (static_cast<double>((r >> (16 * i)) & 0xFFFF) + 0.5) / 65536.0;
  return (s - 2.0) * 1.7320508075688772;  // var(sum) = 4/12 -> scale by sqrt(3)
}

ImageDataset synth_split(const SyntheticOptions& o, const std::vector<float>& templates,
                         int64_t n, uint64_t stream_seed, std::string name) {
  std::mt19937_64 rng(stream_seed);
  const int64_t c = o.channels;
  const int64_t h = o.height;
  const int64_t w = o.width;
  ImageDataset d;
  d.name = std::move(name);
  d.num_classes = o.num_classes;
  d.images = at::empty({n, c, h, w}, at::kByte);
  d.labels = at::empty({n}, at::kLong);
  int64_t* lab = d.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) lab[i] = i % o.num_classes;
  shuffle_in_place(std::span<int64_t>(lab, static_cast<size_t>(n)), rng);
  uint8_t* img = d.images.data_ptr<uint8_t>();
  const auto shifts = static_cast<uint64_t>(2 * o.max_shift + 1);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t dy = static_cast<int64_t>(uniform_below(rng, shifts)) - o.max_shift;
    const int64_t dx = static_cast<int64_t>(uniform_below(rng, shifts)) - o.max_shift;
    const double contrast = 1.0 + o.brightness_jitter * cheap_normal(rng);
    const float* t = templates.data() + lab[i] * c * h * w;
    uint8_t* out = img + i * c * h * w;
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t y = 0; y < h; ++y) {
        const int64_t sy = std::clamp<int64_t>(y - dy, 0, h - 1);
        for (int64_t x = 0; x < w; ++x) {
          const int64_t sx = std::clamp<int64_t>(x - dx, 0, w - 1);
          const double base = t[(ch * h + sy) * w + sx];
          const double v = 128.0 + (base - 128.0) * contrast + o.noise_stddev * cheap_normal(rng);
          out[(ch * h + y) * w + x] = static_cast<uint8_t>(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
        }
      }
    }
  }
  return d;
}

}  // namespace

DatasetSplits make_synthetic(const SyntheticOptions& o) {
  if (o.num_classes < 1 || (o.channels != 1 && o.channels != 3) || o.height < 1 || o.width < 1 ||
      o.train_size < 0 || o.test_size < 0 || o.blobs_per_class < 0 || o.max_shift < 0 ||
      o.noise_stddev < 0 || o.brightness_jitter < 0) {
    throw std::invalid_argument(
        "make_synthetic: need num_classes >= 1, channels 1 or 3, positive height/width and "
        "non-negative sizes, blobs, shift, noise and jitter");
  }
  const int64_t c = o.channels;
  const int64_t h = o.height;
  const int64_t w = o.width;
  // Class templates: Gaussian bumps on mid-grey.
  std::mt19937_64 trng(splitmix64(o.seed ^ 0x7465'6d70'6c61'7465ULL));  // "template"
  std::vector<float> templates(static_cast<size_t>(o.num_classes * c * h * w), 128.0F);
  const double side = static_cast<double>(std::min(h, w));
  for (int k = 0; k < o.num_classes; ++k) {
    std::vector<double> acc(static_cast<size_t>(c * h * w), 0.0);
    for (int b = 0; b < o.blobs_per_class; ++b) {
      const double cy = uniform01(trng) * static_cast<double>(h);
      const double cx = uniform01(trng) * static_cast<double>(w);
      const double sigma = (0.08 + 0.17 * uniform01(trng)) * side;
      const double amp = (uniform01(trng) < 0.5 ? -1.0 : 1.0) * (60.0 + 60.0 * uniform01(trng));
      std::array<double, 3> mix{1.0, 1.0, 1.0};
      if (c == 3) {
        for (auto& m : mix) m = 0.2 + 0.8 * uniform01(trng);
      }
      for (int64_t ch = 0; ch < c; ++ch) {
        for (int64_t y = 0; y < h; ++y) {
          for (int64_t x = 0; x < w; ++x) {
            const double ry = (static_cast<double>(y) - cy) / sigma;
            const double rx = (static_cast<double>(x) - cx) / sigma;
            acc[static_cast<size_t>((ch * h + y) * w + x)] +=
                amp * mix[static_cast<size_t>(ch)] * std::exp(-0.5 * (ry * ry + rx * rx));
          }
        }
      }
    }
    float* t = templates.data() + int64_t{k} * c * h * w;
    for (size_t j = 0; j < acc.size(); ++j) {
      t[j] = static_cast<float>(std::clamp(128.0 + acc[j], 0.0, 255.0));
    }
  }
  DatasetSplits s;
  s.train = synth_split(o, templates, o.train_size, splitmix64(o.seed ^ 0x7472'6169'6eULL),
                        "synthetic/train");
  s.test = synth_split(o, templates, o.test_size, splitmix64(o.seed ^ 0x7465'7374ULL),
                       "synthetic/test");
  set_normalisation_from_train(s);
  return s;
}

}  // namespace sflsim::datasets
