// The one table of scenario keys. Each describe() lists the keys of one
// struct; three visitors walk it: JsonReader (load, strict), JsonWriter
// (resolved scenario) and SchemaWriter (the schema document).
#include "simulator/scenario/algorithms.hpp"
#include "simulator/scenario/json_reader.hpp"
#include "simulator/scenario/scenario_io.hpp"

#include <fstream>
#include <sstream>

namespace sflsim::cli {

namespace {
constexpr double kHuge = 1e12;

template <typename V> void describe(V& v, DatasetOptions& o) {
  v.choice("name", o.name, {"fashion-mnist", "mnist", "cifar10", "cifar100", "cifar100-coarse", "synthetic"},
           "dataset the clients train on");
  v.field("dir", o.dir, "directory of the dataset files; empty = the standard location");
  v.choice("partition", o.partition, {"iid", "dirichlet", "shards", "quantity"},
           "how training samples are split among clients");
  v.field("alpha", o.alpha, 1e-4, 1e6, "concentration for dirichlet (label skew) and quantity (size skew); smaller = more skewed");
  v.field("classes_per_client", o.classes_per_client, 1, 1000, "classes each client holds, for shards");
  v.field("augment", o.augment, "random crop (4-pixel padding) and horizontal flip on client batches");
  v.field("train_fraction", o.train_fraction, 1e-6, 1.0, "use only this leading fraction of the training set");
}

template <typename V> void describe(V& v, ModelOptions& o) {
  v.field("width_multiplier", o.width_multiplier, 0.01, 4.0, "supernet width: 1.0 = ResNet-18, 0.25 = 16-32-64-128 channels");
}

template <typename V> void describe(V& v, TrainingOptions& o) {
  v.field("rounds", o.rounds, 1, 1000000, "communication rounds");
  v.field("local_epochs", o.local_epochs, 1, 1000, "passes over its data a client makes per round");
  v.field("batch_size", o.batch_size, 1, 65536, "client mini-batch size");
  v.field("learning_rate", o.learning_rate, 1e-9, 100.0, "SGD learning rate of clients and server");
  v.field("momentum", o.momentum, 0.0, 0.999, "SGD momentum");
  v.field("weight_decay", o.weight_decay, 0.0, 1.0, "SGD weight decay");
  v.field("max_samples_per_round", o.max_samples_per_round, int64_t{0}, int64_t{1} << 40,
          "per client per round; 0 = all of its samples");
  v.field("eval_every", o.eval_every, 1, 1000000, "rounds between test-set evaluations of the full supernet");
  v.field("eval_samples", o.eval_samples, int64_t{0}, int64_t{1} << 40, "test samples evaluated; 0 = all");
  v.field("target_accuracy", o.target_accuracy, 0.0, 1.0, "report rounds and virtual time to reach it (first crossing) and to sustain it (from then on never below); 0 = none");
}

template <typename V> void describe(V& v, DeviceTier& o) {
  v.field("name", o.name, "label of the tier in outputs");
  v.field("fraction", o.fraction, 0.0, 1.0, "share of the clients in this tier (normalised over tiers)");
  v.field("memory_gb", o.memory_gb, 1e-6, 1e6, "device memory available to training (GB); drives the cut depth and exclusion");
  v.field("gflops", o.gflops, 1e-6, kHuge, "sustained training throughput in GFLOP/s");
  v.choice("network", o.network, {"3g", "4g", "5g", "wifi", "lan"}, "built-in bandwidth/latency profile");
  v.field("idle_w", o.idle_w, 0.0, 1e6, "power when idle, W");
  v.field("compute_w", o.compute_w, 0.0, 1e6, "power when computing, W");
  v.field("transmit_w", o.transmit_w, 0.0, 1e6, "power when transmitting, W");
  v.field("receive_w", o.receive_w, 0.0, 1e6, "power when receiving, W");
}

template <typename V> void describe(V& v, ClientOptions& o) {
  v.field("count", o.count, 1, 1000000, "number of clients");
  v.field("participation", o.participation, 1e-6, 1.0, "fraction of clients selected each round");
  v.choice("network", o.network, {"per-tier", "3g", "4g", "5g", "wifi", "lan"},
           "network profile of every client, overriding the tiers' (a sweep axis); per-tier = as each tier says");
  v.array("tiers", o.tiers, "device tiers (list of objects with the keys below)",
          [](auto& sub, DeviceTier& t) { describe(sub, t); });
}

template <typename V> void describe(V& v, ServerOptions& o) {
  v.field("gflops", o.gflops, 1e-6, kHuge, "server throughput in GFLOP/s");
  v.field("concurrency", o.concurrency, 1, 1000000, "server jobs computed at once (others queue)");
  v.field("ingress_mbps", o.ingress_mbps, 1e-6, kHuge, "server download capacity shared by all client uploads");
  v.field("egress_mbps", o.egress_mbps, 1e-6, kHuge, "server upload capacity shared by all client downloads");
}

template <typename V> void describe(V& v, CutOptions& o) {
  v.choice("policy", o.policy, {"resource", "fixed", "flops", "memory"},
           "resource: floor(alpha*mem_GB) + floor(beta*latency rank), clamped to [1, L-1]; fixed; flops budget; "
           "memory: the deepest prefix whose training memory fits the device");
  v.field("alpha", o.alpha, 0.0, 1e6, "layers per GB of memory (resource policy)");
  v.field("beta", o.beta, 0.0, 1e6, "weight of the latency rank (resource policy)");
  v.field("fixed", o.fixed, 1, 1000, "cut for the fixed policy (1..L-1)");
  v.field("flops_budget_gflops", o.flops_budget_gflops, 1e-9, kHuge, "per-sample forward GFLOPs a client prefix may cost (flops policy)");
  v.choice("baseline", o.baseline, {"fixed", "weakest"},
           "SL/SFL-V1/SFL-V2's one cut for all: fixed = cut.fixed, clients whose memory cannot hold it excluded "
           "(unless include_excluded); weakest = the deepest cut the smallest device's memory holds, nobody excluded");
}

template <typename V> void describe(V& v, RaflOptions& o) {
  v.field("proxy_samples", o.proxy_samples, 1, 1000000, "unlabelled training images the server holds for distillation");
  v.field("temperature", o.temperature, 1e-3, 1e3, "softmax temperature of the distillation");
  v.field("distill_epochs", o.distill_epochs, 0, 1000, "passes over the proxy set per round (0 = plain averaging)");
  v.field("learning_rate", o.learning_rate, 0.0, 100.0, "SGD learning rate of the distillation (momentum 0.9)");
}

template <typename V> void describe(V& v, AlgorithmOptions& o) {
  v.choice("name", o.name, algorithm_names(),
           "training algorithm; the baselines use the same supernet (see README: Algorithms)");
  v.object("cut", o.cut, "cut-depth allocation", [](auto& sub, CutOptions& c) { describe(sub, c); });
  v.choice("lambda", o.lambda, {"bias-variance", "fixed", "loss-only", "depth-only", "server-only", "local-only"},
           "TPGF weight of the server gradient");
  v.field("lambda_fixed", o.lambda_fixed, 0.0, 1.0, "lambda for the fixed policy");
  v.choice("server_side", o.server_side, {"replicas", "shared"},
           "SuperSFL's server side: a replica per client, or one model every batch updates in turn, joined unit by "
           "unit with the clients' copies by weight mass (the other algorithms fix their own)");
  v.field("performance_weights", o.performance_weights, "weight updates by n_i * exp(-loss_i / tau); false = by n_i only");
  v.field("temperature", o.temperature, 1e-6, 1e6, "tau of the aggregation performance factor exp(-loss/tau)");
  v.field("staleness_gamma", o.staleness_gamma, 0.0, 1.0, "SuperSFL: an upload s rounds late joins as gamma^s x its copy + (1 - gamma^s) x the current value; 1 = no discount, 0 = late uploads ignored (the baselines drop them)");
  v.field("timeout_factor", o.timeout_factor, 0.01, 1e6, "gradient deadline as a multiple of the expected round trip");
  v.field("include_excluded", o.include_excluded,
          "sl, sfl-v1/v2, fedavg: also train clients whose memory cannot hold their part (they are excluded by default)");
  v.object("rafl", o.rafl, "RaFL's server-side ensemble distillation", [](auto& sub, RaflOptions& r) { describe(sub, r); });
}

template <typename V> void describe(V& v, ServerOutage& o) {
  v.field("start_round", o.start_round, 1, 1000000, "first round the server is unreachable");
  v.field("rounds", o.rounds, 1, 1000000, "number of rounds it stays unreachable");
}

template <typename V> void describe(V& v, LinkDown& o) {
  v.field("client", o.client, 0, 1000000, "client index");
  v.field("start_s", o.start_s, 0.0, kHuge, "virtual time the client's links go down, s");
  v.field("duration_s", o.duration_s, 0.0, kHuge, "how long they stay down, s");
}

template <typename V> void describe(V& v, Crash& o) {
  v.field("client", o.client, 0, 1000000, "client index");
  v.field("at_s", o.at_s, 0.0, kHuge, "virtual time of the crash, s");
  v.field("rejoin_after_s", o.rejoin_after_s, -1.0, kHuge, "rejoin delay, s; negative = never");
}

template <typename V> void describe(V& v, FaultOptions& o) {
  v.field("drop_probability", o.drop_probability, 0.0, 1.0, "probability that any one message is lost");
  v.array("server_outages", o.server_outages, "rounds in which the server is unreachable",
          [](auto& sub, ServerOutage& x) { describe(sub, x); });
  v.array("link_down", o.link_down, "windows in which one client's links are down",
          [](auto& sub, LinkDown& x) { describe(sub, x); });
  v.array("crashes", o.crashes, "client crashes with optional rejoin", [](auto& sub, Crash& x) { describe(sub, x); });
}

template <typename V> void describe(V& v, Scenario& s) {
  v.field("name", s.name, "label used in outputs");
  v.field("seed", s.seed, "root of every random stream: same seed, same outputs");
  v.object("dataset", s.dataset, "data and its partition", [](auto& sub, DatasetOptions& o) { describe(sub, o); });
  v.object("model", s.model, "the supernet", [](auto& sub, ModelOptions& o) { describe(sub, o); });
  v.object("training", s.training, "rounds and optimiser", [](auto& sub, TrainingOptions& o) { describe(sub, o); });
  v.object("clients", s.clients, "the client population", [](auto& sub, ClientOptions& o) { describe(sub, o); });
  v.object("server", s.server, "the split server", [](auto& sub, ServerOptions& o) { describe(sub, o); });
  v.object("algorithm", s.algorithm, "algorithm and its knobs", [](auto& sub, AlgorithmOptions& o) { describe(sub, o); });
  v.object("faults", s.faults, "fault injection", [](auto& sub, FaultOptions& o) { describe(sub, o); });
}

class JsonWriter {
 public:
  explicit JsonWriter(nlohmann::json& out) : out_(out) {}
  template <typename T> void field(const char* key, const T& value, const char*) { out_[key] = value; }
  template <typename T> void field(const char* key, const T& value, T, T, const char*) { out_[key] = value; }
  void choice(const char* key, const std::string& value, const std::vector<std::string>&, const char*) { out_[key] = value; }
  template <typename T, typename D> void object(const char* key, T& value, const char*, D describe_fn) {
    nlohmann::json child = nlohmann::json::object();
    JsonWriter writer(child);
    describe_fn(writer, value);
    out_[key] = std::move(child);
  }
  template <typename T, typename D> void array(const char* key, std::vector<T>& values, const char*, D describe_fn) {
    nlohmann::json list = nlohmann::json::array();
    for (T& value : values) {
      nlohmann::json child = nlohmann::json::object();
      JsonWriter writer(child);
      describe_fn(writer, value);
      list.push_back(std::move(child));
    }
    out_[key] = std::move(list);
  }

