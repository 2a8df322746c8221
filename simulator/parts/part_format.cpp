#include "simulator/parts/part_format.hpp"

#include <limits>

namespace sflsim::cli {

using core::StateReader;
using core::StateWriter;

std::int32_t get_int32(StateReader& in, std::int64_t lo, const char* what) {
  return static_cast<std::int32_t>(in.i64_in(lo, std::numeric_limits<std::int32_t>::max(), what));
}

void put(StateWriter& out, const TensorData& t) {
  out.i64(t.dtype);
  out.i64s(t.shape);
  out.string(t.bytes);
}

TensorData get_tensor(StateReader& in) {
  TensorData t;
  t.dtype = get_int32(in, 0, "a tensor's type");
  t.shape = in.i64s();
  if (t.shape.size() > 8) in.fail("a tensor has " + std::to_string(t.shape.size()) + " dimensions");
  for (std::int64_t d : t.shape) {
    if (d < 0 || d > (std::int64_t{1} << 40)) in.fail("a tensor dimension is " + std::to_string(d));
  }
  t.bytes = in.string();
  return t;
}

void put(StateWriter& out, const PartData& p) {
  out.boolean(p.head);
  out.i64(p.depth);
  for (double w : p.width) out.f64(w);
  out.i64(p.first);
  out.i64(p.last);
  put_tensors(out, p.tensors);
}

PartData get_part(StateReader& in) {
  PartData p;
  p.head = in.boolean();
  p.depth = get_int32(in, 1, "a part's depth");
  for (double& w : p.width) {
    w = in.f64();
    if (!(w > 0.0 && w <= 1.0)) in.fail("a part's width is not in (0, 1]");
  }
  p.first = get_int32(in, p.head ? 0 : 1, "a part's first unit");
  p.last = get_int32(in, p.first, "a part's last unit");
  p.tensors = get_tensors(in);
  return p;
}

void put_parts(StateWriter& out, const std::vector<PartData>& parts) {
  out.u64(parts.size());
  for (const PartData& p : parts) put(out, p);
}

std::vector<PartData> get_parts(StateReader& in) {
  std::vector<PartData> out(in.count(65));  // the smallest part's bytes
  for (PartData& p : out) p = get_part(in);
  return out;
}

void put_tensors(StateWriter& out, const std::vector<TensorData>& tensors) {
  out.u64(tensors.size());
  for (const TensorData& t : tensors) put(out, t);
}

std::vector<TensorData> get_tensors(StateReader& in) {
  std::vector<TensorData> out(in.count(24));  // the smallest tensor's bytes
  for (TensorData& t : out) t = get_tensor(in);
  return out;
}

}  // namespace sflsim::cli
