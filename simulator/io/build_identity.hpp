#pragma once
// Which build this is: written into checkpoints and rank greetings, so a
// checkpoint from another build, or ranks of different builds, are refused
// with both identities named instead of diverging silently.
#include <string>

namespace sflsim::cli {

// The project version (CMake's project(VERSION), the one place it is written).
std::string sflsim_version();

// "sflsim VERSION, commit C (at configure time; 'unknown' outside git),
// COMPILER VERSION, LibTorch V": what decides a run's bytes besides its inputs.
std::string build_identity();

}  // namespace sflsim::cli
