#pragma once
// A client's part at nominal speeds, without contention: how long its round
// takes and how long it waits for one cut gradient, summed charge by charge
// with the integer cost functions the devices (core::duration_for) and the
// links (latency + core::transmission_time) use. The strategies set deadlines
// from these (round period = timeout_factor x the slowest client's round;
// gradient deadline = timeout_factor x one batch's round trip).
#include "server/client_profile.hpp"
#include "supernet/architecture.hpp"

#include <cstdint>

namespace sflsim::server {

// The plan down, per batch the client's forward, (split) the activations
// up, the server's step and the gradient down, the client's backward, then
// the upload: exactly the round a client alone with the server is charged.
core::SimDuration nominal_round_time(const supernet::Architecture& arch, const ClientProfile& p, int batch_size,
                                     int64_t server_flops_per_s);

// timeout_factor x one batch's round trip: activations and labels up, the
// server's forward and backward, the gradient down, two latencies.
core::SimDuration gradient_deadline(const supernet::Architecture& arch, const ClientProfile& p, int batch_size,
                                    int64_t server_flops_per_s, double timeout_factor);

// `d` x `factor`, truncated to the nanosecond.
core::SimDuration scaled(core::SimDuration d, double factor);

}  // namespace sflsim::server
