// The supernet's numerics: slicing, splitting, reference equivalence, write-back.
#include "supernet/reference_resnet.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>
#include <catch2/catch.hpp>

using namespace sflsim::supernet;

namespace {
SupernetOptions small_options() {
  SupernetOptions options;
  options.width_multiplier = 0.25;
  options.image_height = options.image_width = 16;
  options.init_seed = 7;
  return options;
}

std::vector<SubnetConfig> configs(const Architecture& arch) {
  const int L = arch.unit_count();
  return {SubnetConfig{L, {1.0, 1.0, 1.0, 1.0}}, SubnetConfig{L, {0.5, 0.5, 0.5, 0.5}},
          SubnetConfig{L, {1.0, 0.5, 0.75, 0.25}}, SubnetConfig{L, {0.25, 1.0, 0.5, 1.0}}};
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

at::Tensor input_batch(int64_t batch = 6) {
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(3);
  return at::randn({batch, 3, 16, 16}, g);
}
}  // namespace

TEST_CASE("prefix then suffix computes exactly the whole subnet, for several configs and cuts", "[supernet]") {
  const Supernet net(small_options());
  const at::Tensor x = input_batch();
  at::NoGradGuard no_grad;
  for (const SubnetConfig& config : configs(net.architecture())) {
    const BodyPart whole = net.extract(config);
    for (int cut : {1, 3, 4, 6, 9}) {
      const auto [prefix, suffix] = whole.split(cut);
      CAPTURE(config.to_string(), cut);
      CHECK(prefix.last_unit() == cut);
      CHECK(suffix.first_unit() == cut + 1);
      CHECK(max_abs_diff(suffix.forward(prefix.forward(x, Mode::eval), Mode::eval), whole.forward(x, Mode::eval)) <= 1e-5);
      // Batch statistics are per unit, so the identity holds in training mode too.
      const BodyPart whole_copy(whole.slices().clone(), 1, whole.last_unit());
      CHECK(max_abs_diff(suffix.forward(prefix.forward(x, Mode::train), Mode::train),
                         whole_copy.forward(x, Mode::train)) <= 1e-5);
    }
  }
}

TEST_CASE("a whole subnet computes what a plain torch::nn ResNet with its weights computes", "[supernet]") {
  const Supernet net(small_options());
  const at::Tensor x = input_batch();
  for (const SubnetConfig& config : configs(net.architecture())) {
    CAPTURE(config.to_string());
    const BodyPart whole = net.extract(config);
    ReferenceResNet reference(net.architecture(), config);
    reference->load_from(whole);
    reference->eval();
    at::NoGradGuard no_grad;
    CHECK(max_abs_diff(reference->forward(x), whole.forward(x, Mode::eval)) <= 1e-5);
  }
}

TEST_CASE("analytic parameter counts equal the modules' and the slices' counts", "[supernet]") {
  const Supernet net(small_options());
  const Architecture& arch = net.architecture();
  for (const SubnetConfig& config : configs(arch)) {
    CAPTURE(config.to_string());
    ReferenceResNet reference(arch, config);
    int64_t module_params = 0;
    for (const at::Tensor& p : reference->parameters()) module_params += p.numel();
    CHECK(module_params == arch.params(config, 1, arch.unit_count()));
    for (int cut = 1; cut < arch.unit_count(); ++cut) {
      CHECK(net.extract(config, 1, cut).slices().parameter_count() == arch.params(config, 1, cut));
      CHECK(net.extract_head(config, cut).slices().parameter_count() == arch.head_params(config, cut));
    }
  }
}

TEST_CASE("analytic FLOPs equal 2 x MACs counted from weight shapes and observed output maps", "[supernet]") {
  const Supernet net(small_options());
  const Architecture& arch = net.architecture();
  at::NoGradGuard no_grad;
  for (const SubnetConfig& config : configs(arch)) {
    at::Tensor x = input_batch(2);
    for (int unit = 1; unit <= arch.unit_count(); ++unit) {
      const BodyPart part = net.extract(config, unit, unit);
      const at::Tensor out = part.forward(x, Mode::eval);
      int64_t counted = 0;
      for (const at::Tensor& w : part.slices().tensors) {
        if (w.dim() == 4) counted += 2 * w.numel() * out.size(2) * out.size(3);  // every conv of a unit yields its output map
        if (w.dim() == 2) counted += 2 * w.numel();
      }
      CAPTURE(config.to_string(), unit);
      CHECK(counted == arch.unit_cost(config, unit).forward_flops);
      CHECK(out[0].numel() == arch.unit_cost(config, unit).output_elements);
      if (unit < arch.unit_count()) CHECK(out[0].numel() * 4 == arch.activation_bytes(config, unit));
      x = out;
    }
  }
}

TEST_CASE("the same seed initialises the same supernet; extraction copies", "[supernet]") {
  const Supernet a(small_options()), b(small_options());
  SupernetOptions other = small_options();
  other.init_seed = 8;
  const Supernet c(other);
  bool all_equal = true, any_differs = false;
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    all_equal = all_equal && a.tensors()[i].equal(b.tensors()[i]);
    any_differs = any_differs || !a.tensors()[i].equal(c.tensors()[i]);
  }
  CHECK(all_equal);
  CHECK(any_differs);
  BodyPart part = a.extract(a.architecture().full_config());
  const at::Tensor before = a.tensors()[0].clone();
  {
    at::NoGradGuard no_grad;
    part.slices().tensors[0].fill_(42.0);
  }
  CHECK(a.tensors()[0].equal(before));
}

