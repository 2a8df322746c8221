#include "simulator/core/bandwidth.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

namespace sflsim::core {

BandwidthSchedule::BandwidthSchedule(std::int64_t bits_per_s) : steps_{{SimTime{}, bits_per_s}} {
  if (bits_per_s <= 0) throw std::invalid_argument("bandwidth must be positive");
}

BandwidthSchedule::BandwidthSchedule(std::vector<Step> steps) : steps_(std::move(steps)) {
  if (steps_.empty()) throw std::invalid_argument("bandwidth schedule has no steps");
  if (steps_.front().from != SimTime{}) throw std::invalid_argument("bandwidth schedule must start at time 0");
  for (std::size_t i = 0; i < steps_.size(); ++i) {
    if (steps_[i].bits_per_s < 0) throw std::invalid_argument("bandwidth must not be negative");
    if (i > 0 && steps_[i].from <= steps_[i - 1].from) {
      throw std::invalid_argument("bandwidth schedule times must increase");
    }
  }
  if (steps_.back().bits_per_s <= 0) {
    throw std::invalid_argument("the last bandwidth step must be positive (model outages with down windows)");
  }
}

std::size_t BandwidthSchedule::step_index(SimTime t) const {
  // The last step whose start is <= t.
  const auto it = std::upper_bound(steps_.begin(), steps_.end(), t,
                                   [](SimTime value, const Step& s) { return value < s.from; });
  return static_cast<std::size_t>(it - steps_.begin()) - 1;
}

std::int64_t BandwidthSchedule::rate_at(SimTime t) const {
  return is_constant() ? steps_.front().bits_per_s : steps_[step_index(t)].bits_per_s;
}

SimTime BandwidthSchedule::next_change_after(SimTime t) const {
  if (is_constant()) return kNever;
  const std::size_t i = step_index(t);
  return i + 1 < steps_.size() ? steps_[i + 1].from : kNever;
}

SimTime BandwidthSchedule::finish_time(SimTime start, Int128 work) const {
  if (is_constant()) return start + SimDuration{static_cast<std::int64_t>(ceil_div(work, steps_.front().bits_per_s))};
  std::size_t i = step_index(start);
  SimTime t = start;
  for (;; ++i) {
    const std::int64_t rate = steps_[i].bits_per_s;
    const bool last = i + 1 == steps_.size();
    if (rate > 0) {
      const auto need = static_cast<std::int64_t>(ceil_div(work, rate));
      if (last || t + SimDuration{need} <= steps_[i + 1].from) return t + SimDuration{need};
    }
    const SimTime segment_end = steps_[i + 1].from;
    work -= static_cast<Int128>(rate) * (segment_end - t).count();
    t = segment_end;
  }
}

std::int64_t parse_fixed_decimal(std::string_view text, int scale) {
  if (text.empty()) throw std::invalid_argument("empty number");
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  Int128 value = 0;
  int fraction_digits = -1;  // -1: no '.' seen yet
  bool any_digit = false;
  for (const char c : text) {
    if (c == '.') {
      if (fraction_digits >= 0) throw std::invalid_argument("two decimal points in '" + std::string(text) + "'");
      fraction_digits = 0;
      continue;
    }
    if (c < '0' || c > '9') throw std::invalid_argument("not a non-negative decimal: '" + std::string(text) + "'");
    any_digit = true;
    if (fraction_digits >= 0 && ++fraction_digits > scale) {
      throw std::invalid_argument("too many decimals in '" + std::string(text) + "' (at most " +
                                  std::to_string(scale) + ")");
    }
    value = value * 10 + (c - '0');
    if (value > kMax) throw std::invalid_argument("number too large: '" + std::string(text) + "'");
  }
  if (!any_digit) throw std::invalid_argument("not a number: '" + std::string(text) + "'");
  for (int i = std::max(fraction_digits, 0); i < scale; ++i) {
    value *= 10;
    if (value > kMax) throw std::invalid_argument("number too large: '" + std::string(text) + "'");
  }
  return static_cast<std::int64_t>(value);
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (;;) {
    const auto comma = line.find(',');
    fields.push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return fields;
    line.remove_prefix(comma + 1);
  }
}

}  // namespace

BandwidthSchedule parse_bandwidth_csv(std::string_view text, std::string_view source) {
  int time_scale = -1;  // decimal digits from the unit to nanoseconds
  int rate_scale = -1;  // decimal digits from the unit to bit/s
  std::vector<BandwidthSchedule::Step> steps;
  int line_number = 0;
  auto fail = [&](const std::string& message) -> TraceFormatError {
    return TraceFormatError(std::string(source) + ":" + std::to_string(line_number) + ": " + message);
  };
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto fields = split_fields(line);
    if (fields.size() != 2) {
      throw fail("expected 2 comma-separated fields, got " + std::to_string(fields.size()));
    }
    if (time_scale < 0) {
      if (fields[0] == "time_s") time_scale = 9;
      else if (fields[0] == "time_ms") time_scale = 6;
      else throw fail("header: first column must be time_s or time_ms, got '" + std::string(fields[0]) + "'");
      if (fields[1] == "bps") rate_scale = 0;
      else if (fields[1] == "kbps") rate_scale = 3;
      else if (fields[1] == "mbps") rate_scale = 6;
      else throw fail("header: second column must be bps, kbps or mbps, got '" + std::string(fields[1]) + "'");
      continue;
    }
    try {
      const SimTime from{SimDuration{parse_fixed_decimal(fields[0], time_scale)}};
      const std::int64_t rate = parse_fixed_decimal(fields[1], rate_scale);
      if (steps.empty() && from != SimTime{}) throw std::invalid_argument("the first step must be at time 0");
      if (!steps.empty() && from <= steps.back().from) throw std::invalid_argument("times must increase");
      steps.push_back({from, rate});
    } catch (const std::invalid_argument& e) {
      throw fail(e.what());
    }
  }
  if (time_scale < 0) throw fail("no header line (time_s|time_ms,bps|kbps|mbps)");
  if (steps.empty()) throw fail("no data rows");
  try {
    return BandwidthSchedule(std::move(steps));
  } catch (const std::invalid_argument& e) {
    throw fail(e.what());
  }
}

BandwidthSchedule load_bandwidth_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceFormatError(path.string() + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_bandwidth_csv(text.str(), path.string());
}

}  // namespace sflsim::core
