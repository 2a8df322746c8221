// TPGF lambda policies and aggregation weights (spec §1.4, §1.6, §1.7).
#include "fusion/aggregation.hpp"
#include "fusion/lambda_policy.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

using namespace sflsim;
using namespace sflsim::fusion;

namespace {
supernet::SupernetOptions small_net() {
  supernet::SupernetOptions options;
  options.width_multiplier = 0.25;
  options.image_height = options.image_width = 8;
  return options;
}

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

TEST_CASE("aggregation weight is samples x exp(-loss / tau); a stale copy's share is gamma^staleness", "[fusion]") {
  const AggregationOptions options;
  ClientUpdate update;
  update.samples = 120;
  update.mean_loss = 0.7;
  CHECK(aggregation_weight(update, options) == Approx(120 * std::exp(-0.7)));
  CHECK(staleness_share(update, options) == 1.0);
  update.staleness = 2;
  CHECK(aggregation_weight(update, options) == Approx(120 * std::exp(-0.7)));
  CHECK(staleness_share(update, options) == 0.25);
}

TEST_CASE("aggregate writes every client's copies with its weight, heads within their cut", "[fusion]") {
  supernet::Supernet net(small_net());
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
  const int head_bias = net.architecture().head_spec_ids(2)[1];
  {
    at::NoGradGuard no_grad;
    net.tensors()[0].fill_(0.0);  // plays no part where a fresh copy exists
    net.tensors()[head_bias].fill_(0.0);
  }
  ClientUpdate fresh{20, 0.0, 0, {&a.slices(), &head_a.slices()}};
  ClientUpdate stale{20, 0.0, 1, {&b.slices(), &head_b.slices()}};  // weight 20, share 0.5
  const ClientUpdate updates[] = {fresh, stale};
  aggregate(net, updates, AggregationOptions{});
  // With a fresh copy present the late one joins the mean at 0.5 x 20: (20 x 1 + 10 x 4) / 30.
  // (The supernet's old value, 0, plays no part; blending it in gave 1.5.)
  CHECK(net.tensors()[0].min().item<double>() == 2.0);
  CHECK(net.tensors()[0].max().item<double>() == 2.0);
  CHECK(net.tensors()[head_bias].max().item<double>() == 2.0);
}

TEST_CASE("a very stale copy does not hold fresh copies back", "[fusion]") {
  supernet::Supernet net(small_net());
  const supernet::SubnetConfig full = net.architecture().full_config();
  supernet::BodyPart a = net.extract(full, 1, 2), b = net.extract(full, 1, 2);
  {
    at::NoGradGuard no_grad;
    a.slices().tensors[0].fill_(1.0);
    b.slices().tensors[0].fill_(-7.0);
    net.tensors()[0].fill_(-7.0);
  }
  const ClientUpdate fresh{20, 0.0, 0, {&a.slices()}};
  const ClientUpdate very_stale{20, 0.0, 30, {&b.slices()}};  // share 0.5^30
  const ClientUpdate updates[] = {fresh, very_stale};
  aggregate(net, updates, AggregationOptions{});
  // The fresh value within 1e-6: a late copy entering at full weight held it halfway back, at -3.
  CHECK(net.tensors()[0].min().item<double>() == Approx(1.0).margin(1e-6));
  CHECK(net.tensors()[0].max().item<double>() == Approx(1.0).margin(1e-6));
}

TEST_CASE("a stale copy that is an element's only copy moves it gamma^s of the way", "[fusion]") {
  supernet::Supernet net(small_net());
  const supernet::SubnetConfig full = net.architecture().full_config();
  supernet::BodyPart copy = net.extract(full, 1, 2);
  supernet::LocalHead head = net.extract_head(full, 2);  // a depth group with no fresh member
  const int head_bias = net.architecture().head_spec_ids(2)[1];
  {
    at::NoGradGuard no_grad;
    copy.slices().tensors[0].fill_(4.0);
    head.slices().tensors[1].fill_(4.0);
    net.tensors()[0].fill_(2.0);
    net.tensors()[head_bias].fill_(2.0);
  }
  const ClientUpdate stale{30, 0.0, 2, {&copy.slices(), &head.slices()}};
  aggregate(net, std::span(&stale, 1), AggregationOptions{});
  CHECK(net.tensors()[0].min().item<double>() == 2.5);  // 0.25 x 4 + 0.75 x 2
  CHECK(net.tensors()[0].max().item<double>() == 2.5);
  CHECK(net.tensors()[head_bias].min().item<double>() == 2.5);
  AggregationOptions no_discount;
  no_discount.staleness_gamma = 1.0;
  aggregate(net, std::span(&stale, 1), no_discount);
  CHECK(net.tensors()[0].max().item<double>() == 4.0);
}

TEST_CASE("lambda policy: asked with a server gradient, it needs both losses; without one it is 0", "[fusion]") {
  const LambdaPolicy policy;
  LossAverages none;
  CHECK(policy(none, 3, 10, false) == 0.0);
  CHECK_THROWS_AS(policy(none, 3, 10, true), std::logic_error);
  LossAverages local_only;
  local_only.add_local(1.0);
  CHECK_THROWS_AS(policy(local_only, 3, 10, true), std::logic_error);
}
