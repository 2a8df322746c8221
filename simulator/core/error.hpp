#pragma once
// Failures are values at the await point. Every kernel awaitable completes
// with a boost::system::error_code (Asio's error type, so use_awaitable and
// deferred turn it into an exception and as_tuple hands it over as a value).
//
//   errc::timeout          receive_until / receive_for: the deadline passed first
//   errc::link_down        send: the link (or an endpoint) was down at some
//                          instant between the start of transmission and arrival
//   errc::message_dropped  send: the fault model dropped the message
//   asio::error::operation_aborted
//                          the await was cancelled (|| composition, parallel
//                          groups, or the actor was killed by a crash)
#include <boost/system/error_code.hpp>

#include <type_traits>

namespace sflsim::core {

using error_code = boost::system::error_code;

enum class errc {
  timeout = 1,
  link_down,
  message_dropped,
};

const boost::system::error_category& kernel_category() noexcept;

inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), kernel_category()};
}

}  // namespace sflsim::core

namespace boost::system {
template <>
struct is_error_code_enum<sflsim::core::errc> : std::true_type {};
}  // namespace boost::system
