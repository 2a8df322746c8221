#include "simulator/checkpoint/checkpoint_format.hpp"

#include "simulator/core/state_codec.hpp"

#include <concepts>
#include <limits>
#include <type_traits>

namespace sflsim::cli::checkpoint {

namespace {

using core::StateReader;
using core::StateWriter;

constexpr std::string_view kMagic = "SFLSIMCK";
constexpr std::int64_t kMax64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMax32 = std::numeric_limits<std::int32_t>::max();

// One description per type: fields(io, x) names x's fields in file order,
// each with the bounds a read checks; Save writes them and Load reads them,
// so the two can never disagree. (Save takes const data, Load mutable.)
template <typename T, typename U>
concept Is = std::same_as<std::remove_const_t<T>, U>;

template <typename IO, Is<TrafficData> T> void fields(IO& io, T& t);
template <typename IO, Is<UploadData> T> void fields(IO& io, T& u);
template <typename IO, Is<ClientData> T> void fields(IO& io, T& c);
template <typename IO, Is<RecordData> T> void fields(IO& io, T& r);
template <typename IO, Is<RowData> T> void fields(IO& io, T& r);
template <typename IO, Is<Checkpoint> T> void fields(IO& io, T& c);

struct Save {
  StateWriter& out;

  template <typename Int> requires std::integral<Int>
  void operator()(const Int& v, std::int64_t /*lo*/ = 0, std::int64_t /*hi*/ = 0, const char* /*what*/ = "") {
    if constexpr (std::same_as<Int, bool>) out.boolean(v);
    else if constexpr (std::same_as<Int, std::uint64_t>) out.u64(v);
    else out.i64(static_cast<std::int64_t>(v));
  }
  void operator()(const double& v) { out.f64(v); }
  void operator()(const std::string& v) { out.string(v); }
  void operator()(const std::vector<std::int64_t>& v) { out.i64s(v); }
  void operator()(const std::vector<double>& v) { out.f64s(v); }
  void operator()(const TensorData& t) { put(out, t); }
  void operator()(const PartData& p) { put(out, p); }
  void operator()(const std::vector<PartData>& p) { put_parts(out, p); }
  template <typename T>
  void operator()(const std::optional<T>& v) {
    out.boolean(v.has_value());
    if (v) (*this)(*v);
  }
  template <typename T> requires requires(Save& io, const T& x) { fields(io, x); }
  void operator()(const T& x) { fields(*this, x); }
  template <typename T, typename Item>
  void list(const std::vector<T>& v, std::size_t /*min_item_bytes*/, Item item) {
    out.u64(v.size());
    for (const T& x : v) item(*this, x);
  }
  template <typename T>
  void list(const std::vector<T>& v, std::size_t min_item_bytes) {
    list(v, min_item_bytes, [](Save& io, const T& x) { io(x); });
  }
  void check(bool /*holds*/, const char* /*what*/) {}
};

struct Load {
  StateReader& in;

