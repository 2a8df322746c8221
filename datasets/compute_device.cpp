#include "datasets/compute_device.hpp"

#include <ATen/Context.h>

#include <stdexcept>

namespace sflsim::datasets {

namespace {
c10::Device& current() {
  static c10::Device device(c10::kCPU);
  return device;
}
}  // namespace

c10::Device compute_device() { return current(); }

void set_compute_device(const std::string& name) {
  const size_t colon = name.find(':');
  const std::string kind = name.substr(0, colon);
  const std::string index = colon == std::string::npos ? "" : name.substr(colon + 1);
  if ((kind != "cpu" && kind != "cuda") || (colon != std::string::npos && (kind == "cpu" || index.empty() ||
                                                                            index.find_first_not_of("0123456789") != std::string::npos ||
                                                                            index.size() > 4))) {
    throw std::invalid_argument("--device " + name + ": expected cpu, cuda or cuda:N");
  }
  const c10::Device device(name);
  if (device.is_cuda()) {
    if (!at::hasCUDA()) {
      throw std::invalid_argument(
          "--device " + name +
          ": this sflsim is linked against a LibTorch without CUDA (Debian's is CPU-only); rebuild with "
          "-DSFLSIM_TORCH_PREFIX=<a CUDA LibTorch's cmake prefix>, see scenarios/paper/README.md");
    }
    const int64_t index = device.has_index() ? device.index() : 0;
    if (index >= static_cast<int64_t>(at::getNumGPUs())) {
      throw std::invalid_argument("--device " + name + ": only " + std::to_string(at::getNumGPUs()) +
                                  " CUDA device(s) are visible");
    }
  }
  current() = device;
}

}  // namespace sflsim::datasets
