#include "simulator/core/device.hpp"

#include <algorithm>
#include <stdexcept>

namespace sflsim::core {

struct Device::Canceller {
  Canceller(Device* d, std::uint32_t i, std::uint32_t g) : device(d), index(i), generation(g) {}
  Device* device;
  std::uint32_t index;
  std::uint32_t generation;
  void operator()(asio::cancellation_type_t) const { device->cancel_job(index, generation); }
};

Device::Device(Simulation& sim, DeviceSpec spec)
    : SimObject(sim), spec_(std::move(spec)), meter_(spec_.power, sim.now()) {
  if (spec_.flops_per_s <= 0) throw std::invalid_argument("Device '" + spec_.name + "': flops_per_s must be positive");
  if (spec_.concurrency < 1) throw std::invalid_argument("Device '" + spec_.name + "': concurrency must be >= 1");
  sim.register_meter(spec_.entity, &meter_);
}

Device::~Device() {
  if (simulation().meter_of(spec_.entity) == &meter_) simulation().register_meter(spec_.entity, nullptr);
}

void Device::submit(VoidHandler handler, SimDuration duration, std::int64_t work) {
  const SlotId id = jobs_.take();
  const std::uint32_t index = id.index;
  Job& job = jobs_[index];
  job.running = false;
  job.duration = std::max(duration, SimDuration::zero());
  job.work = work;
  job.actor = simulation().current_actor();
  auto slot = asio::get_associated_cancellation_slot(handler);
  store_handler(job.handler, std::move(handler));
  if (slot.is_connected()) slot.template emplace<Canceller>(this, index, id.generation);
  queue_.push_back(index);
  start_next();
}

void Device::start_next() {
  while (running_ < spec_.concurrency && !queue_.empty()) {
    const std::uint32_t index = queue_.front();
    queue_.pop_front();
    run_job(index);
  }
}

void Device::run_job(std::uint32_t index) {
  Simulation& sim = simulation();
  Job& job = jobs_[index];
  job.running = true;
  ++running_;
  job.interval = meter_.open(Activity::compute, sim.now(), sim.now());
  job.timer = sim.schedule_at(sim.now() + job.duration,
                              {&Device::on_job_done, this, SlotId{index, job.generation}.packed()});
  sim.emit(TraceEvent{sim.now(), spec_.entity, TraceKind::compute_start, job.work});
}

void Device::on_job_done(void* self, std::uint64_t arg) {
  auto& device = *static_cast<Device*>(self);
  const auto index = static_cast<std::uint32_t>(arg);
  asio::get_associated_cancellation_slot(device.jobs_[index].handler).clear();
  device.finish(index, error_code{});
}

void Device::cancel_job(std::uint32_t index, std::uint32_t generation) {
  if (!jobs_.holds({index, generation})) return;
  Job& job = jobs_[index];
  if (job.running) {
    simulation().cancel(job.timer);
  } else {
    queue_.erase(std::find(queue_.begin(), queue_.end(), index));
  }
  finish(index, asio::error::operation_aborted);
}

void Device::finish(std::uint32_t index, error_code ec) {
  Simulation& sim = simulation();
  Job& job = jobs_[index];
  if (job.running) {
    meter_.close(job.interval, sim.now(), sim.now());
    --running_;
    sim.emit(TraceEvent{sim.now(), spec_.entity, TraceKind::compute_end, job.work, EntityId{}, ec.value()});
  }
  VoidHandler handler = std::move(job.handler);
  const ActorId actor = job.actor;
  job.running = false;
  jobs_.release(index);
  sim.complete(std::move(handler), actor, ec);
  start_next();
}

bool Device::at_rest() const {
  return jobs_.none_taken();
}

void Device::describe_waiters(std::vector<std::pair<ActorId, std::string>>& out) const {
  for (const Job& job : jobs_) {
    if (!job.active) continue;
    out.emplace_back(job.actor, (job.running ? "compute on device '" : "compute queue of device '") + spec_.name + "'");
  }
}

}  // namespace sflsim::core