TEST_CASE("write-back averages each element over the copies that cover it and keeps the rest", "[supernet]") {
  Supernet net(small_options());
  const Architecture& arch = net.architecture();
  const std::vector<at::Tensor> original = [&] {
    std::vector<at::Tensor> copy;
    for (const at::Tensor& t : net.tensors()) copy.push_back(t.clone());
    return copy;
  }();
  const int L = arch.unit_count();
  const SubnetConfig half{L, {0.5, 0.5, 0.5, 0.5}};
  BodyPart narrow = net.extract(half, 1, 3);                     // covers units 1..3, half width
  BodyPart wide = net.extract(arch.full_config(), 1, 2);         // covers units 1..2, full width
  LocalHead head = net.extract_head(half, 3);
  {
    at::NoGradGuard no_grad;
    for (at::Tensor& t : narrow.slices().tensors) t.fill_(2.0);
    for (at::Tensor& t : wide.slices().tensors) t.fill_(4.0);
    for (at::Tensor& t : head.slices().tensors) t.fill_(-1.0);
  }
  const Contribution contributions[] = {{&narrow.slices(), 1.0}, {&wide.slices(), 3.0}, {&head.slices(), 0.5}};
  net.write_back(contributions);

  int64_t checked_elements = 0;
  for (size_t id = 0; id < arch.specs().size(); ++id) {
    const TensorSpec& spec = arch.specs()[id];
    CAPTURE(spec.name);
    const at::Tensor& t = net.tensors()[id];
    const at::Tensor in_half = leading_slice(t, arch.sliced_shape(spec, half));
    at::Tensor expected = original[id].clone();
    if (spec.head) {
      if (spec.unit == 3) leading_slice(expected, arch.sliced_shape(spec, half)).fill_(-1.0);
    } else if (spec.unit <= 2) {
      expected.fill_(4.0);
      leading_slice(expected, arch.sliced_shape(spec, half)).fill_(3.5);  // (1 x 2 + 3 x 4) / 4
    } else if (spec.unit == 3) {
      leading_slice(expected, arch.sliced_shape(spec, half)).fill_(2.0);
    }
    REQUIRE(t.equal(expected));
    checked_elements += t.numel() + in_half.numel() * 0;
  }
  CHECK(checked_elements == [&] {
    int64_t n = 0;
    for (const at::Tensor& t : net.tensors()) n += t.numel();
    return n;
  }());
}

TEST_CASE("the local head pools and classifies a cut's features", "[supernet]") {
  const Supernet net(small_options());
  const SubnetConfig config{net.architecture().unit_count(), {0.5, 0.5, 0.5, 0.5}};
  const BodyPart prefix = net.extract(config, 1, 4);
  const LocalHead head = net.extract_head(config, 4);
  at::NoGradGuard no_grad;
  const at::Tensor logits = head.forward(prefix.forward(input_batch(5), Mode::eval));
  CHECK(logits.sizes() == at::IntArrayRef{5, 10});
  CHECK_THROWS_WITH(net.extract_head(config, 10), Catch::Contains("cut 10"));
}