 private:
  nlohmann::json& out_;
};

class SchemaWriter {
 public:
  SchemaWriter(std::ostringstream& out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}
  void field(const char* key, bool& value, const char* meaning) { row(key, "bool", value ? "true" : "false", meaning); }
  void field(const char* key, uint64_t& value, const char* meaning) { row(key, "integer >= 0", std::to_string(value), meaning); }
  void field(const char* key, std::string& value, const char* meaning) { row(key, "string", quote(value), meaning); }
  template <typename T> void field(const char* key, T& value, T min, T max, const char* meaning) {
    std::ostringstream type;
    type << (std::is_integral_v<T> ? "integer" : "number") << " in [" << min << ", " << max << "]";
    std::ostringstream text;
    text << value;
    row(key, type.str(), text.str(), meaning);
  }
  void choice(const char* key, std::string& value, const std::vector<std::string>& choices, const char* meaning) {
    std::string type;
    for (const std::string& c : choices) type += (type.empty() ? "" : " \\| ") + quote(c);
    row(key, type, quote(value), meaning);
  }
  template <typename T, typename D> void object(const char* key, T& value, const char* meaning, D describe_fn) {
    row(key, "object", "", meaning);
    SchemaWriter child(out_, prefix_ + key + ".");
    describe_fn(child, value);
  }
  template <typename T, typename D> void array(const char* key, std::vector<T>& values, const char* meaning, D describe_fn) {
    row(key, "array of objects", values.empty() ? "[]" : std::to_string(values.size()) + " element(s)", meaning);
    T element{};
    SchemaWriter child(out_, prefix_ + key + "[].");
    describe_fn(child, element);
  }

