#pragma once
// What the reader tests share: the readers and temporary files, the pixel
// pattern their generated files hold, a pixel of a loaded batch, and the
// message of the DataError a call throws.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "datasets/loaders.hpp"
#include "temp_dir.hpp"

namespace sflsim::test {
// Deterministic pixel pattern for generated files: sample r (global index),
// channel c, row y, column x.
inline uint8_t pattern(int64_t r, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((r * 7 + c * 31 + y * 3 + x * 5) & 0xFF);
}

inline uint8_t px(const at::Tensor& images, int64_t n, int64_t c, int64_t y, int64_t x) {
  return images[n][c][y][x].item<uint8_t>();
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const datasets::DataError& e) {
    return e.what();
  }
  FAIL("no DataError thrown");
  return {};
}

}  // namespace sflsim::test
