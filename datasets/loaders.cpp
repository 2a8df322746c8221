#include "datasets/loaders.hpp"

#include "datasets/data_file.hpp"

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

#include "datasets/random.hpp"

namespace sflsim::datasets {
namespace fs = std::filesystem;

namespace {


void expect_magic(DataFileReader& reader, const fs::path& path, uint32_t expected, const char* kind) {
  const uint32_t magic = reader.read_be32("the magic number");
  if (magic != expected) {
    fail_in(path, "bad magic number " + hex32(magic) + " (expected " + hex32(expected) + ": " + kind + ")");
  }
}

// dir/base.gz if present, else dir/base.
fs::path find_idx_file(const fs::path& dir, const std::string& base) {
  std::error_code ec;
  fs::path gz = dir / (base + ".gz");
  if (fs::is_regular_file(gz, ec)) return gz;
  fs::path plain = dir / base;
  if (fs::exists(plain, ec)) return plain;
  if (!fs::is_directory(dir, ec)) fail_in(dir, "dataset directory not found (looking for " + base + "[.gz])");
  fail_in(gz, "file not found (nor " + plain.filename().string() + ")");
}

DatasetSplits load_idx_pair(const fs::path& dir, const std::string& name) {
  // Resolved in this order so a missing file is reported deterministically.
  const fs::path train_images = find_idx_file(dir, "train-images-idx3-ubyte");
  const fs::path train_labels = find_idx_file(dir, "train-labels-idx1-ubyte");
  const fs::path test_images = find_idx_file(dir, "t10k-images-idx3-ubyte");
  const fs::path test_labels = find_idx_file(dir, "t10k-labels-idx1-ubyte");
  DatasetSplits s;
  s.train = read_idx(train_images, train_labels, name + "/train", 10);
  s.test = read_idx(test_images, test_labels, name + "/test", 10);
  if (s.train.height() != s.test.height() || s.train.width() != s.test.width()) {
    fail_in(dir, "train images are " + std::to_string(s.train.height()) + "x" +
                  std::to_string(s.train.width()) + " but test images are " +
                  std::to_string(s.test.height()) + "x" + std::to_string(s.test.width()));
  }
  set_normalisation_from_train(s);
  return s;
}

// The CIFAR binary formats: records of `label_bytes` label bytes then 3x32x32
// pixels. `label_index` picks which label byte is kept; every label byte is
// range-checked against its own class count.
struct CifarFormat {
  int label_bytes;
  int label_index;
  std::array<int, 2> classes;  // per label byte
};

constexpr int64_t kCifarPixels = 3 * 32 * 32;

ImageDataset read_cifar_files(const std::vector<fs::path>& files, const CifarFormat& fmt,
                              std::string name) {
  const int64_t rec = fmt.label_bytes + kCifarPixels;
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const auto& f : files) {
    require_file(f);
    std::error_code ec;
    const auto size = static_cast<int64_t>(fs::file_size(f, ec));
    if (ec) fail_in(f, "cannot read size: " + ec.message());
    if (size == 0) fail_in(f, "wrong size: file is empty");
    if (size % rec != 0) {
      const int64_t whole = size / rec;
      fail_in(f, "truncated or wrong size: " + std::to_string(size) + " bytes is not a whole number of " +
                  std::to_string(rec) + "-byte records; data ends at byte offset " +
                  std::to_string(size) + " inside record " + std::to_string(whole) +
                  " (which would end at offset " + std::to_string((whole + 1) * rec) + ")");
    }
    counts.push_back(size / rec);
    total += size / rec;
  }
  ImageDataset d;
  d.name = std::move(name);
  d.num_classes = fmt.classes[static_cast<size_t>(fmt.label_index)];
  d.images = at::empty({total, 3, 32, 32}, at::kByte);
  d.labels = at::empty({total}, at::kLong);
  uint8_t* img = d.images.data_ptr<uint8_t>();
  int64_t* lab = d.labels.data_ptr<int64_t>();
  std::vector<char> buf;
  int64_t at_sample = 0;
  for (size_t fi = 0; fi < files.size(); ++fi) {
    const auto& f = files[fi];
    std::ifstream in(f, std::ios::binary);
    if (!in) fail_in(f, std::string("cannot open: ") + std::strerror(errno));
    const int64_t n = counts[fi];
    buf.resize(static_cast<size_t>(n * rec));
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<int64_t>(in.gcount());
    if (got != n * rec) {
      fail_in(f, "truncated: data ends at byte offset " + std::to_string(got) + " (expected " +
                  std::to_string(n * rec) + " bytes)");
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(buf.data());
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t* recp = bytes + r * rec;
      for (int b = 0; b < fmt.label_bytes; ++b) {
        const int y = recp[b];
        const int k = fmt.classes[static_cast<size_t>(b)];
        if (y >= k) {
          fail_in(f, "label " + std::to_string(y) + " of record " + std::to_string(r) +
                      " (byte offset " + std::to_string(r * rec + b) + ") is outside [0, " +
                      std::to_string(k) + ")");
        }
      }
      lab[at_sample] = recp[fmt.label_index];
      std::memcpy(img + at_sample * kCifarPixels, recp + fmt.label_bytes,
                  static_cast<size_t>(kCifarPixels));
      ++at_sample;
    }
  }
  return d;
}

// dir itself if it holds `probe`, else dir/sub if that does.
fs::path cifar_dir(const fs::path& dir, const char* probe, const char* sub) {
  std::error_code ec;
  if (!fs::exists(dir / probe, ec) && fs::exists(dir / sub / probe, ec)) return dir / sub;
  return dir;
}

}  // namespace

