// A claimed cell directory: this process's writes there go through while its
// owner file holds its token, and fail, leaving the new owner's file, once
// another rank has claimed the cell.
#include "simulator/io/cell_owner.hpp"
#include "simulator/io/files.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace sflsim;

TEST_CASE("a stalled owner's write into a cell another rank claimed fails and leaves the new owner's file", "[io]") {
  test::TempDir dir;
  test::TempDir elsewhere;
  {
    const cli::CellClaim claim(dir.path());
    CHECK(cli::read_text(dir / cli::kCellOwnerFile) == claim.token() + "\n");
    cli::write_atomically(dir / "metrics.csv", "mine\n");
    CHECK(cli::read_text(dir / "metrics.csv") == "mine\n");

    // Another rank takes the cell (as write_atomically would write its claim) and writes its file.
    std::ofstream(dir / cli::kCellOwnerFile, std::ios::trunc) << "other-host:4242:1\n";
    std::ofstream(dir / "metrics.csv", std::ios::trunc) << "the new owner's\n";
    try {
      cli::write_atomically(dir / "metrics.csv", "stale\n");
      FAIL("the stalled owner's write went through");
    } catch (const std::runtime_error& e) {
      CHECK_THAT(e.what(), Catch::StartsWith(dir.path().string()) && Catch::Contains("other-host:4242:1") &&
                               Catch::Contains(claim.token()));
    }
    CHECK(cli::read_text(dir / "metrics.csv") == "the new owner's\n");
    size_t files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
    CHECK(files == 2);  // no temporary left beside them
    cli::write_atomically(elsewhere / "metrics.csv", "unclaimed\n");  // other directories are not checked
  }
  cli::write_atomically(dir / "metrics.csv", "after the claim ended\n");  // no claim of this process: no check
  CHECK(cli::read_text(dir / "metrics.csv") == "after the claim ended\n");
}
