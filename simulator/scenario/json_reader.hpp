#pragma once
// Strict reading of a JSON object into option structs: every read records the
// key, wrong types and out-of-range values fail with the JSON path, and
// finish() rejects keys nobody read (typos must not be silently ignored).
#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace sflsim::cli {

// Bad scenario input. what() is one line: "<file>: <json path>: <problem>".
class ScenarioError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Checks made while building the world know the JSON path but not the file:
// their message starts "scenario: ", which this replaces with `file`.
ScenarioError with_file(const ScenarioError& error, const std::string& file);

// `text` with control characters escaped (\n, \t, \u001b, ...): user text
// quoted in an error message keeps it one line.
std::string printable(const std::string& text);

// Scenario and sweep files nest a few levels; deeper input is refused before
// parsing, because nlohmann's dump() and comparisons recurse once per level.
inline constexpr int kMaxJsonDepth = 64;

// The byte offset at which `text` first opens more than kMaxJsonDepth nested
// arrays or objects, or npos.
size_t too_deep_at(const std::string& text);

// `text` parsed; a ScenarioError naming `source` and the byte offset if it is
// not JSON or nests deeper than kMaxJsonDepth.
nlohmann::json parse_json(const std::string& text, const std::string& source);

class JsonReader {
 public:
  JsonReader(const nlohmann::json& object, std::string source, std::string path = "$");

  // Each reads `key` into `out` if present (the default stays otherwise);
  // `meaning` is for the schema document and unused here.
  void field(const char* key, bool& out, const char* meaning);
  void field(const char* key, int& out, int min, int max, const char* meaning);
  void field(const char* key, int64_t& out, int64_t min, int64_t max, const char* meaning);
  void field(const char* key, uint64_t& out, const char* meaning);
  void field(const char* key, double& out, double min, double max, const char* meaning);
  void field(const char* key, std::string& out, const char* meaning);
  void choice(const char* key, std::string& out, const std::vector<std::string>& choices, const char* meaning);

  // A nested object: `describe(reader, out)` fills it; unknown keys inside are rejected.
  template <typename T, typename Describe>
  void object(const char* key, T& out, const char* /*meaning*/, Describe describe) {
    JsonReader child = nested(key);
    describe(child, out);
    child.finish();
  }
  // An array of objects: present, it replaces the default elements.
  template <typename T, typename Describe>
  void array(const char* key, std::vector<T>& out, const char* /*meaning*/, Describe describe) {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_array()) fail(key, "expected an array, got " + type_name(*v));
    out.assign(v->size(), T{});
    for (size_t i = 0; i < v->size(); ++i) {
      JsonReader element((*v)[i], source_, path_of(key) + "[" + std::to_string(i) + "]");
      describe(element, out[i]);
      element.finish();
    }
  }
  // Throws if any key of this object was not read.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
  std::string path_of(const std::string& key) const { return path_ + "." + key; }

 private:
  const nlohmann::json* find(const char* key);
  JsonReader nested(const char* key);
  static std::string type_name(const nlohmann::json& value);

  const nlohmann::json& object_;
  std::string source_;
  std::string path_;
  std::set<std::string> read_;
  static const nlohmann::json kEmptyObject;
};

}  // namespace sflsim::cli
