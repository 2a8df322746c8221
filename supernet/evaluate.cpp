#include "supernet/evaluate.hpp"

#include <ATen/ATen.h>

#include <numeric>

namespace sflsim::supernet {

BatchScore score_batch(const BodyPart& whole, const datasets::ImageDataset& test, int64_t begin, int64_t count) {
  at::NoGradGuard no_grad;  // thread-local: set on whichever thread runs the batch
  std::vector<int64_t> indices(static_cast<size_t>(count));
  std::iota(indices.begin(), indices.end(), begin);
  const datasets::Batch batch = datasets::make_batch(test, indices, nullptr, nullptr);
  const at::Tensor logits = whole.forward(batch.images, Mode::eval);
  return {logits.argmax(1).eq(batch.labels).sum().item<int64_t>(),
          at::cross_entropy_loss(logits, batch.labels, {}, at::Reduction::Sum).item<double>()};
}

Evaluation combine(const std::vector<BatchScore>& scores, int64_t samples) {
  int64_t correct = 0;
  double loss_sum = 0.0;
  for (const BatchScore& score : scores) {
    correct += score.correct;
    loss_sum += score.loss_sum;
  }
  const double n = static_cast<double>(std::max<int64_t>(1, samples));
  return {static_cast<double>(correct) / n, loss_sum / n};
}

Evaluation evaluate(const BodyPart& whole, const datasets::ImageDataset& test, int batch_size,
                    const ForEachBatch& for_each) {
  const int64_t batches = (test.size() + batch_size - 1) / batch_size;
  std::vector<BatchScore> scores(static_cast<size_t>(batches));
  const auto evaluate_batch = [&](int64_t b) {
    const int64_t begin = b * batch_size;
    scores[static_cast<size_t>(b)] = score_batch(whole, test, begin, std::min<int64_t>(batch_size, test.size() - begin));
  };
  if (for_each) {
    for_each(batches, evaluate_batch);
  } else {
    for (int64_t b = 0; b < batches; ++b) evaluate_batch(b);
  }
  return combine(scores, test.size());
}

}  // namespace sflsim::supernet
