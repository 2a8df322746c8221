// Partitioners (torch-free) and the portable random draws under them.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "datasets/partition.hpp"
#include "datasets/random.hpp"

using namespace sflsim::datasets;

namespace {

// 10 classes x 500 samples, interleaved (label of i = i % 10) like a shuffled
// real dataset, plus a little imbalance: the last 37 samples are class 3.
std::vector<int64_t> make_labels() {
  std::vector<int64_t> y(5000);
  for (size_t i = 0; i < y.size(); ++i) y[i] = static_cast<int64_t>(i % 10);
  for (int i = 0; i < 37; ++i) y.push_back(3);
  return y;
}

// Every index in [0, n) exactly once; each list ascending.
void check_cover(const ClientIndices& parts, size_t n) {
  std::vector<int> seen(n, 0);
  for (const auto& p : parts) {
    CHECK(std::is_sorted(p.begin(), p.end()));
    for (int64_t i : p) {
      REQUIRE(i >= 0);
      REQUIRE(static_cast<size_t>(i) < n);
      ++seen[static_cast<size_t>(i)];
    }
  }
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
}

size_t min_size(const ClientIndices& p) {
  size_t m = SIZE_MAX;
  for (const auto& c : p) m = std::min(m, c.size());
  return m;
}

size_t max_size(const ClientIndices& p) {
  size_t m = 0;
  for (const auto& c : p) m = std::max(m, c.size());
  return m;
}

}  // namespace

TEST_CASE("portable random draws", "[datasets][partition][random]") {
  std::mt19937_64 rng(7);
  // uniform_below stays in range and hits every value.
  std::vector<int> hist(7, 0);
  for (int i = 0; i < 7000; ++i) {
    const auto v = uniform_below(rng, 7);
    REQUIRE(v < 7);
    ++hist[v];
  }
  for (int h : hist) CHECK(h > 850);  // expected 1000 each
  // Gamma(shape) has mean = variance = shape.
  for (double shape : {0.1, 0.5, 1.0, 3.0, 100.0}) {
    double s = 0.0;
    double s2 = 0.0;
    const int n = 40000;
    for (int i = 0; i < n; ++i) {
      const double g = gamma_draw(rng, shape);
      REQUIRE(g >= 0.0);
      s += g;
      s2 += g * g;
    }
    const double mean = s / n;
    const double var = s2 / n - mean * mean;
    INFO("shape " << shape << " mean " << mean << " var " << var);
    CHECK(mean == Approx(shape).epsilon(0.05));
    CHECK(var == Approx(shape).epsilon(0.15));
  }
  // Normal: mean 0, variance 1.
  double s = 0.0;
  double s2 = 0.0;
  for (int i = 0; i < 40000; ++i) {
    const double z = standard_normal(rng);
    s += z;
    s2 += z * z;
  }
  CHECK(std::abs(s / 40000) < 0.03);
  CHECK(s2 / 40000 == Approx(1.0).epsilon(0.03));
  // Pure integer arithmetic on mt19937_64: pinned values (same on every
  // standard library, since mt19937_64's output is specified).
  std::mt19937_64 r1(1);
  std::vector<uint64_t> draws;
  for (int i = 0; i < 5; ++i) draws.push_back(uniform_below(r1, 1000));
  std::mt19937_64 r2(1);
  std::vector<uint64_t> direct;
  for (int i = 0; i < 5; ++i) direct.push_back(r2() % 1000);  // no rejection at n = 1000 here
  CHECK(draws == direct);
}

TEST_CASE("IID partition", "[datasets][partition]") {
  const auto y = make_labels();
  const auto a = partition_iid(y, 7, 11);
  REQUIRE(a.size() == 7);
  check_cover(a, y.size());
  CHECK(max_size(a) - min_size(a) <= 1);  // 5037 = 7 * 719 + 4
  CHECK(min_size(a) == 719);
  CHECK(a == partition_iid(y, 7, 11));
  CHECK(a != partition_iid(y, 7, 12));
  CHECK(label_skew(y, a, 10) < 0.05);
  // More clients than samples: some are empty, none duplicated.
  const std::vector<int64_t> tiny{0, 1, 2};
  const auto t = partition_iid(tiny, 5, 1);
  check_cover(t, 3);
  CHECK(min_size(t) == 0);
}

