#pragma once
// A little-endian binary codec for saved simulation state (checkpoints).
//
// StateWriter appends fixed-width integers, doubles (as their bit patterns,
// so a value reads back bit for bit), strings and byte blocks. StateReader
// reads them back and checks every read against the end of its input: bad or
// truncated input throws StateError naming the byte offset, never reads out
// of bounds and never allocates more than the input could hold.
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sflsim::core {

// 64-bit FNV-1a: checkpoints' checksum and the scenario hash.
std::uint64_t fnv1a64(std::string_view bytes);

class StateError : public std::runtime_error {
 public:
  StateError(const std::string& what, std::size_t offset);
  std::size_t offset() const { return offset_; }

 private:
  std::size_t offset_;
};

class StateWriter {
 public:
  void u8(std::uint8_t v) { bytes_.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double v);
  void boolean(bool v) { u8(v ? 1 : 0); }
  void string(std::string_view v);  // u64 length + bytes
  void i64s(const std::vector<std::int64_t>& v);
  void f64s(const std::vector<double>& v);

  const std::string& bytes() const { return bytes_; }
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class StateReader {
 public:
  // `base` is added to offsets in errors (where this input sits in a larger file).
  explicit StateReader(std::string_view bytes, std::size_t base = 0) : bytes_(bytes), base_(base) {}

  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  double f64();
  bool boolean();
  std::string string();
  std::vector<std::int64_t> i64s();
  std::vector<double> f64s();
  // A count of items each taking at least `min_item_bytes` (>= 1) of what is left.
  std::size_t count(std::size_t min_item_bytes);
  // An integer in [lo, hi], else StateError naming `what`.
  std::int64_t i64_in(std::int64_t lo, std::int64_t hi, const char* what);

  std::size_t offset() const { return base_ + at_; }
  bool done() const { return at_ == bytes_.size(); }
  // Throws unless every byte was read.
  void expect_done(const char* what) const;
  [[noreturn]] void fail(const std::string& what) const;

 private:
  void need(std::size_t n, const char* what) const;

  std::string_view bytes_;
  std::size_t base_;
  std::size_t at_ = 0;
};

}  // namespace sflsim::core
