// Dataset readers: CIFAR-10/100 binary files generated here in the official format.
#include "reader_files.hpp"

#include <string>
#include <vector>

using namespace sflsim::datasets;
using namespace sflsim::test;  // reader_files.hpp, temp_dir.hpp
using Catch::Matchers::Contains;

namespace {

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
