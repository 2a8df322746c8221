#pragma once
// Model parts as plain data (no LibTorch), in the byte form that checkpoints
// and the messages between ranks share: a tensor is its type, shape and
// bytes; a part is a body part (units first..last) or a local head (the cut
// in `last`) of a subnet, with its tensors in the supernet's spec order.
// simulator/part_codec.hpp converts them from and to LibTorch tensors.
//
// Errors: the get_* readers throw core::StateError naming the byte offset for
// bad or truncated input; they never allocate more than the input could hold.
#include "simulator/core/state_codec.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sflsim::cli {

struct TensorData {
  std::int32_t dtype = 0;  // c10::ScalarType
  std::vector<std::int64_t> shape;
  std::string bytes;  // contiguous, native byte order
};

struct PartData {
  bool head = false;
  std::int32_t depth = 0;
  std::array<double, 4> width{};
  std::int32_t first = 0;
  std::int32_t last = 0;
  std::vector<TensorData> tensors;
};

void put(core::StateWriter& out, const TensorData& tensor);
TensorData get_tensor(core::StateReader& in);
void put(core::StateWriter& out, const PartData& part);
PartData get_part(core::StateReader& in);
void put_parts(core::StateWriter& out, const std::vector<PartData>& parts);
std::vector<PartData> get_parts(core::StateReader& in);
void put_tensors(core::StateWriter& out, const std::vector<TensorData>& tensors);
std::vector<TensorData> get_tensors(core::StateReader& in);

// An int32 in [lo, INT32_MAX], or StateError naming `what`.
std::int32_t get_int32(core::StateReader& in, std::int64_t lo, const char* what);

}  // namespace sflsim::cli
