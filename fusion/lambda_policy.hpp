#pragma once
// TPGF phase 3: how much a client trusts the server's gradient. The fused
// update is  theta <- theta - lr * (lambda * g_server + (1 - lambda) * g_local)
// (spec §1.4). Pure functions: no time, no links.
#include <string>
#include <string_view>

namespace sflsim::fusion {

// Per-client exponential moving averages of the two losses (decay 0.9 by default).
class LossAverages {
 public:
  explicit LossAverages(double decay = 0.9) : decay_(decay) {}
  // Averages saved by a checkpoint (local() and server(), -1 for none yet).
  static LossAverages restored(double local, double server, double decay = 0.9) {
    LossAverages out(decay);
    out.local_ = local;
    out.server_ = server;
    return out;
  }
  void add_local(double loss) { local_ = blend(local_, loss); }
  void add_server(double loss) { server_ = blend(server_, loss); }
  bool has_local() const { return local_ >= 0; }
  bool has_server() const { return server_ >= 0; }
  double local() const { return local_; }    // -1 until the first loss
  double server() const { return server_; }  // -1 until the first loss

 private:
  double blend(double average, double loss) const { return average < 0 ? loss : decay_ * average + (1 - decay_) * loss; }
  double decay_;
  double local_ = -1;
  double server_ = -1;
};

enum class LambdaRule {
  bias_variance,  // default: lc(1 - d/L) / (lc(1 - d/L) + ls d/L), clipped
  fixed,          // lambda = fixed_value
  loss_only,      // lc / (lc + ls)
  depth_only,     // 1 - d/L
  server_only,    // lambda = 1: plain SFL
  local_only,     // lambda = 0: local classifier only
};

struct LambdaPolicy {
  LambdaRule rule = LambdaRule::bias_variance;
  double fixed_value = 0.5;
  double min = 0.05;  // clip for bias_variance, loss_only and depth_only
  double max = 0.95;
  double epsilon = 1e-8;

  // lambda for a client with cut `depth` of `unit_count`; 0 whenever the
  // server gradient did not arrive (outage, drop, timeout). With a gradient,
  // both losses must have been added (std::logic_error otherwise).
  double operator()(const LossAverages& losses, int depth, int unit_count, bool server_gradient_arrived) const;
};

// "bias-variance", "fixed", "loss-only", "depth-only", "server-only", "local-only".
LambdaRule parse_lambda_rule(std::string_view name);  // throws std::invalid_argument listing the names
std::string_view to_string(LambdaRule rule);

}  // namespace sflsim::fusion
