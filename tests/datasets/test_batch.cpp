// make_batch: gather, normalisation, augmentation, determinism, throughput.
#include <ATen/ATen.h>

#include <catch2/catch.hpp>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <iostream>
#include <numeric>
#include <random>
#include <vector>

#include "datasets/dataset.hpp"
#include "datasets/loaders.hpp"
#include "datasets/random.hpp"

using namespace sflsim::datasets;

namespace {

// 6 samples, 3 x 5 x 7, random bytes from a fixed seed; mean/stddev chosen so
// that byte 255 in channel 0 normalises to exactly 1 and byte 0 to exactly -1.
ImageDataset small_dataset(int channels = 3) {
  ImageDataset d;
  d.name = "small";
  d.num_classes = 4;
  d.images = at::empty({6, channels, 5, 7}, at::kByte);
  std::mt19937_64 rng(3);
  auto* p = d.images.data_ptr<uint8_t>();
  for (int64_t i = 0; i < d.images.numel(); ++i) p[i] = static_cast<uint8_t>(rng() >> 56);
  p[0] = 255;  // sample 0, channel 0, (0, 0)
  p[1] = 0;    // sample 0, channel 0, (0, 1)
  d.labels = at::tensor(std::vector<int64_t>{3, 1, 0, 2, 2, 1}, at::kLong);
  d.mean = {0.5F, 0.25F, 0.75F};
  d.stddev = {0.5F, 0.25F, 0.125F};
  return d;
}

// The reference: plain torch ops on the gathered uint8 images.
at::Tensor reference(const ImageDataset& d, const std::vector<int64_t>& idx) {
  const int64_t c = d.images.size(1);
  auto mean = at::tensor(std::vector<float>(d.mean.begin(), d.mean.begin() + c)).view({1, c, 1, 1});
  auto sd = at::tensor(std::vector<float>(d.stddev.begin(), d.stddev.begin() + c)).view({1, c, 1, 1});
  auto x = d.images.index_select(0, at::tensor(idx, at::kLong)).to(at::kFloat) / 255.0;
  return (x - mean) / sd;
}

bool bytes_equal(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
         std::memcmp(a.data_ptr(), b.data_ptr(), static_cast<size_t>(a.nbytes())) == 0;
}

}  // namespace

TEST_CASE("make_batch without augmentation is the normalised gather", "[datasets][batch]") {
  const auto d = small_dataset();
  const std::vector<int64_t> idx{4, 0, 0, 5, 2};
  const auto b = make_batch(d, idx, nullptr, nullptr);
  REQUIRE(b.images.sizes() == at::IntArrayRef({5, 3, 5, 7}));
  REQUIRE(b.images.scalar_type() == at::kFloat);
  CHECK(at::equal(b.labels, at::tensor(std::vector<int64_t>{2, 3, 3, 1, 0}, at::kLong)));
  CHECK(at::allclose(b.images, reference(d, idx), 0.0, 1e-6));
  // Exact pixel values: (255/255 - 0.5) / 0.5 = 1, (0 - 0.5) / 0.5 = -1.
  CHECK(b.images[1][0][0][0].item<float>() == 1.0F);
  CHECK(b.images[2][0][0][1].item<float>() == -1.0F);
  // Channel 1 of some pixel: (v/255 - 0.25) / 0.25.
  const int v = d.images[5][1][3][6].item<uint8_t>();
  CHECK(b.images[3][1][3][6].item<float>() == Approx((v / 255.0 - 0.25) / 0.25).margin(1e-6));
  // An rng, if given without augmentation, is not touched.
  std::mt19937_64 rng(1);
  const auto before = rng;
  CHECK(bytes_equal(make_batch(d, idx, nullptr, &rng).images, b.images));
  CHECK(rng == before);
  // Empty batch.
  CHECK(make_batch(d, {}, nullptr, nullptr).images.size(0) == 0);
}