TEST_CASE("Dirichlet label skew", "[datasets][partition]") {
  const auto y = make_labels();
  const auto skewed = partition_dirichlet(y, 10, 20, 0.1, 5);
  const auto mild = partition_dirichlet(y, 10, 20, 100.0, 5);
  check_cover(skewed, y.size());
  check_cover(mild, y.size());
  CHECK(skewed == partition_dirichlet(y, 10, 20, 0.1, 5));
  CHECK(skewed != partition_dirichlet(y, 10, 20, 0.1, 6));
  CHECK(min_size(skewed) >= 1);
  // label_skew = sample-weighted mean total-variation distance between each
  // client's label distribution and the pooled one. Measured with seed 5
  // (seeds 5-8 give 0.670-0.723 and 0.034-0.036): alpha = 0.1 -> 0.6699,
  // alpha = 100 -> 0.0344. (A random IID split into 20 clients gives ~0.075
  // from sampling noise alone; Dirichlet(100) is lower because it splits each
  // class separately.) The pinned values hold on any standard library; the
  // margin allows for last-ulp differences in libm's log/pow.
  const double s_skewed = label_skew(y, skewed, 10);
  const double s_mild = label_skew(y, mild, 10);
  INFO("label_skew alpha=0.1: " << s_skewed << ", alpha=100: " << s_mild);
  CHECK(s_skewed == Approx(0.6699).margin(5e-4));
  CHECK(s_mild == Approx(0.0344).margin(5e-4));
  CHECK(s_skewed > 0.6);
  CHECK(s_mild < 0.08);
  CHECK(s_skewed > 5 * s_mild);
  // With alpha = 0.1 most clients hold few classes.
  const auto counts = class_counts(y, skewed, 10);
  int few = 0;
  for (const auto& row : counts) {
    int64_t top = *std::max_element(row.begin(), row.end());
    int64_t n = std::accumulate(row.begin(), row.end(), int64_t{0});
    if (top * 2 >= n) ++few;  // one class is at least half of the client's data
  }
  CHECK(few >= 14);
  // Every client gets at least one sample even in extreme cases.
  const auto extreme = partition_dirichlet(std::span(y).first(300), 10, 100, 0.01, 3);
  check_cover(extreme, 300);
  CHECK(min_size(extreme) == 1);
  // Bad labels and arguments are rejected.
  CHECK_THROWS_AS(partition_dirichlet(y, 3, 4, 0.5, 1), std::invalid_argument);
  CHECK_THROWS_AS(partition_dirichlet(y, 10, 4, 0.0, 1), std::invalid_argument);
  CHECK_THROWS_AS(partition_dirichlet(y, 10, 0, 0.5, 1), std::invalid_argument);
}

TEST_CASE("shards: at most k classes per client", "[datasets][partition]") {
  const auto y = make_labels();
  for (int k : {1, 2, 3}) {
    const auto p = partition_shards(y, 20, k, 9);
    REQUIRE(p.size() == 20);
    check_cover(p, y.size());
    CHECK(p == partition_shards(y, 20, k, 9));
    CHECK(p != partition_shards(y, 20, k, 10));
    const auto counts = class_counts(y, p, 10);
    std::vector<int> holders(10, 0);
    for (const auto& row : counts) {
      const auto classes = std::count_if(row.begin(), row.end(), [](int64_t c) { return c > 0; });
      CHECK(classes <= k);
      CHECK(classes >= 1);
      for (size_t c = 0; c < row.size(); ++c) holders[c] += row[c] > 0 ? 1 : 0;
    }
    // 20 * k slots over 10 classes: each class is held by exactly 2k clients.
    for (int h : holders) CHECK(h == 2 * k);
  }
  // k = 2: classic pathological split, strongly skewed: every client holds
  // two classes in equal parts (TV distance 0.8 from the pooled mix).
  CHECK(label_skew(y, partition_shards(y, 20, 2, 9), 10) == Approx(0.8).margin(2e-3));
  // 3 clients x 2 classes cannot cover 10 classes without dropping samples.
  CHECK_THROWS_AS(partition_shards(y, 3, 2, 1), std::invalid_argument);
  CHECK_THROWS_AS(partition_shards(y, 3, 0, 1), std::invalid_argument);
}

TEST_CASE("quantity skew: sizes skewed, labels IID", "[datasets][partition]") {
  const auto y = make_labels();
  const auto p = partition_quantity_skew(y, 10, 0.5, 4);
  check_cover(p, y.size());
  CHECK(p == partition_quantity_skew(y, 10, 0.5, 4));
  CHECK(p != partition_quantity_skew(y, 10, 0.5, 5));
  CHECK(min_size(p) >= 1);
  CHECK(max_size(p) > 4 * min_size(p));
  // Large alpha: near-equal sizes.
  const auto even = partition_quantity_skew(y, 10, 1e4, 4);
  check_cover(even, y.size());
  CHECK(max_size(even) < 1.1 * static_cast<double>(min_size(even)));
  // Sizes are skewed but label mixes are not (beyond sampling noise on the
  // larger clients).
  CHECK(label_skew(y, p, 10) < 0.1);
  // 3 samples over 5 clients: no duplicates.
  const std::vector<int64_t> tiny{0, 1, 1};
  check_cover(partition_quantity_skew(tiny, 5, 1.0, 1), 3);
}

TEST_CASE("label_skew exact values", "[datasets][partition]") {
  const std::vector<int64_t> y{0, 0, 1, 1};
  CHECK(label_skew(y, {{0, 1}, {2, 3}}, 2) == 0.5);
  CHECK(label_skew(y, {{0, 2}, {1, 3}}, 2) == 0.0);
  CHECK(label_skew(y, {{0, 2}, {1, 3}, {}}, 2) == 0.0);
  // Pooled (0.75, 0.25); client 0 all class 0 (TV 0.25, weight 3/4), client 1
  // all class 1 (TV 0.75, weight 1/4): 0.1875 + 0.1875.
  const std::vector<int64_t> y2{0, 0, 0, 1};
  CHECK(label_skew(y2, {{0, 1, 2}, {3}}, 2) == Approx(0.375).epsilon(1e-12));
  CHECK_THROWS_AS(label_skew(y2, {{4}}, 2), std::invalid_argument);
}
