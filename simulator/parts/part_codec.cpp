#include "simulator/parts/part_codec.hpp"

#include <ATen/ATen.h>

#include <cstring>
#include <stdexcept>

namespace sflsim::cli {

TensorData tensor_data(const at::Tensor& tensor) {
  const at::Tensor t = tensor.detach().to(at::kCPU).contiguous();  // a CUDA tensor's bytes are read on the host
  TensorData out;
  out.dtype = static_cast<std::int32_t>(t.scalar_type());
  out.shape.assign(t.sizes().begin(), t.sizes().end());
  out.bytes.assign(static_cast<const char*>(t.data_ptr()), t.nbytes());
  return out;
}

std::vector<TensorData> tensors_data(const std::vector<at::Tensor>& tensors) {
  std::vector<TensorData> out;
  out.reserve(tensors.size());
  for (const at::Tensor& t : tensors) out.push_back(tensor_data(t));
  return out;
}

PartData shape_data(const supernet::SubnetConfig& config, bool head, int first, int last) {
  PartData p;
  p.head = head;
  p.depth = config.depth;
  for (size_t s = 0; s < p.width.size(); ++s) p.width[s] = config.width[s];
  p.first = first;
  p.last = last;
  return p;
}

PartData part_data(const supernet::SliceSet& slices, bool head, int first, int last) {
  PartData p = shape_data(slices.config, head, first, last);
  p.tensors = tensors_data(slices.tensors);
  return p;
}

PartData body_data(const supernet::BodyPart& body) { return part_data(body.slices(), false, body.first_unit(), body.last_unit()); }

std::vector<PartData> heads_data(const protocol::Heads& heads) {
  std::vector<PartData> out;
  for (const auto& head : heads) out.push_back(part_data(head->slices(), true, 0, head->cut()));
  return out;
}

supernet::SubnetConfig config_of(const PartData& data) {
  supernet::SubnetConfig c;
  c.depth = data.depth;
  for (size_t s = 0; s < data.width.size(); ++s) c.width[s] = data.width[s];
  return c;
}

void copy_into(const at::Tensor& target, const TensorData& data, const std::string& what) {
  at::Tensor dst = target.detach();
  const std::vector<int64_t> shape(dst.sizes().begin(), dst.sizes().end());
  if (data.dtype != static_cast<std::int32_t>(dst.scalar_type()) || data.shape != shape || !dst.is_contiguous() ||
      data.bytes.size() != dst.nbytes()) {
    throw std::invalid_argument(what + " does not match this scenario's tensor (type, shape or size)");
  }
  if (dst.is_cpu()) {
    std::memcpy(dst.data_ptr(), data.bytes.data(), data.bytes.size());
  } else {  // on a CUDA device: through a host tensor
    const at::Tensor host = at::empty(dst.sizes(), dst.options().device(at::kCPU));
    std::memcpy(host.data_ptr(), data.bytes.data(), data.bytes.size());
    dst.copy_(host);
  }
}

void copy_slices(supernet::SliceSet& slices, const PartData& data, const std::string& what) {
  if (slices.tensors.size() != data.tensors.size()) {
    throw std::invalid_argument(what + " has " + std::to_string(data.tensors.size()) + " tensors, this scenario's has " +
                                std::to_string(slices.tensors.size()));
  }
  for (size_t k = 0; k < data.tensors.size(); ++k) copy_into(slices.tensors[k], data.tensors[k], what + " tensor " + std::to_string(k));
}

}  // namespace sflsim::cli