TEST_CASE("make_batch augmentation follows the documented draws", "[datasets][batch]") {
  const auto d = small_dataset();
  std::vector<int64_t> idx(40);
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>((i * 5) % 6);
  AugmentOptions aug;  // crop with padding 4, flip
  std::mt19937_64 rng(99);
  std::mt19937_64 replay = rng;
  const auto b = make_batch(d, idx, &aug, &rng);

  // Same rng state -> byte-identical batch; a different state -> different.
  std::mt19937_64 again(99);
  const auto b2 = make_batch(d, idx, &aug, &again);
  CHECK(bytes_equal(b.images, b2.images));
  CHECK(at::equal(b.labels, b2.labels));
  CHECK(rng == again);
  std::mt19937_64 other(100);
  CHECK_FALSE(bytes_equal(b.images, make_batch(d, idx, &aug, &other).images));

  // Rebuild every sample with torch ops from replayed draws: pad with raw 0,
  // crop at (oy, ox), maybe flip, normalise.
  const int p = aug.crop_padding;
  int flips = 0;
  for (size_t i = 0; i < idx.size(); ++i) {
    const auto oy = static_cast<int64_t>(uniform_below(replay, 2 * p + 1));
    const auto ox = static_cast<int64_t>(uniform_below(replay, 2 * p + 1));
    const bool flip = (replay() >> 63) != 0;
    flips += flip ? 1 : 0;
    auto raw = d.images[idx[i]].to(at::kFloat);  // [C, H, W]
    auto padded = at::constant_pad_nd(raw, {p, p, p, p}, 0.0);
    auto crop = padded.slice(1, oy, oy + 5).slice(2, ox, ox + 7);
    if (flip) crop = crop.flip({2});
    const auto expected =
        (crop.unsqueeze(0) / 255.0 -
         at::tensor(std::vector<float>{0.5F, 0.25F, 0.75F}).view({1, 3, 1, 1})) /
        at::tensor(std::vector<float>{0.5F, 0.25F, 0.125F}).view({1, 3, 1, 1});
    INFO("sample " << i << " oy " << oy << " ox " << ox << " flip " << flip);
    CHECK(at::allclose(b.images[static_cast<int64_t>(i)], expected[0], 0.0, 1e-5));
  }
  CHECK(rng == replay);  // make_batch drew exactly these numbers
  CHECK(flips > 5);
  CHECK(flips < 35);

  // Padding is raw 0: an output pixel from outside the image is -mean/std.
  AugmentOptions crop_only;
  crop_only.horizontal_flip = false;
  crop_only.crop_padding = 7;  // >= W: some rows/columns must be all padding
  std::mt19937_64 r3(5);
  const auto c = make_batch(d, idx, &crop_only, &r3);
  CHECK((c.images.select(1, 0) == -1.0F).any().item<bool>());
  CHECK((c.images.select(1, 2) == -6.0F).any().item<bool>());  // -0.75 / 0.125
}

TEST_CASE("make_batch flip only: each sample is the plain one or its mirror", "[datasets][batch]") {
  const auto d = small_dataset(1);
  std::vector<int64_t> idx(64);
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i % 6);
  AugmentOptions flip_only;
  flip_only.random_crop = false;
  std::mt19937_64 rng(8);
  const auto b = make_batch(d, idx, &flip_only, &rng);
  const auto plain = make_batch(d, idx, nullptr, nullptr).images;
  int mirrored = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const bool same = at::equal(b.images[i], plain[i]);
    const bool flipped = at::equal(b.images[i], plain[i].flip({2}));
    CHECK((same || flipped));
    mirrored += (flipped && !same) ? 1 : 0;
  }
  CHECK(mirrored > 16);
  CHECK(mirrored < 48);
  // crop_padding 0 with random_crop on draws no crop offsets.
  AugmentOptions none;
  none.crop_padding = 0;
  none.horizontal_flip = false;
  std::mt19937_64 r(1);
  const auto before = r;
  CHECK(at::equal(make_batch(d, idx, &none, &r).images, plain));
  CHECK(r == before);
}