  template <typename Int> requires std::integral<Int>
  void operator()(Int& v, std::int64_t lo = std::numeric_limits<std::int64_t>::min(), std::int64_t hi = kMax64,
                  const char* what = "a number") {
    if constexpr (std::same_as<Int, bool>) v = in.boolean();
    else if constexpr (std::same_as<Int, std::uint64_t>) v = in.u64();
    else if (lo == std::numeric_limits<std::int64_t>::min() && hi == kMax64) v = static_cast<Int>(in.i64());
    else v = static_cast<Int>(in.i64_in(lo, hi, what));
  }
  void operator()(double& v) { v = in.f64(); }
  void operator()(std::string& v) { v = in.string(); }
  void operator()(std::vector<std::int64_t>& v) { v = in.i64s(); }
  void operator()(std::vector<double>& v) { v = in.f64s(); }
  void operator()(TensorData& t) { t = get_tensor(in); }
  void operator()(PartData& p) { p = get_part(in); }
  void operator()(std::vector<PartData>& p) { p = get_parts(in); }
  template <typename T>
  void operator()(std::optional<T>& v) {
    v.reset();
    if (in.boolean()) (*this)(v.emplace());
  }
  template <typename T> requires requires(Load& io, T& x) { fields(io, x); }
  void operator()(T& x) { fields(*this, x); }
  template <typename T, typename Item>
  void list(std::vector<T>& v, std::size_t min_item_bytes, Item item) {
    v.assign(in.count(min_item_bytes), T{});
    for (T& x : v) item(*this, x);
  }
  template <typename T>
  void list(std::vector<T>& v, std::size_t min_item_bytes) {
    list(v, min_item_bytes, [](Load& io, T& x) { io(x); });
  }
  void check(bool holds, const char* what) {
    if (!holds) in.fail(what);
  }
};

template <typename IO, Is<TrafficData> T>
void fields(IO& io, T& t) {
  for (auto* v : {&t.up, &t.down, &t.activations, &t.gradients, &t.weights}) io(*v, 0, kMax64, "a byte count");
}

template <typename IO, Is<UploadData> T>
void fields(IO& io, T& u) {
  io(u.round_trained, 0, kMax32, "an upload's round");
  io(u.cut, 0, kMax32, "an upload's cut");
  io(u.samples, 0, kMax64, "an upload's samples");
  io(u.local_sum);
  io(u.server_sum);
  io(u.local_batches, 0, kMax64, "an upload's batches");
  io(u.server_batches, 0, kMax64, "an upload's batches");
  io(u.shares_model);
  if (!u.shares_model) {
    io(u.prefix);
    io(u.heads);
  }
}

template <typename IO, Is<ClientData> T>
void fields(IO& io, T& c) {
  io(c.local_loss);
  io(c.server_loss);
  io(c.pending);
  io(c.prefix);
  io(c.heads);
  io(c.own_body);
  io(c.own_heads);
  io(c.samples_per_round, 0, kMax64, "a client's samples per round");
  io(c.model_round, 0, kMax32, "a client's model round");
  io(c.data_rng);
  io(c.order);
  io(c.cursor);
  io.check(c.cursor <= c.order.size(), "a client's sample cursor is past its order");
  io.check(!(c.pending && c.pending->shares_model && !c.prefix), "a pending upload shares a model the client lacks");
}

template <typename IO, Is<RecordData> T>
void fields(IO& io, T& r) {
  io(r.client, 0, kMax32, "a record's client");
  io(r.round, 1, kMax32, "a record's round");
  io(r.cut, 0, kMax32, "a record's cut");
  io(r.width);
  for (auto* v : {&r.samples, &r.compute_ns, &r.transmit_ns, &r.idle_ns, &r.bytes}) io(*v);
  io(r.energy_j);
  io(r.outcome, 0, 3, "a record's outcome");
  io(r.gradients_received);
  io(r.batches);
}

template <typename IO, Is<RowData> T>
void fields(IO& io, T& r) {
  io(r.round, 1, kMax32, "a row's round");
  io(r.end_ns, 0, kMax64, "a row's end");
  io(r.evaluated);
  io(r.outage);
  for (auto* v : {&r.test_accuracy, &r.test_loss, &r.train_loss}) io(*v);
  io(r.clients_ok, 0, kMax32, "a row's client count");
  io(r.clients_failed, 0, kMax32, "a row's client count");
  io.list(r.reintegrated, 16, [](IO& item, auto& reintegrated) {
    item(reintegrated.first, 0, kMax32, "a reintegrated client");
    item(reintegrated.second, 0, kMax32, "a staleness");
  });
  io(r.traffic);
  io(r.energy_j);
}

template <typename IO, Is<Checkpoint> T>
void fields(IO& io, T& c) {
  io(c.sflsim_version);
  io(c.scenario_hash);
  io(c.kernel);
  io.list(c.supernet, 24);
  io.list(c.clients, 64);
  io.list(c.has_own_model, 8, [](IO& item, auto& client) { item(client, 0, kMax32, "a client"); });
  io(c.traffic);
  io(c.traffic_before);
  for (auto* v : {&c.energy_before, &c.last_accuracy, &c.best_accuracy, &c.wall_before_s}) io(*v);
  io.list(c.rows, 90);
  io.list(c.records, 104);
  io(c.wall_seconds);
}

}  // namespace

std::string encode(const Checkpoint& c) {
  StateWriter out;
  Save save{out};
  fields(save, c);

  const std::string payload = out.take();
  StateWriter file;
  std::string bytes(kMagic);
  file.u32(kFormatVersion);
  file.u64(payload.size());
  bytes += file.bytes();
  bytes += payload;
  StateWriter tail;
  tail.u64(core::fnv1a64(payload));
  return bytes + tail.bytes();
}

Checkpoint decode(std::string_view file, bool verify_checksum) {
  try {
    if (file.size() < kMagic.size() || file.substr(0, kMagic.size()) != kMagic) {
      throw core::StateError("not an sflsim checkpoint (no SFLSIMCK magic)", 0);
    }
    StateReader head(file.substr(kMagic.size(), 12), kMagic.size());
    const std::uint32_t version = head.u32();
    if (version != kFormatVersion) {
      throw core::StateError("checkpoint format " + std::to_string(version) + " is another sflsim version's (this one reads format " +
                                 std::to_string(kFormatVersion) + ")",
                             kMagic.size());
    }
    const std::uint64_t length = head.u64();
    const std::size_t start = kMagic.size() + 12;  // head.u64() checked the file holds that much
    if (file.size() - start < 8 || length != file.size() - start - 8) {
      throw core::StateError("truncated or padded: the header announces " + std::to_string(length) +
                                 " payload bytes and a checksum, the file has " + std::to_string(file.size()) + " bytes",
                             start - 8);
    }
    const std::string_view payload = file.substr(start, length);
    StateReader tail(file.substr(start + length), start + length);
    if (verify_checksum && tail.u64() != core::fnv1a64(payload)) {
      throw core::StateError("checksum mismatch: the file is corrupt", start + length);
    }

    StateReader in(payload, start);
    Checkpoint c;
    Load load{in};
    fields(load, c);
    in.expect_done("the checkpoint");
    if (c.rows.empty()) in.fail("the checkpoint holds no finished round");
    return c;
  } catch (const core::StateError& e) {
    throw CheckpointError(e.what());
  }
}

}  // namespace sflsim::cli::checkpoint
