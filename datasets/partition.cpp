#include "datasets/partition.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

#include "datasets/random.hpp"

namespace sflsim::datasets {
namespace {

void check_clients(int clients, const char* who) {
  if (clients < 1) {
    throw std::invalid_argument(std::string(who) + ": clients must be >= 1, got " +
                                std::to_string(clients));
  }
}

void check_alpha(double alpha, const char* who) {
  if (!(alpha > 0.0) || !std::isfinite(alpha)) {
    throw std::invalid_argument(std::string(who) + ": alpha must be a positive finite number, got " +
                                std::to_string(alpha));
  }
}

// Indices grouped by class (ascending within each class).
std::vector<std::vector<int64_t>> by_class(std::span<const int64_t> labels, int num_classes,
                                           const char* who) {
  if (num_classes < 1) {
    throw std::invalid_argument(std::string(who) + ": num_classes must be >= 1");
  }
  std::vector<std::vector<int64_t>> groups(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    const int64_t y = labels[i];
    if (y < 0 || y >= num_classes) {
      throw std::invalid_argument(std::string(who) + ": label " + std::to_string(y) +
                                  " at index " + std::to_string(i) + " is outside [0, " +
                                  std::to_string(num_classes) + ")");
    }
    groups[static_cast<size_t>(y)].push_back(static_cast<int64_t>(i));
  }
  return groups;
}

std::vector<int64_t> iota_indices(size_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), int64_t{0});
  return v;
}

// Dirichlet(alpha, ..., alpha) over k components, by normalised Gamma draws.
std::vector<double> dirichlet(std::mt19937_64& rng, size_t k, double alpha) {
  std::vector<double> p(k);
  double sum = 0.0;
  for (auto& x : p) {
    x = gamma_draw(rng, alpha);
    sum += x;
  }
  if (!(sum > 0.0)) {
    // Every draw underflowed (tiny alpha): the limit is a one-hot vector.
    std::fill(p.begin(), p.end(), 0.0);
    p[static_cast<size_t>(uniform_below(rng, k))] = 1.0;
    return p;
  }
  for (auto& x : p) x /= sum;
  return p;
}

// Cuts `items` into consecutive pieces of the given sizes (summing to its size)
// and appends piece c to out[c].
void deal(const std::vector<int64_t>& items, const std::vector<size_t>& sizes, ClientIndices& out) {
  size_t pos = 0;
  for (size_t c = 0; c < sizes.size(); ++c) {
    out[c].insert(out[c].end(), items.begin() + static_cast<std::ptrdiff_t>(pos),
                  items.begin() + static_cast<std::ptrdiff_t>(pos + sizes[c]));
    pos += sizes[c];
  }
}

// n split in k near-equal parts (the first n % k get one more).
std::vector<size_t> even_sizes(size_t n, size_t k) {
  std::vector<size_t> s(k, n / k);
  for (size_t i = 0; i < n % k; ++i) ++s[i];
  return s;
}

// n split proportionally to p (sums to 1): floor of the cumulative share, so
// the sizes always sum to n exactly.
std::vector<size_t> proportional_sizes(size_t n, const std::vector<double>& p) {
  std::vector<size_t> s(p.size(), 0);
  double cum = 0.0;
  size_t prev = 0;
  for (size_t c = 0; c < p.size(); ++c) {
    cum += p[c];
    size_t cut = c + 1 == p.size() ? n
                                   : std::min(n, static_cast<size_t>(std::floor(cum * static_cast<double>(n))));
    cut = std::max(cut, prev);
    s[c] = cut - prev;
    prev = cut;
  }
  return s;
}

void sort_all(ClientIndices& parts) {
  for (auto& p : parts) std::sort(p.begin(), p.end());
}

// Gives every empty client one sample taken from the currently largest client
// (lowest client id on ties; the sample taken is that client's largest index).
// Possible whenever total >= clients.
void fill_empty_clients(ClientIndices& parts) {
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  if (total < parts.size()) return;
  for (auto& p : parts) {
    if (!p.empty()) continue;
    auto largest = std::max_element(parts.begin(), parts.end(),
                                    [](const auto& a, const auto& b) { return a.size() < b.size(); });
    auto top = std::max_element(largest->begin(), largest->end());
    p.push_back(*top);
    largest->erase(top);
  }
}

}  // namespace

ClientIndices partition_iid(std::span<const int64_t> labels, int clients, uint64_t seed) {
  check_clients(clients, "partition_iid");
  std::mt19937_64 rng(seed);
  auto perm = iota_indices(labels.size());
  shuffle_in_place(std::span<int64_t>(perm), rng);
  ClientIndices parts(static_cast<size_t>(clients));
  deal(perm, even_sizes(perm.size(), parts.size()), parts);
  sort_all(parts);
  return parts;
}

ClientIndices partition_dirichlet(std::span<const int64_t> labels, int num_classes, int clients,
                                  double alpha, uint64_t seed) {
  check_clients(clients, "partition_dirichlet");
  check_alpha(alpha, "partition_dirichlet");
  auto groups = by_class(labels, num_classes, "partition_dirichlet");
  std::mt19937_64 rng(seed);
  ClientIndices parts(static_cast<size_t>(clients));
  for (auto& g : groups) {
    // Drawn for every class, present or not, so one class's count does not
    // shift the draws of the next.
    const auto p = dirichlet(rng, parts.size(), alpha);
    shuffle_in_place(std::span<int64_t>(g), rng);
    deal(g, proportional_sizes(g.size(), p), parts);
  }
  sort_all(parts);
  fill_empty_clients(parts);
  return parts;
}

