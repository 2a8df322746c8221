#pragma once
// Steps that must run in a fixed order (summing into one accumulator, where
// the order decides the rounding) but whose inputs are computed by chains of
// tasks finishing in any order (see work_pool.hpp).
//
// add() submits a task that waits for the step's inputs (running them on that
// thread if nobody has started them) and then hands the step over; steps run
// in the order they were added, each on the thread that handed over the next
// one in line, so no worker waits for another's chain to finish. Results never
// depend on the number of workers. Costs no virtual time.
// Errors: a step's or an input's exception is rethrown by wait().
// Ownership: a step owns what it captures and is destroyed once it has run
// (so a model it folds is freed then); whatever it captures by reference
// must outlive wait(), which the destructor also calls.
#include "simulator/core/work_pool.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace sflsim::core {

class InOrder {
 public:
  explicit InOrder(WorkPool* pool) : pool_(pool) {}
  ~InOrder();
  InOrder(const InOrder&) = delete;
  InOrder& operator=(const InOrder&) = delete;

  // `step` runs after every ticket in `inputs` is done and every step added
  // before it has run.
  void add(std::vector<WorkTicket> inputs, std::function<void()> step);
  // Blocks until every step added so far has run.
  void wait();

 private:
  void hand_over(size_t index, std::function<void()> step);

  WorkPool* pool_;
  std::vector<WorkTicket> tasks_;
  std::mutex mutex_;
  std::map<size_t, std::function<void()>> waiting_;  // handed over, by index
  size_t next_ = 0;                                   // the next step in line
  bool running_ = false;                              // a thread is running steps
};

}  // namespace sflsim::core
