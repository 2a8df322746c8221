#include "simulator/core/state_codec.hpp"

#include <bit>
#include <cstring>

namespace sflsim::core {

std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

StateError::StateError(const std::string& what, std::size_t offset)
    : std::runtime_error("byte " + std::to_string(offset) + ": " + what), offset_(offset) {}

void StateWriter::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
}

void StateWriter::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) u8(static_cast<std::uint8_t>(v >> (8 * i)));
}

void StateWriter::f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }

void StateWriter::string(std::string_view v) {
  u64(v.size());
  bytes_.append(v.data(), v.size());
}

void StateWriter::i64s(const std::vector<std::int64_t>& v) {
  u64(v.size());
  for (std::int64_t x : v) i64(x);
}

void StateWriter::f64s(const std::vector<double>& v) {
  u64(v.size());
  for (double x : v) f64(x);
}

void StateReader::fail(const std::string& what) const { throw StateError(what, offset()); }

void StateReader::need(std::size_t n, const char* what) const {
  if (bytes_.size() - at_ < n) {
    fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
         std::to_string(bytes_.size() - at_) + " left");
  }
}

std::uint8_t StateReader::u8() {
  need(1, "a byte");
  return static_cast<std::uint8_t>(bytes_[at_++]);
}

std::uint32_t StateReader::u32() {
  need(4, "a 32-bit integer");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{static_cast<std::uint8_t>(bytes_[at_++])} << (8 * i);
  return v;
}

std::uint64_t StateReader::u64() {
  need(8, "a 64-bit integer");
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{static_cast<std::uint8_t>(bytes_[at_++])} << (8 * i);
  return v;
}

double StateReader::f64() { return std::bit_cast<double>(u64()); }

bool StateReader::boolean() {
  const std::uint8_t v = u8();
  if (v > 1) throw StateError("a flag is " + std::to_string(v) + ", not 0 or 1", offset() - 1);
  return v == 1;
}

std::size_t StateReader::count(std::size_t min_item_bytes) {
  const std::size_t at = offset();
  const std::uint64_t n = u64();
  if (min_item_bytes == 0) min_item_bytes = 1;
  if (n > (bytes_.size() - at_) / min_item_bytes) {
    throw StateError("a count of " + std::to_string(n) + " is more than the " + std::to_string(bytes_.size() - at_) +
                         " bytes left could hold",
                     at);
  }
  return static_cast<std::size_t>(n);
}

std::string StateReader::string() {
  const std::size_t n = count(1);
  std::string v(bytes_.substr(at_, n));
  at_ += n;
  return v;
}

std::vector<std::int64_t> StateReader::i64s() {
  std::vector<std::int64_t> v(count(8));
  for (std::int64_t& x : v) x = i64();
  return v;
}

std::vector<double> StateReader::f64s() {
  std::vector<double> v(count(8));
  for (double& x : v) x = f64();
  return v;
}

std::int64_t StateReader::i64_in(std::int64_t lo, std::int64_t hi, const char* what) {
  const std::size_t at = offset();
  const std::int64_t v = i64();
  if (v < lo || v > hi) {
    throw StateError(std::string(what) + " is " + std::to_string(v) + ", outside [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]",
                     at);
  }
  return v;
}

void StateReader::expect_done(const char* what) const {
  if (!done()) fail(std::to_string(bytes_.size() - at_) + " unexpected bytes after " + what);
}

}  // namespace sflsim::core
