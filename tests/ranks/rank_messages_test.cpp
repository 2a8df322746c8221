// The messages between ranks: every field comes back as sent, and a kind no
// message has (2 and 6 were kinds once) is refused, naming the number.
#include "simulator/core/state_codec.hpp"
#include "simulator/ranks/messages.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace sflsim;

TEST_CASE("rank messages: fields round-trip; unknown kinds are refused", "[ranks]") {
  cli::RankMessage m = cli::rank_message(cli::RankMessageKind::eval);
  m.id = 7;
  m.version = 3;
  m.number = -5;
  m.text = "100";
  m.payload = std::string("\0\x01model", 7);
  const cli::RankMessage back = cli::decode_rank_message(cli::encode(m));
  CHECK(back.kind == cli::RankMessageKind::eval);
  CHECK(back.id == 7);
  CHECK(back.version == 3);
  CHECK(back.number == -5);
  CHECK(back.text == "100");
  CHECK(back.payload == m.payload);

  for (int kind : {0, 2, 6, 8, 9, 16, 255}) {
    INFO("kind " << kind);
    std::string bytes = cli::encode(cli::rank_message(cli::RankMessageKind::heartbeat));
    bytes[0] = static_cast<char>(kind);
    CHECK_THROWS_WITH(cli::decode_rank_message(bytes), Catch::Contains("unknown kind " + std::to_string(kind)));
  }
  for (int kind : {1, 3, 4, 5, 7, 10, 11, 12, 13, 14, 15}) {
    std::string bytes = cli::encode(cli::rank_message(cli::RankMessageKind::heartbeat));
    bytes[0] = static_cast<char>(kind);
    CHECK(static_cast<int>(cli::decode_rank_message(bytes).kind) == kind);
  }
}