fs::path default_data_root() { return "/usr/share/datasets"; }
fs::path default_fashion_mnist_dir() { return default_data_root() / "fashion-mnist"; }
fs::path default_mnist_dir() { return default_data_root() / "mnist"; }
fs::path default_cifar10_dir() { return default_data_root() / "cifar10"; }
fs::path default_cifar100_dir() { return default_data_root() / "cifar100"; }

ImageDataset read_idx(const fs::path& images_path, const fs::path& labels_path, std::string name,
                      int num_classes) {
  if (num_classes < 1 || num_classes > 256) {
    throw std::invalid_argument("read_idx: num_classes must be in [1, 256], got " +
                                std::to_string(num_classes));
  }
  ImageDataset d;
  d.name = std::move(name);
  d.num_classes = num_classes;

  DataFileReader im(images_path);
  expect_magic(im, images_path, 0x00000803U, "an idx3 file of unsigned bytes");
  const uint32_t n = im.read_be32("the image count");
  const uint32_t h = im.read_be32("the row count");
  const uint32_t w = im.read_be32("the column count");
  if (h == 0 || w == 0 || h > 4096 || w > 4096) {
    fail_in(images_path, "implausible image size " + std::to_string(h) + "x" + std::to_string(w) +
                          " in the header");
  }
  const int64_t pixels = int64_t{n} * h * w;
  if (pixels > (int64_t{1} << 34)) {
    fail_in(images_path, "implausible header: " + std::to_string(n) + " images of " +
                          std::to_string(h) + "x" + std::to_string(w));
  }
  const int64_t im_end = 16 + pixels;
  if (!im.compressed()) {
    std::error_code ec;
    const auto size = static_cast<int64_t>(fs::file_size(images_path, ec));
    if (!ec && size < im_end) {
      fail_in(images_path, "truncated: data ends at byte offset " + std::to_string(size) +
                            " but the header (" + std::to_string(n) + " images of " +
                            std::to_string(h) + "x" + std::to_string(w) + ") needs " +
                            std::to_string(im_end) + " bytes");
    }
    if (!ec && size > im_end) {
      fail_in(images_path, "wrong size: " + std::to_string(size) + " bytes, but the header (" +
                            std::to_string(n) + " images of " + std::to_string(h) + "x" +
                            std::to_string(w) + ") implies " + std::to_string(im_end));
    }
  }
  const std::string pixels_what =
      "the pixels of " + std::to_string(n) + " images of " + std::to_string(h) + "x" + std::to_string(w);
  // A compressed file's size says nothing about its data: past 64 MiB (beyond
  // Fashion-MNIST's 47 MB) the pixels are read before the tensor is allocated, so
  // a tiny file whose header claims 16 GiB fails as truncated without allocating it.
  constexpr size_t kChunk = size_t{64} << 20;
  if (im.compressed() && static_cast<size_t>(pixels) > kChunk) {
    const auto pieces = im.read_exact_chunked(static_cast<size_t>(pixels), kChunk, pixels_what);
    d.images = at::empty({int64_t{n}, 1, int64_t{h}, int64_t{w}}, at::kByte);
    uint8_t* out = d.images.data_ptr<uint8_t>();
    for (const auto& piece : pieces) out = std::copy(piece.begin(), piece.end(), out);
  } else {
    d.images = at::empty({int64_t{n}, 1, int64_t{h}, int64_t{w}}, at::kByte);
    im.read_exact(d.images.data_ptr<uint8_t>(), static_cast<size_t>(pixels), pixels_what);
  }
  im.expect_end("the " + std::to_string(n) + " images");

  DataFileReader lb(labels_path);
  expect_magic(lb, labels_path, 0x00000801U, "an idx1 file of unsigned bytes");
  const uint32_t m = lb.read_be32("the label count");
  if (m != n) {
    fail_in(labels_path, "holds " + std::to_string(m) + " labels but " + images_path.string() +
                          " holds " + std::to_string(n) + " images");
  }
  std::vector<uint8_t> raw(m);
  lb.read_exact(raw.data(), raw.size(), "the " + std::to_string(m) + " labels");
  lb.expect_end("the " + std::to_string(m) + " labels");
  d.labels = at::empty({int64_t{m}}, at::kLong);
  int64_t* lab = d.labels.data_ptr<int64_t>();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] >= num_classes) {
      fail_in(labels_path, "label " + std::to_string(raw[i]) + " at index " + std::to_string(i) +
                            " (byte offset " + std::to_string(8 + i) + ") is outside [0, " +
                            std::to_string(num_classes) + ")");
    }
    lab[i] = raw[i];
  }
  set_normalisation_from(d);
  return d;
}

