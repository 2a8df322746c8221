#pragma once
// The names algorithm.name takes, in the order the README lists them; each
// is built by make_strategy (strategy_factory.hpp).
#include <string>
#include <vector>

namespace sflsim::cli {

const std::vector<std::string>& algorithm_names();

}  // namespace sflsim::cli
