// idx files (Fashion-MNIST / MNIST): read_idx and load_fashion_mnist, plain and gzipped.
// Input: two control bytes, then the files as parts (fuzz_target.hpp's separator; a
// missing part is a missing file).
//   byte 0, mode (low 2 bits):
//     0  read_idx(images = part 1, labels = part 2), the bytes as given (they may be gzip);
//     1  the same, read once plain and once gzipped by the harness: both must agree;
//     2  load_fashion_mnist on a directory of parts 1-4 (train images, train labels,
//        test images, test labels), the bytes as given;
//     3  the same, each part gzipped by the harness and named *.gz.
//   byte 1: num_classes for read_idx (0 = 10); with bit 2 of byte 0 set, byte 1 - 128
//     (so that read_idx's own range check is reached).
// Expected: DataError naming a file of the scratch directory; std::invalid_argument
// from read_idx for num_classes outside [1, 256]. Checked on success: shapes, labels
// in range, normalisation constants in range; in mode 1, identical results.
#include "fuzz_target.hpp"

#include "datasets/loaders.hpp"

#include <ATen/ATen.h>

#include <cmath>
#include <optional>

namespace ds = sflsim::datasets;

namespace {

void check_dataset(const ds::ImageDataset& d, int num_classes) {
  using sflsim::fuzz::finding;
  if (d.images.dim() != 4 || d.images.size(1) != 1 || d.images.scalar_type() != at::kByte) {
    finding("read_idx: images are not uint8 [N, 1, H, W]");
  }
  if (d.labels.dim() != 1 || d.labels.size(0) != d.images.size(0) || d.labels.scalar_type() != at::kLong) {
    finding("read_idx: labels are not int64 [N]");
  }
  if (d.num_classes != num_classes) finding("read_idx: num_classes changed");
  const int64_t* lab = d.labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < d.labels.size(0); ++i) {
    if (lab[i] < 0 || lab[i] >= num_classes) finding("read_idx: accepted label " + std::to_string(lab[i]));
  }
  if (!(d.mean[0] >= 0.0F && d.mean[0] <= 1.0F) || !std::isfinite(d.stddev[0]) || d.stddev[0] < 0.0F) {
    finding("read_idx: normalisation out of range: mean " + std::to_string(d.mean[0]) + ", stddev " +
            std::to_string(d.stddev[0]));
  }
}

void expect_data_error(const ds::DataError& e) {
  sflsim::fuzz::check_message("DataError", e.what(), sflsim::fuzz::scratch_dir().string());
}

bool same(const ds::ImageDataset& a, const ds::ImageDataset& b) {
  return a.images.sizes() == b.images.sizes() && a.images.equal(b.images) && a.labels.equal(b.labels) &&
         a.mean == b.mean && a.stddev == b.stddev;
}

}  // namespace

SFLSIM_FUZZ_TARGET(idx) {
  if (input.size() < 2) return;
  const auto mode = static_cast<unsigned char>(input[0]);
  const auto classes_byte = static_cast<unsigned char>(input[1]);
  const int num_classes = (mode & 4U) != 0 ? int{classes_byte} - 128 : (classes_byte == 0 ? 10 : int{classes_byte});
  const std::vector<std::string_view> parts = sflsim::fuzz::split_parts(input.substr(2));
  const auto part = [&](size_t i) { return i < parts.size() ? &parts[i] : nullptr; };
  sflsim::fuzz::clear_scratch();
  const auto& dir = sflsim::fuzz::scratch_dir();

  switch (mode & 3U) {
    case 0:
    case 1: {
      const bool differential = (mode & 3U) == 1;
      const std::string_view* images = part(0);
      const std::string_view* labels = part(1);
      // Gzipping a gzip stream would only read back as the stream: not comparable.
      const auto is_gzip = [](const std::string_view* p) { return p != nullptr && p->starts_with("\x1f\x8b"); };
      if (differential && (is_gzip(images) || is_gzip(labels))) return;
      if (images != nullptr) sflsim::fuzz::write_file(dir / "images", *images);
      if (labels != nullptr) sflsim::fuzz::write_file(dir / "labels", *labels);
      if (differential) {
        if (images != nullptr) sflsim::fuzz::write_gzip_file(dir / "images.gz", *images);
        if (labels != nullptr) sflsim::fuzz::write_gzip_file(dir / "labels.gz", *labels);
      }
      std::optional<ds::ImageDataset> plain;
      std::string plain_error;
      try {
        plain = ds::read_idx(dir / "images", dir / "labels", "fuzz", num_classes);
        check_dataset(*plain, num_classes);
      } catch (const ds::DataError& e) {
        expect_data_error(e);
        plain_error = e.what();
      } catch (const std::invalid_argument& e) {
        sflsim::fuzz::check_message("std::invalid_argument", e.what(), "read_idx: ");
        if (num_classes >= 1 && num_classes <= 256) {
          sflsim::fuzz::finding(std::string("invalid_argument for a valid num_classes: ") + e.what());
        }
        return;
      }
      if (!differential) return;
      std::optional<ds::ImageDataset> gz;
      std::string gz_error;
      try {
        gz = ds::read_idx(dir / "images.gz", dir / "labels.gz", "fuzz", num_classes);
      } catch (const ds::DataError& e) {
        expect_data_error(e);
        gz_error = e.what();
      }
      if (plain.has_value() != gz.has_value()) {
        sflsim::fuzz::finding("plain and gzipped idx files disagree: plain " +
                              (plain ? std::string("accepted") : plain_error) + "; gzipped " +
                              (gz ? std::string("accepted") : gz_error));
      }
      if (plain && !same(*plain, *gz)) sflsim::fuzz::finding("plain and gzipped idx files read differently");
      return;
    }
    default: {
      const bool gzip = (mode & 3U) == 3;
      const char* names[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                             "t10k-labels-idx1-ubyte"};
      for (size_t i = 0; i < 4; ++i) {
        if (const std::string_view* p = part(i)) {
          if (gzip) {
            sflsim::fuzz::write_gzip_file(dir / (std::string(names[i]) + ".gz"), *p);
          } else {
            sflsim::fuzz::write_file(dir / names[i], *p);
          }
        }
      }
      try {
        const ds::DatasetSplits s = ds::load_fashion_mnist(dir);
        check_dataset(s.train, 10);
        check_dataset(s.test, 10);
        if (s.test.mean != s.train.mean || s.test.stddev != s.train.stddev) {
          sflsim::fuzz::finding("load_fashion_mnist: the test split is not normalised with the train statistics");
        }
      } catch (const ds::DataError& e) {
        expect_data_error(e);
      }
      return;
    }
  }
}