DatasetSplits load_fashion_mnist(const fs::path& dir) { return load_idx_pair(dir, "fashion-mnist"); }

DatasetSplits load_mnist(const fs::path& dir) { return load_idx_pair(dir, "mnist"); }

DatasetSplits load_cifar10(const fs::path& dir) {
  const fs::path d = cifar_dir(dir, "test_batch.bin", "cifar-10-batches-bin");
  const CifarFormat fmt{1, 0, {10, 0}};
  std::vector<fs::path> train;
  for (int i = 1; i <= 5; ++i) train.push_back(d / ("data_batch_" + std::to_string(i) + ".bin"));
  DatasetSplits s;
  s.train = read_cifar_files(train, fmt, "cifar10/train");
  s.test = read_cifar_files({d / "test_batch.bin"}, fmt, "cifar10/test");
  set_normalisation_from_train(s);
  return s;
}

DatasetSplits load_cifar100(const fs::path& dir, Cifar100Labels labels) {
  const fs::path d = cifar_dir(dir, "test.bin", "cifar-100-binary");
  const bool fine = labels == Cifar100Labels::fine;
  const CifarFormat fmt{2, fine ? 1 : 0, {20, 100}};
  const std::string name = fine ? "cifar100" : "cifar100-coarse";
  DatasetSplits s;
  s.train = read_cifar_files({d / "train.bin"}, fmt, name + "/train");
  s.test = read_cifar_files({d / "test.bin"}, fmt, name + "/test");
  set_normalisation_from_train(s);
  return s;
}

std::string dataset_names() {
  return "fashion-mnist, mnist, cifar10, cifar100, cifar100-coarse, synthetic";
}

DatasetSplits load_dataset(std::string_view name, const fs::path& dir) {
  const bool dflt = dir.empty();
  if (name == "fashion-mnist") return load_fashion_mnist(dflt ? default_fashion_mnist_dir() : dir);
  if (name == "mnist") return load_mnist(dflt ? default_mnist_dir() : dir);
  if (name == "cifar10") return load_cifar10(dflt ? default_cifar10_dir() : dir);
  if (name == "cifar100") {
    return load_cifar100(dflt ? default_cifar100_dir() : dir, Cifar100Labels::fine);
  }
  if (name == "cifar100-coarse") {
    return load_cifar100(dflt ? default_cifar100_dir() : dir, Cifar100Labels::coarse);
  }
  if (name == "synthetic") return make_synthetic(SyntheticOptions{});
  throw std::invalid_argument("unknown dataset '" + std::string(name) +
                              "'; valid names: " + dataset_names());
}

}  // namespace sflsim::datasets
