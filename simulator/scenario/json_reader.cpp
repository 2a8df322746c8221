#include "simulator/scenario/json_reader.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <type_traits>

namespace sflsim::cli {

const nlohmann::json JsonReader::kEmptyObject = nlohmann::json::object();

std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\u%04x", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

size_t too_deep_at(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

namespace {

// nlohmann's DOM builder, except that a number beyond double's range ("1e309")
// is reported with where it is: the exception nlohmann throws for it names the
// number, not its byte offset, but its parser hands the offset to the SAX
// handler first.
class OffsetReportingParser : public nlohmann::detail::json_sax_dom_parser<nlohmann::json> {
 public:
  OffsetReportingParser(nlohmann::json& result, const std::string& source)
      : json_sax_dom_parser(result), source_(source) {}

  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& error) {
    if constexpr (std::is_same_v<Exception, nlohmann::json::out_of_range>) {
      throw ScenarioError(source_ + ": not valid JSON at byte offset " + std::to_string(position - token.size()) +
                          ": the number " + printable(token) + " is beyond the range of a double");
    }
    return json_sax_dom_parser::parse_error(position, token, error);
  }

 private:
  const std::string& source_;
};

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& source) {
  if (const size_t at = too_deep_at(text); at != std::string::npos) {
    throw ScenarioError(source + ": nested deeper than " + std::to_string(kMaxJsonDepth) +
                        " levels at byte offset " + std::to_string(at));
  }
  nlohmann::json result;
  OffsetReportingParser parser(result, source);
  try {
    nlohmann::json::sax_parse(text, &parser);
  } catch (const nlohmann::json::parse_error& e) {
    const std::string what = e.what();
    throw ScenarioError(source + ": not valid JSON at byte offset " + std::to_string(e.byte) + ": " +
                        printable(what.substr(what.rfind(':') + 2)));
  }
  return result;
}

std::string JsonReader::type_name(const nlohmann::json& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_null()) return "null";
  return std::string(value.is_array() || value.is_object() ? "an " : "a ") + value.type_name();
}

JsonReader::JsonReader(const nlohmann::json& object, std::string source, std::string path)
    : object_(object), source_(std::move(source)), path_(std::move(path)) {
  if (!object_.is_object()) {
    throw ScenarioError(source_ + ": " + path_ + ": expected an object, got " + type_name(object_));
  }
}

void JsonReader::fail(const std::string& key, const std::string& problem) const {
  // `key` may be the user's (an unknown key): escaped, so the message stays one line.
  throw ScenarioError(source_ + ": " + (key.empty() ? path_ : path_of(printable(key))) + ": " + problem);
}


const nlohmann::json* JsonReader::find(const char* key) {
  read_.insert(key);
  const auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

void JsonReader::field(const char* key, bool& out, const char*) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_boolean()) fail(key, "expected true or false, got " + type_name(*v));
    out = v->get<bool>();
  }
}

void JsonReader::field(const char* key, int& out, int min, int max, const char* meaning) {
  int64_t wide = out;
  field(key, wide, min, max, meaning);
  out = static_cast<int>(wide);
}

void JsonReader::field(const char* key, int64_t& out, int64_t min, int64_t max, const char*) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_number_integer()) fail(key, "expected an integer, got " + type_name(*v));
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(key, "is too large");
    }
    const int64_t value = v->get<int64_t>();
    if (value < min || value > max) {
      fail(key, std::to_string(value) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    }
    out = value;
  }
}

void JsonReader::field(const char* key, uint64_t& out, const char*) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_number_unsigned()) fail(key, "expected a non-negative integer, got " + type_name(*v));
    out = v->get<uint64_t>();
  }
}

void JsonReader::field(const char* key, double& out, double min, double max, const char*) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_number()) fail(key, "expected a number, got " + type_name(*v));
    const double value = v->get<double>();
    if (!std::isfinite(value) || value < min || value > max) {
      std::ostringstream range;
      range << value << " is out of range [" << min << ", " << max << "]";
      fail(key, range.str());
    }
    out = value;
  }
}

void JsonReader::field(const char* key, std::string& out, const char*) {
  if (const nlohmann::json* v = find(key)) {
    if (!v->is_string()) fail(key, "expected a string, got " + type_name(*v));
    out = v->get<std::string>();
  }
}

void JsonReader::choice(const char* key, std::string& out, const std::vector<std::string>& choices,
                        const char* meaning) {
  field(key, out, meaning);
  for (const std::string& c : choices) {
    if (c == out) return;
  }
  std::string list;
  for (const std::string& c : choices) list += (list.empty() ? "" : ", ") + c;
  fail(key, "'" + printable(out) + "' is not one of: " + list);
}

JsonReader JsonReader::nested(const char* key) {
  const nlohmann::json* v = find(key);
  if (v != nullptr && !v->is_object()) fail(key, "expected an object, got " + type_name(*v));
  return JsonReader(v != nullptr ? *v : kEmptyObject, source_, path_of(key));
}

void JsonReader::finish() const {
  for (const auto& [key, value] : object_.items()) {
    if (!read_.contains(key)) fail(key, "unknown key");
  }
}

ScenarioError with_file(const ScenarioError& error, const std::string& file) {
  const std::string message = error.what();
  const std::string generic = "scenario: ";
  if (message.rfind(generic, 0) != 0) return error;
  return ScenarioError(file + ": " + message.substr(generic.size()));
}

}  // namespace sflsim::cli
