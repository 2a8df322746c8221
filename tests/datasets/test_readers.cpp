// Dataset readers: CIFAR-10/100 binary files generated here in the official
// format, idx files (generated, and the real Fashion-MNIST), the synthetic set.
#include <ATen/ATen.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "datasets/loaders.hpp"
#include "temp_dir.hpp"

using namespace sflsim::datasets;
using sflsim::test::read_bytes;
using sflsim::test::TempDir;
using sflsim::test::write_bytes;
using Catch::Matchers::Contains;

namespace {

// Deterministic pixel pattern for generated files: sample r (global index),
// channel c, row y, column x.
uint8_t pattern(int64_t r, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((r * 7 + c * 31 + y * 3 + x * 5) & 0xFF);
}

// CIFAR records: `label_bytes` labels then 3x32x32 pixels in the official
// order (all R, then G, then B; row-major).
std::vector<uint8_t> cifar_records(int64_t first, int64_t count,
                                   const std::vector<std::vector<uint8_t>>& labels) {
  std::vector<uint8_t> out;
  for (int64_t r = first; r < first + count; ++r) {
    for (const auto& l : labels) out.push_back(l[static_cast<size_t>(r)]);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) out.push_back(pattern(r, c, y, x));
  }
  return out;
}

uint8_t px(const at::Tensor& images, int64_t n, int64_t c, int64_t y, int64_t x) {
  return images[n][c][y][x].item<uint8_t>();
}

// 5 train files of 3 records (labels r % 10) and a test file of 2 (labels 9 - r).
void write_cifar10(const std::filesystem::path& dir) {
  std::vector<uint8_t> train_labels;
  for (int r = 0; r < 15; ++r) train_labels.push_back(static_cast<uint8_t>(r % 10));
  for (int f = 0; f < 5; ++f) {
    write_bytes(dir / ("data_batch_" + std::to_string(f + 1) + ".bin"),
                cifar_records(f * 3, 3, {train_labels}));
  }
  write_bytes(dir / "test_batch.bin", cifar_records(0, 2, {{9, 8}}));
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("no DataError thrown");
  return {};
}

}  // namespace

TEST_CASE("CIFAR-10 reader reads the official binary format exactly", "[datasets][cifar]") {
  TempDir dir;
  write_cifar10(dir.path());
  const auto s = load_cifar10(dir.path());
  REQUIRE(s.train.images.sizes() == at::IntArrayRef({15, 3, 32, 32}));
  REQUIRE(s.test.images.sizes() == at::IntArrayRef({2, 3, 32, 32}));
  REQUIRE(s.train.images.scalar_type() == at::kByte);
  REQUIRE(s.train.labels.scalar_type() == at::kLong);
  REQUIRE(s.train.num_classes == 10);
  for (int r = 0; r < 15; ++r) CHECK(s.train.labels[r].item<int64_t>() == r % 10);
  CHECK(s.test.labels[0].item<int64_t>() == 9);
  CHECK(s.test.labels[1].item<int64_t>() == 8);
  // Sample 7 is record 1 of data_batch_3.bin.
  CHECK(px(s.train.images, 7, 0, 0, 0) == pattern(7, 0, 0, 0));
  CHECK(px(s.train.images, 7, 1, 5, 9) == pattern(7, 1, 5, 9));
  CHECK(px(s.train.images, 7, 2, 31, 30) == pattern(7, 2, 31, 30));
  CHECK(px(s.train.images, 14, 2, 31, 31) == pattern(14, 2, 31, 31));
  CHECK(px(s.test.images, 1, 1, 17, 3) == pattern(1, 1, 17, 3));
  // Every pixel, in one comparison.
  auto expected = at::empty({15, 3, 32, 32}, at::kByte);
  auto* e = expected.data_ptr<uint8_t>();
  for (int r = 0; r < 15; ++r)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) *e++ = pattern(r, c, y, x);
  CHECK(at::equal(s.train.images, expected));
  // Stats from the train split, shared with the test split.
  const auto mean0 = (s.train.images.select(1, 0).to(at::kDouble) / 255.0).mean().item<double>();
  CHECK(s.train.mean[0] == Approx(mean0).epsilon(1e-6));
  CHECK(s.test.mean == s.train.mean);
  CHECK(s.test.stddev == s.train.stddev);
}