 private:
  static std::string quote(const std::string& s) { return "`\"" + s + "\"`"; }
  void row(const char* key, const std::string& type, const std::string& value, const char* meaning) {
    out_ << "| `" << prefix_ << key << "` | " << type << " | " << value << " | " << meaning << " |\n";
  }
  std::ostringstream& out_;
  std::string prefix_;
};

// "a.b.c=value": value is JSON if it parses, else a plain string.
void apply_override(nlohmann::json& root, const std::string& assignment, const std::string& source) {
  // The resolved scenario is JSON, and JSON text is UTF-8: refuse other bytes here, not when writing it.
  try {
    (void)nlohmann::json(assignment).dump();
  } catch (const nlohmann::json::type_error&) {
    throw ScenarioError(source + ": --set: an assignment is not valid UTF-8");
  }
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ScenarioError(source + ": --set '" + printable(assignment) + "': expected path=value, e.g. clients.count=50");
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (too_deep_at(text) != std::string::npos) {
    throw ScenarioError(source + ": --set " + printable(path) + ": the value nests deeper than " +
                        std::to_string(kMaxJsonDepth) + " levels");
  }
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  nlohmann::json* node = &root;
  std::string walked = "$";
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (key.empty()) throw ScenarioError(source + ": --set '" + printable(assignment) + "': empty key in the path");
    if (!node->is_object()) throw ScenarioError(source + ": " + walked + ": --set cannot descend into a non-object");
    walked += "." + printable(key);
    if (dot == std::string::npos) {
      (*node)[key] = std::move(value);
      return;
    }
    node = &(*node)[key];
    if (node->is_null()) *node = nlohmann::json::object();
    start = dot + 1;
  }
}
}  // namespace

Scenario parse_scenario(const std::string& json_text, const std::string& source,
                        const std::vector<std::string>& overrides) {
  nlohmann::json root = parse_json(json_text, source);
  for (const std::string& assignment : overrides) apply_override(root, assignment, source);
  Scenario scenario;
  JsonReader reader(root, source);
  describe(reader, scenario);
  reader.finish();
  return scenario;
}

Scenario load_scenario(const std::filesystem::path& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path.string() + ": cannot open the scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path.string(), overrides);
}

std::string resolved_json(const Scenario& scenario) {
  nlohmann::json out = nlohmann::json::object();
  JsonWriter writer(out);
  Scenario copy = scenario;
  describe(writer, copy);
  return out.dump(2) + "\n";
}

std::string schema_markdown() {
  std::ostringstream out;
  out << "| key | type | default | meaning |\n| --- | --- | --- | --- |\n";
  SchemaWriter writer(out, "");
  Scenario defaults;
  describe(writer, defaults);
  return out.str();
}

}  // namespace sflsim::cli
