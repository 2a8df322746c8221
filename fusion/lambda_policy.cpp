#include "fusion/lambda_policy.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace sflsim::fusion {

namespace {
constexpr std::array<std::pair<LambdaRule, std::string_view>, 6> kNames{{
    {LambdaRule::bias_variance, "bias-variance"},
    {LambdaRule::fixed, "fixed"},
    {LambdaRule::loss_only, "loss-only"},
    {LambdaRule::depth_only, "depth-only"},
    {LambdaRule::server_only, "server-only"},
    {LambdaRule::local_only, "local-only"},
}};
}  // namespace

double LambdaPolicy::operator()(const LossAverages& losses, int depth, int unit_count,
                                bool server_gradient_arrived) const {
  if (!server_gradient_arrived) return 0.0;
  // The client adds the batch's local loss (phase 1) and the server's loss
  // (with its gradient) before asking, so both averages exist here.
  if (!losses.has_local() || !losses.has_server()) {
    throw std::logic_error("lambda policy: asked before the batch's local and server losses were added");
  }
  const double d = static_cast<double>(depth) / static_cast<double>(unit_count);
  const double local = losses.local();
  const double server = losses.server();
  switch (rule) {
    case LambdaRule::bias_variance: {
      const double bias = local * (1.0 - d);
      return std::clamp(bias / (bias + server * d + epsilon), min, max);
    }
    case LambdaRule::fixed: return fixed_value;
    case LambdaRule::loss_only: return std::clamp(local / (local + server + epsilon), min, max);
    case LambdaRule::depth_only: return std::clamp(1.0 - d, min, max);
    case LambdaRule::server_only: return 1.0;
    case LambdaRule::local_only: return 0.0;
  }
  return 0.0;
}

LambdaRule parse_lambda_rule(std::string_view name) {
  for (const auto& [rule, text] : kNames) {
    if (text == name) return rule;
  }
  std::string valid;
  for (const auto& [rule, text] : kNames) valid += (valid.empty() ? "" : ", ") + std::string(text);
  throw std::invalid_argument("unknown lambda policy '" + std::string(name) + "'; valid: " + valid);
}

std::string_view to_string(LambdaRule rule) {
  for (const auto& [r, text] : kNames) {
    if (r == rule) return text;
  }
  return "?";
}

}  // namespace sflsim::fusion