TEST_CASE("make_batch rejects bad arguments", "[datasets][batch]") {
  const auto d = small_dataset();
  const std::vector<int64_t> bad{0, 6};
  CHECK_THROWS_AS(make_batch(d, bad, nullptr, nullptr), std::out_of_range);
  const std::vector<int64_t> neg{-1};
  CHECK_THROWS_AS(make_batch(d, neg, nullptr, nullptr), std::out_of_range);
  AugmentOptions aug;
  const std::vector<int64_t> ok{0};
  CHECK_THROWS_AS(make_batch(d, ok, &aug, nullptr), std::invalid_argument);
}

TEST_CASE("draws taken ahead build the batch the rng would have, byte for byte", "[datasets][batch]") {
  const auto d = small_dataset();
  const std::vector<int64_t> idx{5, 0, 3, 3};
  AugmentOptions aug;
  aug.crop_padding = 2;
  std::mt19937_64 now(11), ahead(11);
  const Batch direct = make_batch(d, idx, &aug, &now);
  const std::vector<SampleAugment> draws = draw_augmentation(static_cast<int64_t>(idx.size()), &aug, &ahead);
  CHECK(ahead == now);  // the same draws were taken from the stream
  const Batch later = make_batch(d, idx, draws);
  CHECK(bytes_equal(direct.images, later.images));
  CHECK(bytes_equal(direct.labels, later.labels));
  CHECK(bytes_equal(batch_labels(d, idx), direct.labels));
  CHECK(draw_augmentation(4, nullptr, &ahead).empty());
  CHECK_THROWS_AS(make_batch(d, idx, std::span<const SampleAugment>(draws).first(3)), std::invalid_argument);
  const std::vector<int64_t> outside{6};
  CHECK_THROWS_AS(batch_labels(d, outside), std::out_of_range);
}

TEST_CASE("make_batch normalises the synthetic train split to mean 0, std 1",
          "[datasets][batch][synthetic]") {
  for (const auto& opts : {SyntheticOptions::mnist_like(), SyntheticOptions::cifar_like()}) {
    const auto s = make_synthetic(opts);
    std::vector<int64_t> all(static_cast<size_t>(s.train.size()));
    std::iota(all.begin(), all.end(), int64_t{0});
    const auto b = make_batch(s.train, all, nullptr, nullptr);
    for (int c = 0; c < opts.channels; ++c) {
      const auto ch = b.images.select(1, c).to(at::kDouble);
      CHECK(std::abs(ch.mean().item<double>()) < 1e-4);
      CHECK(ch.std(/*unbiased=*/false).item<double>() == Approx(1.0).margin(1e-4));
    }
  }
}

TEST_CASE("make_batch throughput", "[datasets][batch][slow]") {
  for (const auto& opts : {SyntheticOptions::mnist_like(), SyntheticOptions::cifar_like()}) {
    const auto s = make_synthetic(opts);
    std::mt19937_64 rng(1);
    AugmentOptions aug;
    const std::array<const AugmentOptions*, 2> modes{nullptr, &aug};
    for (const AugmentOptions* a : modes) {
      std::vector<int64_t> idx(32);
      const int iters = 20000;
      const auto t0 = std::chrono::steady_clock::now();
      double sink = 0.0;
      for (int it = 0; it < iters; ++it) {
        for (auto& i : idx) i = static_cast<int64_t>(uniform_below(rng, 2000));
        const auto b = make_batch(s.train, idx, a, &rng);
        sink += static_cast<double>(b.images.data_ptr<float>()[it % 100]);
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cout << "make_batch batch 32 of " << opts.channels << "x" << opts.height << "x"
                << opts.width << (a ? " augmented" : " plain") << ": " << iters / secs
                << " batches/s (" << 32 * iters / secs << " images/s)\n";
      CHECK(std::isfinite(sink));
    }
  }
}
