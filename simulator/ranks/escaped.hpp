#pragma once
// Outside text (a store address, an error from c10d or Gloo) made fit for a
// one-line error message. Internal to sflsim::ranks.
#include <string>
#include <string_view>

namespace sflsim::ranks {

// `text` with control characters and bytes >= 0x7f escaped, so that an error
// message stays one line.
inline std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sflsim::ranks
