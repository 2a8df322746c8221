#include "supernet/evaluate.hpp"

#include <ATen/ATen.h>

#include <numeric>

namespace sflsim::supernet {

Evaluation evaluate(const BodyPart& whole, const datasets::ImageDataset& test, int batch_size,
                    const ForEachBatch& for_each) {
  std::vector<int64_t> indices(static_cast<size_t>(test.size()));
  std::iota(indices.begin(), indices.end(), 0);
  const int64_t batches = (test.size() + batch_size - 1) / batch_size;
  std::vector<int64_t> correct(static_cast<size_t>(batches), 0);
  std::vector<double> loss_sum(static_cast<size_t>(batches), 0.0);
  const auto evaluate_batch = [&](int64_t b) {
    at::NoGradGuard no_grad;  // thread-local: set on whichever thread runs the batch
    const int64_t begin = b * batch_size;
    const int64_t count = std::min<int64_t>(batch_size, test.size() - begin);
    const datasets::Batch batch = datasets::make_batch(
        test, std::span<const int64_t>(indices).subspan(static_cast<size_t>(begin), static_cast<size_t>(count)),
        nullptr, nullptr);
    const at::Tensor logits = whole.forward(batch.images, Mode::eval);
    correct[static_cast<size_t>(b)] = logits.argmax(1).eq(batch.labels).sum().item<int64_t>();
    loss_sum[static_cast<size_t>(b)] =
        at::cross_entropy_loss(logits, batch.labels, {}, at::Reduction::Sum).item<double>();
  };
  if (for_each) {
    for_each(batches, evaluate_batch);
  } else {
    for (int64_t b = 0; b < batches; ++b) evaluate_batch(b);
  }
  const double n = static_cast<double>(std::max<int64_t>(1, test.size()));
  return {static_cast<double>(std::accumulate(correct.begin(), correct.end(), int64_t{0})) / n,
          std::accumulate(loss_sum.begin(), loss_sum.end(), 0.0) / n};
}

}  // namespace sflsim::supernet
