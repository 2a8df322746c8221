#pragma once
// A progress bar for long runs on stderr: redrawn in place on a terminal, one
// line per tenth of the work otherwise (CI logs stay short).
#include <chrono>
#include <cstdint>
#include <string>

namespace sflsim::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  // `status` is shown after the bar (e.g. "loss 0.41"); cheap to call every step.
  void update(int64_t done, const std::string& status = {});
  // Ends the bar's line.
  void finish(const std::string& status = {});

 private:
  void draw(int64_t done, const std::string& status);

  std::string label_;
  int64_t total_;
  bool terminal_;
  int last_tenth_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace sflsim::cli
