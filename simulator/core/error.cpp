#include "simulator/core/error.hpp"

#include <string>

namespace sflsim::core {
namespace {

// Boost's error_category has a protected non-virtual destructor by design
// (categories are never deleted through a base pointer); g++'s
// -Wnon-virtual-dtor still flags classes derived from it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#endif
class KernelCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "sflsim.core"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::timeout: return "deadline passed before a message arrived";
      case errc::link_down: return "link or endpoint down during the transfer";
      case errc::message_dropped: return "message dropped by the fault model";
    }
    return "unknown sflsim.core error";
  }
};

}  // namespace

const boost::system::error_category& kernel_category() noexcept {
  static const KernelCategory category;
  return category;
}

}  // namespace sflsim::core
