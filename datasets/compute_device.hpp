#pragma once
// Where the process's tensor arithmetic runs: the CPU (default) or a CUDA
// device. Set once, before any supernet or batch is made (sflsim --device);
// batches are built on the CPU and moved there, the supernet is created there,
// and everything sliced or computed from them follows.
// On CUDA, cuDNN's kernels may reduce in a different order from run to run,
// so reruns are close but not byte-identical; the CPU stays bit-exact.
#include <c10/core/Device.h>

#include <string>

namespace sflsim::datasets {

c10::Device compute_device();
// Parses "cpu", "cuda" or "cuda:N"; throws std::invalid_argument naming what
// to do when this LibTorch has no CUDA or no such GPU is visible.
void set_compute_device(const std::string& name);

}  // namespace sflsim::datasets
