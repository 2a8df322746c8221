#pragma once
// Splitting a training set among clients. Torch-free: partitioners see only the
// labels and return, per client, the indices of its samples (ascending) --
// never copies of the data.
//
// Every partitioner is deterministic from its seed (all draws go through
// datasets/random.hpp on std::mt19937_64, so results do not depend on the
// standard library), and assigns every index in [0, labels.size()) to exactly
// one client. Bad arguments (no clients, alpha <= 0, a label outside
// [0, num_classes), ...) throw std::invalid_argument.
#include <cstdint>
#include <span>
#include <vector>

namespace sflsim::datasets {

// result[c] = the sample indices of client c, ascending.
using ClientIndices = std::vector<std::vector<int64_t>>;

// IID: a seeded permutation cut into `clients` near-equal parts (sizes differ by
// at most one).
ClientIndices partition_iid(std::span<const int64_t> labels, int clients, uint64_t seed);

// Label skew: for each class, proportions over clients drawn from
// Dirichlet(alpha, ..., alpha), and that class's (shuffled) samples cut at the
// cumulative proportions. Small alpha -> each client sees few classes; large
// alpha -> close to IID. When labels.size() >= clients, every client ends with
// at least one sample (an empty client takes one sample from the largest
// client).
ClientIndices partition_dirichlet(std::span<const int64_t> labels, int num_classes, int clients,
                                  double alpha, uint64_t seed);

// Pathological non-IID (McMahan et al.'s "shards", made exact): every client
// holds at most `classes_per_client` classes. The classes present are put in a
// random order; client j (clients also in random order) takes the
// `classes_per_client` consecutive classes starting at position
// j*classes_per_client (cyclically), so every class is held by floor or ceil of
// clients*classes_per_client/num_present clients; each class's samples are
// shuffled and cut into that many near-equal shards. Requires
// clients * classes_per_client >= number of classes present (otherwise some
// samples could not be assigned) and classes_per_client >= 1; a
// classes_per_client above the number of classes present is clamped.
ClientIndices partition_shards(std::span<const int64_t> labels, int clients,
                               int classes_per_client, uint64_t seed);

// Quantity skew: client sizes proportional to a Dirichlet(alpha) draw (each
// client gets at least one sample when labels.size() >= clients), labels IID
// (a seeded permutation cut at those sizes).
ClientIndices partition_quantity_skew(std::span<const int64_t> labels, int clients, double alpha,
                                      uint64_t seed);

// Label skew of a partition: the sample-weighted mean total-variation distance
// between each client's label distribution and the pooled distribution of all
// assigned samples,
//     sum_c (n_c / n) * 1/2 * sum_k |p_c(k) - p(k)|,
// in [0, 1): 0 for identical label mixes, near 1 - p(k) for single-class
// clients. Empty clients contribute nothing.
double label_skew(std::span<const int64_t> labels, const ClientIndices& parts, int num_classes);

// Per-client class counts: result[c][k] = samples of class k held by client c.
std::vector<std::vector<int64_t>> class_counts(std::span<const int64_t> labels,
                                               const ClientIndices& parts, int num_classes);

}  // namespace sflsim::datasets
