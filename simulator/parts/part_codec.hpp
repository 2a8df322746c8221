#pragma once
// Model parts to and from their plain-data form (part_format.hpp): for
// checkpoints and for the messages between ranks.
//
// Errors: copy_into and copy_slices throw std::invalid_argument (the message
// starts with `what`) when the data does not fit the tensors (type, shape,
// size, count); nothing is written then for the mismatching tensor.
// Ownership: the data holds copies; copying into a part writes its tensors in place.
#include "simulator/parts/part_format.hpp"
#include "server/protocol.hpp"
#include "supernet/subnet.hpp"

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace sflsim::cli {

TensorData tensor_data(const at::Tensor& tensor);
std::vector<TensorData> tensors_data(const std::vector<at::Tensor>& tensors);
PartData part_data(const supernet::SliceSet& slices, bool head, int first, int last);
PartData body_data(const supernet::BodyPart& body);
std::vector<PartData> heads_data(const protocol::Heads& heads);
// A part's shape only (config and units, no tensors): what to extract from a supernet.
PartData shape_data(const supernet::SubnetConfig& config, bool head, int first, int last);

supernet::SubnetConfig config_of(const PartData& data);
void copy_into(const at::Tensor& target, const TensorData& data, const std::string& what);
void copy_slices(supernet::SliceSet& slices, const PartData& data, const std::string& what);

}  // namespace sflsim::cli
