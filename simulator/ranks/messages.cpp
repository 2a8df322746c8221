#include "simulator/ranks/messages.hpp"

namespace sflsim::cli {

namespace {

bool known(RankMessageKind kind) {
  switch (kind) {
    case RankMessageKind::hello:
    case RankMessageKind::job:
    case RankMessageKind::cell:
    case RankMessageKind::shutdown:
    case RankMessageKind::eval:
    case RankMessageKind::ready:
    case RankMessageKind::result:
    case RankMessageKind::failed:
    case RankMessageKind::missing:
    case RankMessageKind::heartbeat:
    case RankMessageKind::stopped:
      return true;
  }
  return false;  // a number no kind has (-Wswitch names a kind added without a case here)
}

}  // namespace

std::string encode(const RankMessage& m) {
  core::StateWriter out;
  out.u8(static_cast<std::uint8_t>(m.kind));
  out.u64(m.id);
  out.u64(m.version);
  out.i64(m.number);
  out.string(m.text);
  out.string(m.payload);
  return out.take();
}

RankMessage decode_rank_message(std::string_view bytes) {
  core::StateReader in(bytes);
  RankMessage m;
  const std::uint8_t kind = in.u8();
  if (!known(static_cast<RankMessageKind>(kind))) in.fail("a rank message of unknown kind " + std::to_string(kind));
  m.kind = static_cast<RankMessageKind>(kind);
  m.id = in.u64();
  m.version = in.u64();
  m.number = in.i64();
  m.text = in.string();
  m.payload = in.string();
  in.expect_done("a rank message");
  return m;
}

}  // namespace sflsim::cli
