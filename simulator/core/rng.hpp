#pragma once
// Independent random streams keyed by (seed, entity, purpose).
//
// Why keyed streams: a stream's state is a pure function of its key, so adding
// or removing one client, or creating entities in another order, never shifts
// another entity's draws (ns-3 AssignStreams, without the bookkeeping). The key
// is hashed with SplitMix64 into the 256-bit state of xoshiro256**, a small
// (32 bytes) and fast generator. Bounded and real draws are spelled out here
// rather than taken from std::uniform_*_distribution, whose output differs
// between standard libraries.
#include "simulator/core/ids.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

namespace sflsim::core {

// One step of SplitMix64: a strong 64-bit mixer (also used by the fingerprint).
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Stateless mix of one value.
constexpr std::uint64_t mix64(std::uint64_t x) { return splitmix64(x); }

// FNV-1a of a purpose name ("drop", "jitter", "bandwidth"): stable across
// compilers and runs, unlike std::hash.
constexpr std::uint64_t hash_name(std::string_view name) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

class RngStream {
 public:
  using result_type = std::uint64_t;  // UniformRandomBitGenerator, for std::shuffle

  // The stream for (seed, entity, purpose).
  RngStream(std::uint64_t seed, EntityId entity, std::string_view purpose);
  // The stream for a raw 64-bit key (already mixed by the caller).
  explicit RngStream(std::uint64_t key);

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() { return next_u64(); }

  std::uint64_t next_u64();
  // Uniform integer in [0, bound), bound >= 1; Lemire's multiply-shift with
  // rejection, so no modulo bias.
  std::uint64_t uniform_below(std::uint64_t bound);
  // Uniform integer in [lo, hi] (inclusive, lo <= hi).
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  // Uniform double in [0, 1) with 53 random bits.
  double uniform01();
  // True with probability p. Always consumes exactly one draw, so the
  // positions of later draws do not depend on p.
  bool bernoulli(double p);

  // The generator's whole state (checkpoints).
  std::array<std::uint64_t, 4> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void set_state(const std::array<std::uint64_t, 4>& state) {
    for (int i = 0; i < 4; ++i) s_[i] = state[static_cast<std::size_t>(i)];
  }

 private:
  std::uint64_t s_[4];
};

}  // namespace sflsim::core
