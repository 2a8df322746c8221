#pragma once
// Readable Catch2 failure messages for kernel types.
#include "simulator/core/error.hpp"
#include "simulator/core/time.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace Catch {

template <>
struct StringMaker<sflsim::core::SimTime> {
  static std::string convert(sflsim::core::SimTime t) { return sflsim::core::to_string(t); }
};

template <>
struct StringMaker<sflsim::core::SimDuration> {
  static std::string convert(sflsim::core::SimDuration d) { return sflsim::core::to_string(d); }
};

template <>
struct StringMaker<sflsim::core::Int128> {
  static std::string convert(sflsim::core::Int128 v) {
    if (v == 0) return "0";
    const bool negative = v < 0;
    std::string digits;
    for (; v != 0; v /= 10) digits.insert(digits.begin(), static_cast<char>('0' + (negative ? -(v % 10) : v % 10)));
    return negative ? "-" + digits : digits;
  }
};

template <>
struct StringMaker<boost::system::error_code> {
  static std::string convert(const boost::system::error_code& ec) { return ec ? ec.message() : "success"; }
};

}  // namespace Catch
