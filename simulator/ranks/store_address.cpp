// StoreAddress (communicator.hpp): where the ranks meet, from the text a user
// gives and back. Torch-free.
#include "simulator/ranks/communicator.hpp"
#include "simulator/ranks/escaped.hpp"

#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace sflsim::ranks {

namespace {

bool parse_port(std::string_view text, int& port) {
  if (text.empty() || text.size() > 5) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc{} && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

}  // namespace

StoreAddress StoreAddress::parse(std::string_view text) {
  const auto fail = [&](const char* why) -> StoreAddress {
    throw std::invalid_argument("store address '" + escaped(text) + "': " + why +
                                " (expected file:PATH, /ABSOLUTE/PATH or HOST:PORT)");
  };
  StoreAddress address;
  if (text.empty()) return fail("empty");
  if (text.find('\0') != std::string_view::npos) return fail("contains a NUL byte");
  if (text.rfind("file:", 0) == 0) {
    address.file = std::string(text.substr(5));
    if (address.file.empty()) return fail("no path after file:");
    return address;
  }
  if (text.front() == '/') {
    address.file = std::string(text);
    return address;
  }
  std::string_view host;
  std::string_view port;
  if (text.front() == '[') {  // [IPv6]:PORT
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("an IPv6 host needs the form [ADDRESS]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("neither a path nor HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail("an IPv6 host needs the form [ADDRESS]:PORT");
  }
  if (host.empty()) return fail("no host before the port");
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return fail("the host contains a space or control character");
    }
  }
  if (!parse_port(port, address.port)) return fail("the port is not a number from 1 to 65535");
  address.host = std::string(host);
  return address;
}

std::string StoreAddress::text() const {
  if (!file.empty()) return "file:" + file;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace sflsim::ranks
