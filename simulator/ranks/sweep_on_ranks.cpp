#include "simulator/ranks/sweep_on_ranks.hpp"

#include "simulator/core/work_pool.hpp"
#include "simulator/io/cell_owner.hpp"
#include "simulator/run/interrupt.hpp"
#include "simulator/run/run_scenario.hpp"
#include "simulator/scenario/scenario_io.hpp"

#include <atomic>
#include <mutex>
#include <stdexcept>

namespace sflsim::cli {

void RankCellRunner::run(const std::vector<CellJob>& cells, const std::function<void(size_t index)>& finished) {
  std::mutex one_at_a_time;
  std::atomic<int> worker_stopped{0};  // the signal a worker's cell was stopped by
  std::atomic<int> cells_stopped{0}, cells_not_started{0};
  std::vector<core::WorkTicket> tickets;
  {
    // A thread per worker: each waits for the reply of the cell it sent.
    core::WorkPool senders(std::max(1, pool_.live_workers()));
    for (const CellJob& cell : cells) {
      tickets.push_back(senders.submit([this, &cell, &finished, &one_at_a_time, &worker_stopped, &cells_stopped,
                                        &cells_not_started] {
        if (stop_requested() != 0 || worker_stopped.load() != 0) {  // stopping: no new cell
          ++cells_not_started;
          return;
        }
        RankMessage request = rank_message(RankMessageKind::cell);
        request.number = static_cast<std::int64_t>(cell.index);
        request.text = cell.dir.string();
        request.payload = cell.scenario_text;
        request.version = static_cast<std::uint64_t>(cell.checkpoint_every);
        const std::optional<RankMessage> reply = pool_.request(std::move(request), nullptr);
        if (!reply) {  // no worker left: here, one cell at a time
          const std::lock_guard lock(one_at_a_time);
          RunOptions run;
          run.checkpoint_every = cell.checkpoint_every;
          run.resume = true;
          run.out_dir = cell.dir;
          run.scenario_text = cell.scenario_text;
          run.progress = false;
          run.threads = threads_;
          const CellClaim claim(cell.dir);  // a stalled worker that had it can no longer write there
          run_scenario(parse_scenario(cell.scenario_text, cell.dir.string()), run);
        } else if (reply->kind == RankMessageKind::failed) {
          throw std::runtime_error("cell " + cell.dir.string() + " failed on a worker rank: " + reply->text);
        } else if (reply->kind == RankMessageKind::stopped) {
          worker_stopped.store(static_cast<int>(reply->number));
          ++cells_stopped;
          return;
        }
        const std::lock_guard lock(one_at_a_time);
        finished(cell.index);
      }));
    }
  }  // every cell has been answered
  for (const core::WorkTicket& ticket : tickets) ticket.wait();  // rethrows a cell's failure (or a stop here)
  const int signal_number = stop_requested() != 0 ? stop_requested() : worker_stopped.load();
  if (signal_number != 0 && cells_stopped.load() + cells_not_started.load() > 0) {
    throw Interrupted(signal_number, "sweep stopped by signal " + std::to_string(signal_number) + ": " +
                                         std::to_string(cells_stopped.load()) + " cell(s) stopped at a round boundary, " +
                                         std::to_string(cells_not_started.load()) + " not started");
  }
}

}  // namespace sflsim::cli
