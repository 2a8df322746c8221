#include "simulator/bench/train_bench.hpp"

#include "datasets/compute_device.hpp"
#include "supernet/reference_resnet.hpp"
#include "supernet/supernet.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/optim/sgd.h>

#include <chrono>
#include <functional>

namespace sflsim::cli {

namespace {
// Images per second of `step` (one SGD step on `batch_size` images), after warm-up.
double images_per_second(const std::function<void(int)>& step, int batch_size, double seconds) {
  for (int i = 0; i < 3; ++i) step(i);
  const auto start = std::chrono::steady_clock::now();
  int steps = 0;
  double elapsed = 0.0;
  while (steps < 5 || elapsed < seconds) {
    step(steps++);
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return steps * batch_size / elapsed;
}
}  // namespace

std::string run_train_benchmark(const TrainBenchmarkOptions& options) {
  nlohmann::json results = nlohmann::json::array();
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(1);
  std::vector<at::Tensor> inputs, labels;
  for (int i = 0; i < 4; ++i) {
    inputs.push_back(at::randn({options.batch_size, options.channels, options.image_size, options.image_size}, generator)
                         .to(datasets::compute_device()));
    labels.push_back(at::randint(10, {options.batch_size}, generator).to(datasets::compute_device()));
  }
  for (double width : options.widths) {
    supernet::SupernetOptions net_options;
    net_options.width_multiplier = width;
    net_options.image_height = net_options.image_width = options.image_size;
    net_options.in_channels = options.channels;
    const supernet::Supernet net(net_options);
    const supernet::SubnetConfig config = net.architecture().full_config();

    supernet::BodyPart model = net.extract(config);
    torch::optim::SGD sgd(model.slices().parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const double through_supernet = images_per_second(
        [&](int i) {
          sgd.zero_grad();
          at::cross_entropy_loss(model.forward(inputs[i % 4], supernet::Mode::train), labels[i % 4]).backward();
          sgd.step();
        },
        options.batch_size, options.seconds_per_measurement);

    supernet::ReferenceResNet plain(net.architecture(), config);
    plain->load_from(net.extract(config));
    plain->to(datasets::compute_device());
    plain->train();
    torch::optim::SGD plain_sgd(plain->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
    const double through_plain = images_per_second(
        [&](int i) {
          plain_sgd.zero_grad();
          at::cross_entropy_loss(plain->forward(inputs[i % 4]), labels[i % 4]).backward();
          plain_sgd.step();
        },
        options.batch_size, options.seconds_per_measurement);

    results.push_back({{"width", width},
                       {"parameters", net.architecture().params(config, 1, net.architecture().unit_count())},
                       {"supernet_images_per_s", through_supernet},
                       {"plain_images_per_s", through_plain},
                       {"ratio", through_supernet / through_plain}});
  }
  const nlohmann::json report{{"benchmark", "train"},
                              {"batch_size", options.batch_size},
                              {"image", {options.channels, options.image_size, options.image_size}},
                              {"threads", at::get_num_threads()},
                              {"results", results}};
  return report.dump(2);
}

}  // namespace sflsim::cli
