#include "simulator/checkpoint/checkpoint_format.hpp"

#include "simulator/core/state_codec.hpp"

#include <limits>

namespace sflsim::cli::checkpoint {

namespace {

using core::StateReader;
using core::StateWriter;

constexpr std::string_view kMagic = "SFLSIMCK";

std::int32_t small(StateReader& in, std::int64_t lo, const char* what) { return get_int32(in, lo, what); }

template <typename T, typename Get>
std::vector<T> get_list(StateReader& in, std::size_t min_bytes, Get get) {
  std::vector<T> out(in.count(min_bytes));
  for (T& item : out) item = get(in);
  return out;
}

void put(StateWriter& out, const TrafficData& t) {
  for (std::int64_t v : {t.up, t.down, t.activations, t.gradients, t.weights}) out.i64(v);
}

TrafficData get_traffic(StateReader& in) {
  TrafficData t;
  for (std::int64_t* v : {&t.up, &t.down, &t.activations, &t.gradients, &t.weights}) *v = in.i64_in(0, std::numeric_limits<std::int64_t>::max(), "a byte count");
  return t;
}

void put(StateWriter& out, const UploadData& u) {
  out.i64(u.round_trained);
  out.i64(u.cut);
  out.i64(u.samples);
  out.f64(u.local_sum);
  out.f64(u.server_sum);
  out.i64(u.local_batches);
  out.i64(u.server_batches);
  out.boolean(u.shares_model);
  if (!u.shares_model) {
    put(out, u.prefix);
    put_parts(out, u.heads);
  }
}

UploadData get_upload(StateReader& in) {
  UploadData u;
  u.round_trained = small(in, 0, "an upload's round");
  u.cut = small(in, 0, "an upload's cut");
  u.samples = in.i64_in(0, std::numeric_limits<std::int64_t>::max(), "an upload's samples");
  u.local_sum = in.f64();
  u.server_sum = in.f64();
  u.local_batches = in.i64_in(0, std::numeric_limits<std::int64_t>::max(), "an upload's batches");
  u.server_batches = in.i64_in(0, std::numeric_limits<std::int64_t>::max(), "an upload's batches");
  u.shares_model = in.boolean();
  if (!u.shares_model) {
    u.prefix = get_part(in);
    u.heads = get_parts(in);
  }
  return u;
}

void put_optional(StateWriter& out, const std::optional<PartData>& p) {
  out.boolean(p.has_value());
  if (p) put(out, *p);
}

std::optional<PartData> get_optional_part(StateReader& in) {
  if (!in.boolean()) return std::nullopt;
  return get_part(in);
}

void put(StateWriter& out, const ClientData& c) {
  out.f64(c.local_loss);
  out.f64(c.server_loss);
  out.boolean(c.pending.has_value());
  if (c.pending) put(out, *c.pending);
  put_optional(out, c.prefix);
  put_parts(out, c.heads);
  put_optional(out, c.own_body);
  put_parts(out, c.own_heads);
  out.i64(c.samples_per_round);
  out.i64(c.model_round);
  out.string(c.data_rng);
  out.i64s(c.order);
  out.u64(c.cursor);
}

ClientData get_client(StateReader& in) {
  ClientData c;
  c.local_loss = in.f64();
  c.server_loss = in.f64();
  if (in.boolean()) c.pending = get_upload(in);
  c.prefix = get_optional_part(in);
  c.heads = get_parts(in);
  c.own_body = get_optional_part(in);
  c.own_heads = get_parts(in);
  c.samples_per_round = in.i64_in(0, std::numeric_limits<std::int64_t>::max(), "a client's samples per round");
  c.model_round = small(in, 0, "a client's model round");
  c.data_rng = in.string();
  c.order = in.i64s();
  c.cursor = in.u64();
  if (c.cursor > c.order.size()) in.fail("a client's sample cursor is past its order");
  if (c.pending && c.pending->shares_model && !c.prefix) in.fail("a pending upload shares a model the client lacks");
  return c;
}

void put(StateWriter& out, const RecordData& r) {
  for (std::int64_t v : {std::int64_t{r.client}, std::int64_t{r.round}, std::int64_t{r.cut}}) out.i64(v);
  out.f64(r.width);
  for (std::int64_t v : {r.samples, r.compute_ns, r.transmit_ns, r.idle_ns, r.bytes}) out.i64(v);
  out.f64(r.energy_j);
  out.i64(r.outcome);
  out.i64(r.gradients_received);
  out.i64(r.batches);
}

RecordData get_record(StateReader& in) {
  RecordData r;
  r.client = small(in, 0, "a record's client");
  r.round = small(in, 1, "a record's round");
  r.cut = small(in, 0, "a record's cut");
  r.width = in.f64();
  for (std::int64_t* v : {&r.samples, &r.compute_ns, &r.transmit_ns, &r.idle_ns, &r.bytes}) *v = in.i64();
  r.energy_j = in.f64();
  r.outcome = static_cast<std::int32_t>(in.i64_in(0, 3, "a record's outcome"));
  r.gradients_received = in.i64();
  r.batches = in.i64();
  return r;
}

void put(StateWriter& out, const RowData& r) {
  out.i64(r.round);
  out.i64(r.end_ns);
  out.boolean(r.evaluated);
  out.boolean(r.outage);
  for (double v : {r.test_accuracy, r.test_loss, r.train_loss}) out.f64(v);
  out.i64(r.clients_ok);
  out.i64(r.clients_failed);
  out.u64(r.reintegrated.size());
  for (const auto& [client, staleness] : r.reintegrated) {
    out.i64(client);
    out.i64(staleness);
  }
  put(out, r.traffic);
  out.f64(r.energy_j);
}

RowData get_row(StateReader& in) {
  RowData r;
  r.round = small(in, 1, "a row's round");
  r.end_ns = in.i64_in(0, std::numeric_limits<std::int64_t>::max(), "a row's end");
  r.evaluated = in.boolean();
  r.outage = in.boolean();
  for (double* v : {&r.test_accuracy, &r.test_loss, &r.train_loss}) *v = in.f64();
  r.clients_ok = small(in, 0, "a row's client count");
  r.clients_failed = small(in, 0, "a row's client count");
  r.reintegrated.resize(in.count(16));
  for (auto& [client, staleness] : r.reintegrated) {
    client = small(in, 0, "a reintegrated client");
    staleness = small(in, 0, "a staleness");
  }
  r.traffic = get_traffic(in);
  r.energy_j = in.f64();
  return r;
}

}  // namespace

std::string encode(const Checkpoint& c) {
  StateWriter out;
  out.string(c.sflsim_version);
  out.u64(c.scenario_hash);
  out.string(c.kernel);
  out.u64(c.supernet.size());
  for (const TensorData& t : c.supernet) put(out, t);
  out.u64(c.clients.size());
  for (const ClientData& client : c.clients) put(out, client);
  out.u64(c.has_own_model.size());
  for (std::int32_t client : c.has_own_model) out.i64(client);
  put(out, c.traffic);
  put(out, c.traffic_before);
  for (double v : {c.energy_before, c.last_accuracy, c.best_accuracy, c.wall_before_s}) out.f64(v);
  out.u64(c.rows.size());
  for (const RowData& r : c.rows) put(out, r);
  out.u64(c.records.size());
  for (const RecordData& r : c.records) put(out, r);
  out.f64s(c.wall_seconds);

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
    c.sflsim_version = in.string();
    c.scenario_hash = in.u64();
    c.kernel = in.string();
    c.supernet = get_list<TensorData>(in, 24, get_tensor);
    c.clients = get_list<ClientData>(in, 64, get_client);
    c.has_own_model = get_list<std::int32_t>(in, 8, [](StateReader& r) { return small(r, 0, "a client"); });
    c.traffic = get_traffic(in);
    c.traffic_before = get_traffic(in);
    for (double* v : {&c.energy_before, &c.last_accuracy, &c.best_accuracy, &c.wall_before_s}) *v = in.f64();
    c.rows = get_list<RowData>(in, 90, get_row);
    c.records = get_list<RecordData>(in, 104, get_record);
    c.wall_seconds = in.f64s();
    in.expect_done("the checkpoint");
    if (c.rows.empty()) in.fail("the checkpoint holds no finished round");
    return c;
  } catch (const core::StateError& e) {
    throw CheckpointError(e.what());
  }
}

}  // namespace sflsim::cli::checkpoint