TEST_CASE("CIFAR-10 reader finds the archive's subfolder and load_dataset dispatches",
          "[datasets][cifar]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "cifar-10-batches-bin");
  write_cifar10(dir / "cifar-10-batches-bin");
  const auto s = load_dataset("cifar10", dir.path());
  CHECK(s.train.size() == 15);
  CHECK(s.test.size() == 2);
}

TEST_CASE("CIFAR-10 reader rejects bad files, naming them", "[datasets][cifar]") {
  TempDir dir;
  write_cifar10(dir.path());
  const auto batch3 = dir / "data_batch_3.bin";

  SECTION("truncated file") {
    auto bytes = read_bytes(batch3);
    bytes.resize(bytes.size() - 100);  // 3 * 3073 - 100 = 9119
    write_bytes(batch3, bytes);
    const auto msg = error_of([&] { load_cifar10(dir.path()); });
    CHECK_THAT(msg, Contains(batch3.string()));
    CHECK_THAT(msg, Contains("truncated"));
    CHECK_THAT(msg, Contains("data ends at byte offset 9119"));
    CHECK(msg.find('\n') == std::string::npos);
  }
  SECTION("wrong size: too long by a partial record") {
    auto bytes = read_bytes(batch3);
    bytes.push_back(0);
    write_bytes(batch3, bytes);
    CHECK_THAT(error_of([&] { load_cifar10(dir.path()); }), Contains(batch3.string()));
  }
  SECTION("empty file") {
    write_bytes(batch3, {});
    const auto msg = error_of([&] { load_cifar10(dir.path()); });
    CHECK_THAT(msg, Contains(batch3.string()));
    CHECK_THAT(msg, Contains("empty"));
  }
  SECTION("label out of range") {
    auto bytes = read_bytes(dir / "test_batch.bin");
    bytes[3073] = 10;  // label of record 1
    write_bytes(dir / "test_batch.bin", bytes);
    const auto msg = error_of([&] { load_cifar10(dir.path()); });
    CHECK_THAT(msg, Contains((dir / "test_batch.bin").string()));
    CHECK_THAT(msg, Contains("label 10 of record 1 (byte offset 3073) is outside [0, 10)"));
  }
  SECTION("missing file") {
    std::filesystem::remove(dir / "data_batch_5.bin");
    const auto msg = error_of([&] { load_cifar10(dir.path()); });
    CHECK_THAT(msg, Contains((dir / "data_batch_5.bin").string()));
    CHECK_THAT(msg, Contains("not found"));
  }
}

TEST_CASE("CIFAR-100 reader reads fine and coarse labels exactly", "[datasets][cifar]") {
  TempDir dir;
  std::vector<uint8_t> coarse;
  std::vector<uint8_t> fine;
  for (int r = 0; r < 6; ++r) {
    coarse.push_back(static_cast<uint8_t>((r * 3) % 20));
    fine.push_back(static_cast<uint8_t>(99 - r * 17));
  }
  write_bytes(dir / "train.bin", cifar_records(0, 4, {coarse, fine}));
  write_bytes(dir / "test.bin", cifar_records(4, 2, {coarse, fine}));

  const auto f = load_cifar100(dir.path(), Cifar100Labels::fine);
  REQUIRE(f.train.images.sizes() == at::IntArrayRef({4, 3, 32, 32}));
  REQUIRE(f.test.images.sizes() == at::IntArrayRef({2, 3, 32, 32}));
  CHECK(f.train.num_classes == 100);
  for (int r = 0; r < 4; ++r) CHECK(f.train.labels[r].item<int64_t>() == 99 - r * 17);
  CHECK(f.test.labels[1].item<int64_t>() == 99 - 5 * 17);
  CHECK(px(f.train.images, 3, 2, 10, 20) == pattern(3, 2, 10, 20));
  CHECK(px(f.test.images, 0, 0, 0, 1) == pattern(4, 0, 0, 1));

  const auto c = load_dataset("cifar100-coarse", dir.path());
  CHECK(c.train.num_classes == 20);
  for (int r = 0; r < 4; ++r) CHECK(c.train.labels[r].item<int64_t>() == (r * 3) % 20);
  CHECK(c.test.labels[0].item<int64_t>() == 12);
  CHECK(at::equal(c.train.images, f.train.images));

  SECTION("fine label out of range") {
    auto bytes = read_bytes(dir / "train.bin");
    bytes[3074 * 2 + 1] = 100;
    write_bytes(dir / "train.bin", bytes);
    const auto msg = error_of([&] { load_cifar100(dir.path(), Cifar100Labels::fine); });
    CHECK_THAT(msg, Contains((dir / "train.bin").string()));
    CHECK_THAT(msg, Contains("label 100 of record 2"));
  }
  SECTION("coarse label out of range is caught even when reading fine labels") {
    auto bytes = read_bytes(dir / "test.bin");
    bytes[0] = 20;
    write_bytes(dir / "test.bin", bytes);
    CHECK_THAT(error_of([&] { load_cifar100(dir.path(), Cifar100Labels::fine); }),
               Contains("label 20 of record 0 (byte offset 0) is outside [0, 20)"));
  }
  SECTION("a CIFAR-10-sized record is a wrong size for CIFAR-100") {
    write_bytes(dir / "test.bin", cifar_records(0, 2, {fine}));  // 2 * 3073 bytes
    const auto msg = error_of([&] { load_cifar100(dir.path()); });
    CHECK_THAT(msg, Contains((dir / "test.bin").string()));
    CHECK_THAT(msg, Contains("not a whole number of 3074-byte records"));
  }
}

