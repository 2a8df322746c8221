#pragma once
// Portable random draws on std::mt19937_64 (torch-free, header-only).
//
// std::uniform_*_distribution, std::normal_distribution and
// std::gamma_distribution are allowed to give different sequences in different
// standard libraries; the arithmetic here is spelled out so that the same seed
// gives the same draws with libstdc++ and libc++ alike. (Transcendentals
// -- log, sqrt, pow -- come from the C library; sqrt is exact IEEE, log and pow
// are correctly rounded or within an ulp on every libm we target.)
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <utility>

namespace sflsim::datasets {

// Uniform double in [0, 1): 53 random bits.
inline double uniform01(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Uniform double in (0, 1): never exactly 0 (safe for log) or 1.
inline double uniform_open01(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
}

// Uniform integer in [0, n), n >= 1, without modulo bias (rejection sampling).
inline uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  if (n == 0) throw std::invalid_argument("uniform_below: n must be positive");
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  // 2^64 mod n: draws at or above 2^64 - rem would bias the result.
  const uint64_t rem = (kMax % n + 1) % n;
  const uint64_t limit = kMax - rem;  // accept x <= limit
  uint64_t x = rng();
  while (x > limit) x = rng();
  return x % n;
}

// Standard normal draw (Marsaglia's polar method; the second value of each
// pair is discarded so the function keeps no state beyond the rng).
inline double standard_normal(std::mt19937_64& rng) {
  for (;;) {
    const double u = 2.0 * uniform01(rng) - 1.0;
    const double v = 2.0 * uniform01(rng) - 1.0;
    const double s = u * u + v * v;
    if (s > 0.0 && s < 1.0) return u * std::sqrt(-2.0 * std::log(s) / s);
  }
}

// Gamma(shape, 1) draw by Marsaglia & Tsang (2000); for shape < 1 the usual
// boost Gamma(shape + 1) * U^(1/shape).
inline double gamma_draw(std::mt19937_64& rng, double shape) {
  if (!(shape > 0.0)) throw std::invalid_argument("gamma_draw: shape must be positive");
  if (shape < 1.0) {
    const double g = gamma_draw(rng, shape + 1.0);
    return g * std::pow(uniform_open01(rng), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = standard_normal(rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform_open01(rng);
    if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

// Fisher-Yates shuffle with uniform_below.
template <typename T>
void shuffle_in_place(std::span<T> items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<size_t>(uniform_below(rng, i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace sflsim::datasets
