// Writes the seed corpus of the checkpoint target (corpus/checkpoint/): small
// checkpoints through checkpoint::encode, from nearly empty to one with every
// kind of part. Real checkpoints hold megabytes of weights, too big for seeds.
//   fuzz_make_checkpoint_corpus DIR
#include "simulator/checkpoint/checkpoint_format.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace ck = sflsim::cli::checkpoint;

namespace {

ck::TensorData tensor(std::vector<std::int64_t> shape) {
  ck::TensorData t;
  t.dtype = 6;  // c10::ScalarType::Float
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  t.shape = std::move(shape);
  t.bytes.assign(static_cast<std::size_t>(n) * 4, '\x3f');
  return t;
}

ck::PartData part(bool head, std::int32_t first, std::int32_t last) {
  ck::PartData p;
  p.head = head;
  p.depth = 4;
  p.width = {1.0, 0.5, 0.5, 0.25};
  p.first = first;
  p.last = last;
  p.tensors = {tensor({2, 3}), tensor({4})};
  return p;
}

ck::RowData row(std::int32_t round) {
  ck::RowData r;
  r.round = round;
  r.end_ns = 1'500'000'000LL * round;
  r.evaluated = round % 2 == 0;
  r.test_accuracy = 0.5;
  r.test_loss = 1.25;
  r.train_loss = 1.5;
  r.clients_ok = 3;
  r.clients_failed = 1;
  r.reintegrated = {{2, 1}};
  r.traffic = {100, 200, 50, 50, 200};
  r.energy_j = 3.5;
  return r;
}

ck::Checkpoint minimal() {
  ck::Checkpoint c;
  c.sflsim_version = "0.1.0";
  c.scenario_hash = 0x1234'5678'9abc'def0ULL;
  c.rows = {row(1)};
  c.wall_seconds = {0.25};
  return c;
}

ck::Checkpoint full() {
  ck::Checkpoint c = minimal();
  c.kernel = std::string("\x01\x00\x00\x00\x00\x00\x00\x00kernel-state", 20);
  c.supernet = {tensor({3, 3}), tensor({8})};
  ck::ClientData a;
  a.local_loss = 0.75;
  a.server_loss = 0.5;
  a.prefix = part(false, 1, 2);
  a.heads = {part(true, 0, 2)};
  a.samples_per_round = 64;
  a.model_round = 1;
  a.data_rng = "5489 1 2 3";
  a.order = {3, 1, 2, 0};
  a.cursor = 2;
  ck::UploadData up;
  up.round_trained = 1;
  up.cut = 2;
  up.samples = 64;
  up.local_sum = 1.5;
  up.server_sum = 1.0;
  up.local_batches = 2;
  up.server_batches = 2;
  up.prefix = part(false, 1, 2);
  up.heads = {part(true, 0, 2)};
  a.pending = up;
  ck::ClientData b;
  b.own_body = part(false, 1, 4);
  b.own_heads = {part(true, 0, 4)};
  c.clients = {a, b};
  c.has_own_model = {1};
  c.traffic = {1000, 2000, 500, 500, 2000};
  c.traffic_before = {10, 20, 5, 5, 20};
  c.energy_before = 1.0;
  c.last_accuracy = 0.5;
  c.best_accuracy = 0.625;
  c.rows = {row(1), row(2), row(3)};
  ck::RecordData rec;
  rec.client = 1;
  rec.round = 3;
  rec.cut = 2;
  rec.width = 0.5;
  rec.samples = 64;
  rec.compute_ns = 1000;
  rec.transmit_ns = 2000;
  rec.bytes = 4096;
  rec.energy_j = 0.125;
  rec.outcome = 1;
  rec.batches = 2;
  c.records = {rec, rec};
  c.wall_seconds = {0.25, 0.5, 0.75};
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_checkpoint_corpus DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  const auto write = [&](const char* name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
  };
  write("minimal", ck::encode(minimal()));
  const std::string whole = ck::encode(full());
  write("full", whole);
  write("truncated", whole.substr(0, whole.size() / 2));
  std::string corrupt = whole;
  corrupt[corrupt.size() / 2] ^= 0x40;
  write("corrupt-checksum", corrupt);
  std::string other_version = whole;
  other_version[8] = 2;
  write("other-format-version", other_version);
  return 0;
}
