// TPGF lambda policies and aggregation weights (spec §1.4, §1.6, §1.7).
#include "fusion/aggregation.hpp"
#include "fusion/lambda_policy.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <cmath>

using namespace sflsim;
using namespace sflsim::fusion;

namespace {
LossAverages equal_losses(double loss) {
  LossAverages losses;
  losses.add_local(loss);
  losses.add_server(loss);
  return losses;
}
}  // namespace

TEST_CASE("bias-variance lambda trusts the server for shallow cuts and the local head for deep ones", "[fusion]") {
  const LambdaPolicy policy;
  const LossAverages losses = equal_losses(1.3);
  CHECK(policy(losses, 1, 10, true) == Approx(0.9).epsilon(1e-7));
  CHECK(policy(losses, 9, 10, true) == Approx(0.1).epsilon(1e-6));
  CHECK(policy(losses, 5, 10, true) == Approx(0.5).epsilon(1e-7));
  CHECK(policy(losses, 1, 10, false) == 0.0);  // no server gradient: local-only step
  LossAverages weak_head = equal_losses(1.0);
  weak_head.add_local(3.0);  // EMA 0.9 * 1 + 0.1 * 3 = 1.2
  CHECK(weak_head.local() == Approx(1.2));
  CHECK(policy(weak_head, 5, 10, true) > policy(losses, 5, 10, true));
  LossAverages extreme;
  extreme.add_local(100.0);
  extreme.add_server(0.001);
  CHECK(policy(extreme, 1, 10, true) == 0.95);  // clipped to lambda_max
}

TEST_CASE("ablation policies", "[fusion]") {
  const LossAverages losses = equal_losses(2.0);
  LambdaPolicy policy;
  policy.rule = LambdaRule::server_only;
  CHECK(policy(losses, 3, 10, true) == 1.0);
  CHECK(policy(losses, 3, 10, false) == 0.0);
  policy.rule = LambdaRule::local_only;
  CHECK(policy(losses, 3, 10, true) == 0.0);
  policy.rule = LambdaRule::fixed;
  policy.fixed_value = 0.3;
  CHECK(policy(losses, 3, 10, true) == 0.3);
  policy.rule = LambdaRule::depth_only;
  CHECK(policy(losses, 3, 10, true) == Approx(0.7));
  policy.rule = LambdaRule::loss_only;
  CHECK(policy(losses, 3, 10, true) == Approx(0.5));
  CHECK(parse_lambda_rule("depth-only") == LambdaRule::depth_only);
  CHECK_THROWS_WITH(parse_lambda_rule("magic"), Catch::Contains("bias-variance"));
}

TEST_CASE("aggregation weight is samples x exp(-loss / tau) x gamma^staleness", "[fusion]") {
  const AggregationOptions options;
  ClientUpdate update;
  update.samples = 120;
  update.mean_loss = 0.7;
  CHECK(aggregation_weight(update, options) == Approx(120 * std::exp(-0.7)));
  update.staleness = 2;
  CHECK(aggregation_weight(update, options) == Approx(120 * std::exp(-0.7) * 0.25));
}

TEST_CASE("aggregate writes every client's copies with its weight, heads within their cut", "[fusion]") {
  supernet::SupernetOptions options;
  options.width_multiplier = 0.25;
  options.image_height = options.image_width = 8;
  supernet::Supernet net(options);
  const supernet::SubnetConfig full = net.architecture().full_config();
  supernet::BodyPart a = net.extract(full, 1, 2), b = net.extract(full, 1, 2);
  supernet::LocalHead head_a = net.extract_head(full, 2), head_b = net.extract_head(full, 2);
  {
    at::NoGradGuard no_grad;
    a.slices().tensors[0].fill_(1.0);
    b.slices().tensors[0].fill_(4.0);
    head_a.slices().tensors[1].fill_(1.0);
    head_b.slices().tensors[1].fill_(4.0);
  }
  ClientUpdate fresh{10, 0.0, 0, {&a.slices(), &head_a.slices()}};
  ClientUpdate stale{20, 0.0, 1, {&b.slices(), &head_b.slices()}};  // weight 20 * 0.5 = 10
  const ClientUpdate updates[] = {fresh, stale};
  aggregate(net, updates, AggregationOptions{});
  CHECK(net.tensors()[0].min().item<double>() == 2.5);  // (10 x 1 + 10 x 4) / 20
  CHECK(net.tensors()[0].max().item<double>() == 2.5);
  const int head_bias = net.architecture().head_spec_ids(2)[1];
  CHECK(net.tensors()[head_bias].max().item<double>() == 2.5);
}
