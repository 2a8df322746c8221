#include "supernet/evaluate.hpp"

#include <ATen/ATen.h>

#include <numeric>

namespace sflsim::supernet {

Evaluation evaluate(const BodyPart& whole, const datasets::ImageDataset& test, int batch_size) {
  at::NoGradGuard no_grad;
  std::vector<int64_t> indices(static_cast<size_t>(test.size()));
  std::iota(indices.begin(), indices.end(), 0);
  int64_t correct = 0;
  double loss_sum = 0.0;
  for (int64_t begin = 0; begin < test.size(); begin += batch_size) {
    const int64_t count = std::min<int64_t>(batch_size, test.size() - begin);
    const datasets::Batch batch = datasets::make_batch(
        test, std::span<const int64_t>(indices).subspan(static_cast<size_t>(begin), static_cast<size_t>(count)),
        nullptr, nullptr);
    const at::Tensor logits = whole.forward(batch.images, Mode::eval);
    correct += logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
    loss_sum += at::cross_entropy_loss(logits, batch.labels, {}, at::Reduction::Sum).item<double>();
  }
  const double n = static_cast<double>(std::max<int64_t>(1, test.size()));
  return {static_cast<double>(correct) / n, loss_sum / n};
}

}  // namespace sflsim::supernet
