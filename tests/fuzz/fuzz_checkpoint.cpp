// Checkpoint files (sflsim run --resume): checkpoint::decode, the torch-free
// reader of simulator/checkpoint_format.hpp. The kernel's blob inside is read
// by core::Simulation::load_state, which needs a built world: not fuzzed here.
// Input: the checkpoint file's bytes. Decoded without the checksum, so that
// mutations reach the payload; then with it.
// Expected: CheckpointError, one line, naming a byte offset. Checked on success:
// the checksummed decode agrees or fails on the checksum only, and encoding the
// result and decoding that gives the same bytes again.
#include "fuzz_target.hpp"

#include "simulator/checkpoint/checkpoint_format.hpp"

namespace ck = sflsim::cli::checkpoint;

namespace {
void expect_checkpoint_error(const ck::CheckpointError& e) {
  sflsim::fuzz::check_message("CheckpointError", e.what(), "byte ");
}
}  // namespace

SFLSIM_FUZZ_TARGET(checkpoint) {
  ck::Checkpoint decoded;
  try {
    decoded = ck::decode(input, /*verify_checksum=*/false);
  } catch (const ck::CheckpointError& e) {
    expect_checkpoint_error(e);
    return;
  }
  try {
    (void)ck::decode(input, /*verify_checksum=*/true);
  } catch (const ck::CheckpointError& e) {
    expect_checkpoint_error(e);
    if (std::string_view(e.what()).find("checksum mismatch") == std::string_view::npos) {
      sflsim::fuzz::finding(std::string("decoding with the checksum failed otherwise: ") + e.what());
    }
  }
  const std::string encoded = ck::encode(decoded);
  ck::Checkpoint again;
  try {
    again = ck::decode(encoded, /*verify_checksum=*/true);
  } catch (const ck::CheckpointError& e) {
    sflsim::fuzz::finding(std::string("a re-encoded checkpoint is refused: ") + e.what());
  }
  if (ck::encode(again) != encoded) sflsim::fuzz::finding("encode(decode(encode(x))) differs from encode(x)");
  if (decoded.next_round() != again.next_round()) sflsim::fuzz::finding("the round to resume at changed");
}
