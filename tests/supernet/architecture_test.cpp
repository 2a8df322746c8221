// Analytic shapes and costs, checked against the table in the algorithm spec (§2).
#include "supernet/architecture.hpp"

#include <catch2/catch.hpp>

using namespace sflsim::supernet;

TEST_CASE("ResNet-18 has L = 10 units with the spec's per-unit parameters and cut activations", "[architecture]") {
  const Architecture arch(SupernetOptions{});
  const SubnetConfig full = arch.full_config();
  REQUIRE(arch.unit_count() == 10);
  const int64_t params[] = {1856, 73984, 73984, 230144, 295424, 919040, 1180672, 3673088, 4720640, 5130};
  const int64_t activation[] = {262144, 262144, 262144, 131072, 131072, 65536, 65536, 32768, 32768};
  for (int unit = 1; unit <= 10; ++unit) {
    CHECK(arch.unit_cost(full, unit).params == params[unit - 1]);
    if (unit < 10) CHECK(arch.activation_bytes(full, unit) == activation[unit - 1]);
  }
  CHECK(arch.params(full, 1, 10) == 11173962);
}

TEST_CASE("width multiplier 0.25 gives 16-32-64-128 channels", "[architecture]") {
  SupernetOptions options;
  options.width_multiplier = 0.25;
  const Architecture arch(options);
  CHECK(arch.stage_channels() == std::array<int64_t, 4>{16, 32, 64, 128});
  SubnetConfig half = arch.full_config();
  half.width = {0.5, 0.5, 0.5, 0.5};
  CHECK(arch.unit_output_channels(half, 1) == 8);
  CHECK(arch.unit_output_channels(half, 9) == 64);
  CHECK(arch.activation_bytes(half, 1) == 4 * 8 * 32 * 32);
}

TEST_CASE("stem FLOPs are 2 x MACs of a 3x3 convolution over the whole image", "[architecture]") {
  SupernetOptions options;
  options.in_channels = 1;
  options.image_height = options.image_width = 28;
  const Architecture arch(options);
  CHECK(arch.unit_cost(arch.full_config(), 1).forward_flops == 2LL * 64 * 1 * 9 * 28 * 28);
  // 28 -> 14 -> 7 -> 4 over the three stride-2 stages
  CHECK(arch.activation_bytes(arch.full_config(), 9) == 4LL * 512 * 4 * 4);
  CHECK(arch.head_params(arch.full_config(), 3) == 64 * 10 + 10);
}

TEST_CASE("invalid subnet configs are rejected with the reason", "[architecture]") {
  const Architecture arch(SupernetOptions{});
  SubnetConfig config = arch.full_config();
  config.depth = 11;
  CHECK_THROWS_WITH(arch.validate(config), Catch::Contains("depth 11"));
  config.depth = 5;
  config.width[2] = 1.5;
  CHECK_THROWS_WITH(arch.validate(config), Catch::Contains("stage 3"));
  CHECK_THROWS(arch.activation_bytes(arch.full_config(), 10));
}
