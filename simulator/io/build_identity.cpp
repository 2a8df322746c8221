#include "simulator/io/build_identity.hpp"

namespace sflsim::cli {

std::string sflsim_version() { return SFLSIM_VERSION; }

std::string build_identity() {
  return std::string("sflsim ") + SFLSIM_VERSION + ", commit " + SFLSIM_GIT_COMMIT + ", " + SFLSIM_COMPILER +
         ", LibTorch " + SFLSIM_TORCH_VERSION;
}

}  // namespace sflsim::cli