ClientIndices partition_shards(std::span<const int64_t> labels, int clients,
                               int classes_per_client, uint64_t seed) {
  check_clients(clients, "partition_shards");
  if (classes_per_client < 1) {
    throw std::invalid_argument("partition_shards: classes_per_client must be >= 1, got " +
                                std::to_string(classes_per_client));
  }
  int64_t max_label = -1;
  for (auto y : labels) max_label = std::max(max_label, y);
  auto groups = by_class(labels, static_cast<int>(max_label + 1), "partition_shards");
  std::vector<size_t> present;  // classes with at least one sample
  for (size_t k = 0; k < groups.size(); ++k) {
    if (!groups[k].empty()) present.push_back(k);
  }
  ClientIndices parts(static_cast<size_t>(clients));
  if (present.empty()) return parts;
  const size_t nc = present.size();
  const size_t k = std::min(static_cast<size_t>(classes_per_client), nc);
  if (static_cast<size_t>(clients) * k < nc) {
    throw std::invalid_argument(
        "partition_shards: " + std::to_string(clients) + " clients x " + std::to_string(k) +
        " classes each cannot cover the " + std::to_string(nc) +
        " classes present; every sample must be assigned");
  }
  std::mt19937_64 rng(seed);
  shuffle_in_place(std::span<size_t>(present), rng);
  std::vector<size_t> client_order(parts.size());
  std::iota(client_order.begin(), client_order.end(), size_t{0});
  shuffle_in_place(std::span<size_t>(client_order), rng);
  // holders[class position] = clients holding that class, in slot order.
  std::vector<std::vector<size_t>> holders(nc);
  for (size_t j = 0; j < client_order.size(); ++j) {
    for (size_t t = 0; t < k; ++t) holders[(j * k + t) % nc].push_back(client_order[j]);
  }
  for (size_t pos = 0; pos < nc; ++pos) {
    auto& g = groups[present[pos]];
    shuffle_in_place(std::span<int64_t>(g), rng);
    const auto sizes = even_sizes(g.size(), holders[pos].size());
    size_t at = 0;
    for (size_t h = 0; h < holders[pos].size(); ++h) {
      auto& dst = parts[holders[pos][h]];
      dst.insert(dst.end(), g.begin() + static_cast<std::ptrdiff_t>(at),
                 g.begin() + static_cast<std::ptrdiff_t>(at + sizes[h]));
      at += sizes[h];
    }
  }
  sort_all(parts);
  return parts;
}

ClientIndices partition_quantity_skew(std::span<const int64_t> labels, int clients, double alpha,
                                      uint64_t seed) {
  check_clients(clients, "partition_quantity_skew");
  check_alpha(alpha, "partition_quantity_skew");
  std::mt19937_64 rng(seed);
  const size_t n = labels.size();
  const size_t m = static_cast<size_t>(clients);
  const auto p = dirichlet(rng, m, alpha);
  std::vector<size_t> sizes;
  if (n >= m) {
    // One sample each, the rest in proportion to p.
    sizes = proportional_sizes(n - m, p);
    for (auto& s : sizes) ++s;
  } else {
    sizes = proportional_sizes(n, p);
  }
  auto perm = iota_indices(n);
  shuffle_in_place(std::span<int64_t>(perm), rng);
  ClientIndices parts(m);
  deal(perm, sizes, parts);
  sort_all(parts);
  return parts;
}

std::vector<std::vector<int64_t>> class_counts(std::span<const int64_t> labels,
                                               const ClientIndices& parts, int num_classes) {
  if (num_classes < 1) throw std::invalid_argument("class_counts: num_classes must be >= 1");
  std::vector<std::vector<int64_t>> counts(parts.size(),
                                           std::vector<int64_t>(static_cast<size_t>(num_classes), 0));
  for (size_t c = 0; c < parts.size(); ++c) {
    for (int64_t i : parts[c]) {
      if (i < 0 || static_cast<size_t>(i) >= labels.size()) {
        throw std::invalid_argument("class_counts: index " + std::to_string(i) +
                                    " is outside the " + std::to_string(labels.size()) + " labels");
      }
      const int64_t y = labels[static_cast<size_t>(i)];
      if (y < 0 || y >= num_classes) {
        throw std::invalid_argument("class_counts: label " + std::to_string(y) + " at index " +
                                    std::to_string(i) + " is outside [0, " +
                                    std::to_string(num_classes) + ")");
      }
      ++counts[c][static_cast<size_t>(y)];
    }
  }
  return counts;
}

double label_skew(std::span<const int64_t> labels, const ClientIndices& parts, int num_classes) {
  const auto counts = class_counts(labels, parts, num_classes);
  std::vector<double> global(static_cast<size_t>(num_classes), 0.0);
  double total = 0.0;
  for (const auto& row : counts) {
    for (size_t k = 0; k < row.size(); ++k) {
      global[k] += static_cast<double>(row[k]);
      total += static_cast<double>(row[k]);
    }
  }
  if (total == 0.0) return 0.0;
  for (auto& g : global) g /= total;
  double skew = 0.0;
  for (const auto& row : counts) {
    double n = 0.0;
    for (auto x : row) n += static_cast<double>(x);
    if (n == 0.0) continue;
    double tv = 0.0;
    for (size_t k = 0; k < row.size(); ++k) tv += std::abs(static_cast<double>(row[k]) / n - global[k]);
    skew += (n / total) * 0.5 * tv;
  }
  return skew;
}

}  // namespace sflsim::datasets