namespace {

void put_be32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// An idx3 file of n images h x w (pixels from `pattern`) and its idx1 labels.
std::vector<uint8_t> idx_images(uint32_t n, uint32_t h, uint32_t w, uint32_t magic = 0x803) {
  std::vector<uint8_t> v;
  put_be32(v, magic);
  put_be32(v, n);
  put_be32(v, h);
  put_be32(v, w);
  for (uint32_t r = 0; r < n; ++r)
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x) v.push_back(pattern(r, 0, y, x));
  return v;
}

std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels, uint32_t magic = 0x801) {
  std::vector<uint8_t> v;
  put_be32(v, magic);
  put_be32(v, static_cast<uint32_t>(labels.size()));
  v.insert(v.end(), labels.begin(), labels.end());
  return v;
}

void write_gz(const std::filesystem::path& p, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(p.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

const DatasetSplits& fashion_mnist() {
  static const DatasetSplits s = load_fashion_mnist();
  return s;
}

}  // namespace

TEST_CASE("idx reader reads generated files, plain and gzipped", "[datasets][idx]") {
  TempDir dir;
  write_bytes(dir / "im", idx_images(3, 4, 5));
  write_bytes(dir / "lb", idx_labels({2, 0, 9}));
  write_gz(dir / "im.gz", idx_images(3, 4, 5));
  write_gz(dir / "lb.gz", idx_labels({2, 0, 9}));
  for (const auto& [im, lb] : {std::pair{"im", "lb"}, std::pair{"im.gz", "lb.gz"}}) {
    const auto d = read_idx(dir / im, dir / lb, "gen", 10);
    REQUIRE(d.images.sizes() == at::IntArrayRef({3, 1, 4, 5}));
    CHECK(d.name == "gen");
    CHECK(d.num_classes == 10);
    CHECK(d.labels[0].item<int64_t>() == 2);
    CHECK(d.labels[2].item<int64_t>() == 9);
    CHECK(px(d.images, 2, 0, 3, 4) == pattern(2, 0, 3, 4));
    CHECK(px(d.images, 1, 0, 2, 0) == pattern(1, 0, 2, 0));
  }
}

TEST_CASE("idx reader rejects bad files, naming them", "[datasets][idx]") {
  TempDir dir;
  const auto im = dir / "im";
  const auto lb = dir / "lb";
  write_bytes(im, idx_images(3, 4, 5));
  write_bytes(lb, idx_labels({2, 0, 9}));

  SECTION("corrupt magic number in the images file") {
    write_bytes(im, idx_images(3, 4, 5, 0x804));
    const auto msg = error_of([&] { read_idx(im, lb, "x", 10); });
    CHECK_THAT(msg, Contains(im.string()));
    CHECK_THAT(msg, Contains("bad magic number 0x00000804"));
  }
  SECTION("corrupt magic number in a gzipped labels file") {
    write_gz(dir / "lb.gz", idx_labels({2, 0, 9}, 0x803));
    const auto msg = error_of([&] { read_idx(im, dir / "lb.gz", "x", 10); });
    CHECK_THAT(msg, Contains((dir / "lb.gz").string()));
    CHECK_THAT(msg, Contains("bad magic number 0x00000803 (expected 0x00000801"));
  }
  SECTION("truncated plain images file") {
    auto bytes = idx_images(3, 4, 5);
    bytes.resize(50);
    write_bytes(im, bytes);
    const auto msg = error_of([&] { read_idx(im, lb, "x", 10); });
    CHECK_THAT(msg, Contains(im.string()));
    CHECK_THAT(msg, Contains("truncated: data ends at byte offset 50"));
  }
  SECTION("truncated header") {
    write_bytes(im, {0, 0, 8, 3, 0, 0});
    CHECK_THAT(error_of([&] { read_idx(im, lb, "x", 10); }),
               Contains("truncated: data ends at byte offset 6"));
  }
  SECTION("trailing data") {
    auto bytes = idx_images(3, 4, 5);
    bytes.push_back(1);
    write_bytes(im, bytes);
    CHECK_THAT(error_of([&] { read_idx(im, lb, "x", 10); }), Contains("wrong size"));
  }
  SECTION("image and label counts disagree") {
    write_bytes(lb, idx_labels({2, 0}));
    const auto msg = error_of([&] { read_idx(im, lb, "x", 10); });
    CHECK_THAT(msg, Contains(lb.string()));
    CHECK_THAT(msg, Contains("holds 2 labels but"));
  }
  SECTION("label out of range") {
    write_bytes(lb, idx_labels({2, 10, 9}));
    CHECK_THAT(error_of([&] { read_idx(im, lb, "x", 10); }),
               Contains("label 10 at index 1 (byte offset 9) is outside [0, 10)"));
  }
  SECTION("missing file") {
    const auto msg = error_of([&] { read_idx(dir / "nope", lb, "x", 10); });
    CHECK_THAT(msg, Contains((dir / "nope").string()));
    CHECK_THAT(msg, Contains("not found"));
  }
  SECTION("truncated gzip stream (the real Fashion-MNIST test labels, cut in half)") {
    auto gz = read_bytes(default_fashion_mnist_dir() / "t10k-labels-idx1-ubyte.gz");
    REQUIRE(gz.size() == 5125);
    gz.resize(gz.size() / 2);
    write_bytes(dir / "cut.gz", gz);
    const auto msg = error_of([&] { read_idx(im, dir / "cut.gz", "x", 10); });
    CHECK_THAT(msg, Contains((dir / "cut.gz").string()));
    CHECK_THAT(msg, Contains("holds 10000 labels but"));  // counts are checked first...
    write_bytes(im, idx_images(10000, 1, 1));
    const auto msg2 = error_of([&] { read_idx(im, dir / "cut.gz", "x", 10); });
    CHECK_THAT(msg2, Contains((dir / "cut.gz").string()));  // ...then the data runs out
    CHECK_THAT(msg2, Contains("truncated: data ends at byte offset"));
    CHECK_THAT(msg2, Contains("the gzip stream itself is cut short"));
    CHECK(msg2.find('\n') == std::string::npos);
  }
  SECTION("a dataset directory without the files") {
    const auto msg = error_of([&] { load_fashion_mnist(dir.path()); });
    CHECK_THAT(msg, Contains((dir / "train-images-idx3-ubyte.gz").string()));
    CHECK_THAT(msg, Contains("not found"));
  }
}

TEST_CASE("Fashion-MNIST loads from its default location", "[datasets][idx]") {
  const auto& s = fashion_mnist();
  REQUIRE(s.train.images.sizes() == at::IntArrayRef({60000, 1, 28, 28}));
  REQUIRE(s.test.images.sizes() == at::IntArrayRef({10000, 1, 28, 28}));
  REQUIRE(s.train.labels.sizes() == at::IntArrayRef({60000}));
  REQUIRE(s.test.labels.sizes() == at::IntArrayRef({10000}));
  CHECK(s.train.num_classes == 10);
  CHECK(s.train.labels.min().item<int64_t>() == 0);
  CHECK(s.train.labels.max().item<int64_t>() == 9);
  CHECK(s.test.labels.min().item<int64_t>() == 0);
  CHECK(s.test.labels.max().item<int64_t>() == 9);
  // Balanced: 6,000 / 1,000 per class.
  CHECK(at::equal(at::bincount(s.train.labels), at::full({10}, 6000, at::kLong)));
  CHECK(at::equal(at::bincount(s.test.labels), at::full({10}, 1000, at::kLong)));
  // Values read independently with Python's gzip module.
  const std::vector<int64_t> first{9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  const std::vector<int64_t> first_test{9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
  for (int i = 0; i < 10; ++i) {
    CHECK(s.train.labels[i].item<int64_t>() == first[static_cast<size_t>(i)]);
    CHECK(s.test.labels[i].item<int64_t>() == first_test[static_cast<size_t>(i)]);
  }
  CHECK(s.train.images[0].sum().item<int64_t>() == 76247);
  CHECK(px(s.train.images, 0, 0, 14, 14) == 217);
  CHECK(px(s.train.images, 123, 0, 10, 20) == 59);
  CHECK(s.test.images[9999].sum().item<int64_t>() == 24390);
  CHECK(px(s.test.images, 9999, 0, 10, 12) == 80);
  // Train statistics (sum of all train pixels 3,431,114,169 -> mean 0.286041),
  // the well-known 0.2860 / 0.3530; the test split shares them.
  CHECK(s.train.mean[0] == Approx(0.2860406).margin(1e-6));
  CHECK(s.train.stddev[0] == Approx(0.3530).margin(1e-4));
  CHECK(s.test.mean[0] == s.train.mean[0]);
  CHECK(s.test.stddev[0] == s.train.stddev[0]);
  CHECK(s.train.name == "fashion-mnist/train");
}

TEST_CASE("idx loader accepts uncompressed files by their plain names", "[datasets][idx]") {
  TempDir dir;
  write_bytes(dir / "train-images-idx3-ubyte", idx_images(4, 28, 28));
  write_bytes(dir / "train-labels-idx1-ubyte", idx_labels({1, 2, 3, 4}));
  write_gz(dir / "t10k-images-idx3-ubyte.gz", idx_images(2, 28, 28));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels({5, 6}));
  const auto s = load_dataset("mnist", dir.path());
  CHECK(s.train.size() == 4);
  CHECK(s.test.size() == 2);
  CHECK(s.test.labels[1].item<int64_t>() == 6);
  CHECK(px(s.test.images, 1, 0, 27, 27) == pattern(1, 0, 27, 27));
}

TEST_CASE("synthetic dataset is deterministic from its seed and learnable",
          "[datasets][synthetic]") {
  const auto a = make_synthetic();
  const auto b = make_synthetic();
  REQUIRE(a.train.images.sizes() == at::IntArrayRef({2000, 1, 28, 28}));
  REQUIRE(a.test.images.sizes() == at::IntArrayRef({500, 1, 28, 28}));
  CHECK(at::equal(a.train.images, b.train.images));
  CHECK(at::equal(a.train.labels, b.train.labels));
  CHECK(at::equal(a.test.images, b.test.images));
  CHECK(a.train.mean == b.train.mean);
  CHECK(at::equal(at::bincount(a.train.labels), at::full({10}, 200, at::kLong)));
  CHECK(at::equal(at::bincount(a.test.labels), at::full({10}, 50, at::kLong)));
  CHECK_FALSE(at::equal(a.train.images, a.test.images.repeat({4, 1, 1, 1})));

  SyntheticOptions o;
  o.seed = 2;
  const auto c = make_synthetic(o);
  CHECK_FALSE(at::equal(a.train.images, c.train.images));
  CHECK_FALSE(at::equal(a.train.labels, c.train.labels));

  // Learnable: nearest class mean (from train) classifies the test split.
  const auto x = a.train.images.to(at::kFloat).flatten(1);
  const auto xt = a.test.images.to(at::kFloat).flatten(1);
  auto means = at::zeros({10, x.size(1)});
  for (int k = 0; k < 10; ++k) means[k] = x.index({a.train.labels == k}).mean(0);
  const auto pred = at::cdist(xt, means).argmin(1);
  const double acc = (pred == a.test.labels).to(at::kDouble).mean().item<double>();
  INFO("nearest-class-mean test accuracy " << acc);
  CHECK(acc >= 0.9);

  const auto rgb = make_synthetic(SyntheticOptions::cifar_like());
  CHECK(rgb.train.images.sizes() == at::IntArrayRef({2000, 3, 32, 32}));
  CHECK(rgb.train.stddev[2] > 0.0F);
}

TEST_CASE("load_dataset rejects an unknown name, listing the valid ones", "[datasets]") {
  try {
    load_dataset("imagenet", {});
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Contains("imagenet"));
    CHECK_THAT(msg, Contains("fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse, synthetic"));
  }
  CHECK(load_dataset("synthetic", {}).train.size() == 2000);
}
