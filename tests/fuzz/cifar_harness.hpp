#pragma once
// Shared by fuzz_cifar10.cpp and fuzz_cifar100.cpp: the CIFAR binary readers
// on a scratch directory.
// Input: one control byte, then the files as parts (fuzz_target.hpp's
// separator; a missing part is a missing file), in the order of `files`.
//   bit 0: put the files in the archive's subfolder (cifar-10-batches-bin/, cifar-100-binary/);
//   bit 1: compact parts: each part is the label bytes of its records (label_bytes
//          per record; a trailing partial record is dropped) and the harness adds
//          generated pixels; else a part is the file's bytes as given;
//   bit 2: (CIFAR-100) coarse labels instead of fine.
// Expected: DataError naming a file or directory of the scratch directory.
// Checked on success: shapes, and every label and pixel against the files'
// bytes (a reference reading of the format), normalisation shared by both splits.
#include "fuzz_target.hpp"

#include "datasets/loaders.hpp"

#include <ATen/ATen.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace sflsim::fuzz {

struct CifarLayout {
  const char* subfolder;
  std::vector<const char*> train_files;
  std::vector<const char*> test_files;
  int label_bytes;
  std::array<int, 2> classes;  // per label byte
};

inline void check_split(const datasets::ImageDataset& d, const std::vector<std::string>& files, int label_bytes,
                        int label_index, int num_classes) {
  constexpr int64_t kPixels = 3 * 32 * 32;
  const int64_t rec = label_bytes + kPixels;
  int64_t records = 0;
  for (const auto& f : files) records += static_cast<int64_t>(f.size()) / rec;
  if (d.images.dim() != 4 || d.images.size(0) != records || d.images.size(1) != 3 || d.images.size(2) != 32 ||
      d.images.size(3) != 32 || d.images.scalar_type() != at::kByte) {
    finding(d.name + ": images are not uint8 [" + std::to_string(records) + ", 3, 32, 32]");
  }
  if (d.labels.dim() != 1 || d.labels.size(0) != records || d.labels.scalar_type() != at::kLong) {
    finding(d.name + ": labels are not int64 [N]");
  }
  if (d.num_classes != num_classes) finding(d.name + ": num_classes " + std::to_string(d.num_classes));
  const uint8_t* img = d.images.data_ptr<uint8_t>();
  const int64_t* lab = d.labels.data_ptr<int64_t>();
  int64_t at_record = 0;
  for (const auto& f : files) {
    if (f.size() % static_cast<size_t>(rec) != 0) finding(d.name + ": accepted a file of " + std::to_string(f.size()) + " bytes");
    for (int64_t r = 0; r < static_cast<int64_t>(f.size()) / rec; ++r, ++at_record) {
      const auto* bytes = reinterpret_cast<const uint8_t*>(f.data()) + r * rec;
      if (lab[at_record] != bytes[label_index]) finding(d.name + ": wrong label for record " + std::to_string(at_record));
      if (lab[at_record] < 0 || lab[at_record] >= num_classes) finding(d.name + ": accepted a label out of range");
      if (std::memcmp(img + at_record * kPixels, bytes + label_bytes, kPixels) != 0) {
        finding(d.name + ": wrong pixels for record " + std::to_string(at_record));
      }
    }
  }
  for (int c = 0; c < 3; ++c) {
    const auto ch = static_cast<size_t>(c);
    if (!(d.mean[ch] >= 0.0F && d.mean[ch] <= 1.0F) || !(d.stddev[ch] > 0.0F && d.stddev[ch] <= 1.0F)) {
      finding(d.name + ": normalisation out of range");
    }
  }
}

// `load(dir, coarse)` reads the dataset; `label_index(coarse)` is the label byte it keeps.
inline void run_cifar(std::string_view input, const CifarLayout& layout,
                      const std::function<datasets::DatasetSplits(const std::filesystem::path&, bool)>& load,
                      const std::function<int(bool)>& label_index) {
  if (input.empty()) return;
  const auto control = static_cast<unsigned char>(input[0]);
  const bool in_subfolder = (control & 1U) != 0;
  const bool compact = (control & 2U) != 0;
  const bool coarse = (control & 4U) != 0;
  const std::vector<std::string_view> parts = split_parts(input.substr(1));
  clear_scratch();
  const std::filesystem::path dir = in_subfolder ? scratch_dir() / layout.subfolder : scratch_dir();
  std::filesystem::create_directories(dir);

  constexpr size_t kPixels = 3 * 32 * 32;
  const auto rec = static_cast<size_t>(layout.label_bytes) + kPixels;
  std::vector<std::string> train;
  std::vector<std::string> test;
  std::vector<const char*> names = layout.train_files;
  names.insert(names.end(), layout.test_files.begin(), layout.test_files.end());
  bool all_present = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i >= parts.size()) {
      all_present = false;
      continue;
    }
    std::string bytes;
    if (compact) {
      const size_t records = parts[i].size() / static_cast<size_t>(layout.label_bytes);
      bytes.resize(records * rec);
      for (size_t r = 0; r < records; ++r) {
        char* out = bytes.data() + r * rec;
        std::memcpy(out, parts[i].data() + r * static_cast<size_t>(layout.label_bytes), static_cast<size_t>(layout.label_bytes));
        for (size_t j = 0; j < kPixels; ++j) out[layout.label_bytes + j] = static_cast<char>((r * 131 + j * 7 + i) & 0xFF);
      }
    } else {
      bytes = std::string(parts[i]);
    }
    write_file(dir / names[i], bytes);
    (i < layout.train_files.size() ? train : test).push_back(std::move(bytes));
  }

  datasets::DatasetSplits s;
  try {
    s = load(scratch_dir(), coarse);
  } catch (const datasets::DataError& e) {
    check_message("DataError", e.what(), scratch_dir().string());
    return;
  }
  if (!all_present) finding("accepted a directory with missing files");
  const int index = label_index(coarse);
  const int classes = layout.classes[static_cast<size_t>(index)];
  check_split(s.train, train, layout.label_bytes, index, classes);
  check_split(s.test, test, layout.label_bytes, index, classes);
  for (int b = 0; b < layout.label_bytes; ++b) {
    for (const auto* split : {&train, &test}) {
      for (const auto& f : *split) {
        for (size_t r = 0; r < f.size() / rec; ++r) {
          if (static_cast<unsigned char>(f[r * rec + static_cast<size_t>(b)]) >= layout.classes[static_cast<size_t>(b)]) {
            finding("accepted label byte " + std::to_string(b) + " out of range in record " + std::to_string(r));
          }
        }
      }
    }
  }
  if (s.test.mean != s.train.mean || s.test.stddev != s.train.stddev) {
    finding("the test split is not normalised with the train statistics");
  }
}

}  // namespace sflsim::fuzz
