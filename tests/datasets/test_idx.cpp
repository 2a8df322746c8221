// Dataset readers: idx files (generated, and the real Fashion-MNIST), the synthetic set.
#include "reader_files.hpp"

#include <zlib.h>

#include <string>
#include <vector>

using namespace sflsim::datasets;
using namespace sflsim::test;  // reader_files.hpp, temp_dir.hpp
using Catch::Matchers::Contains;

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
