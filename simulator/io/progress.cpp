#include "simulator/io/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace sflsim::cli {

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)), total_(std::max<int64_t>(1, total)), terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t done, const std::string& status) {
  const auto now = std::chrono::steady_clock::now();
  const int tenth = static_cast<int>(10 * done / total_);
  if (terminal_ ? now - last_draw_ < std::chrono::milliseconds(100) : tenth == last_tenth_) return;
  last_draw_ = now;
  last_tenth_ = tenth;
  draw(done, status);
}

void ProgressBar::finish(const std::string& status) {
  draw(total_, status);
  if (terminal_) std::fputc('\n', stderr);
}

void ProgressBar::draw(int64_t done, const std::string& status) {
  constexpr int kWidth = 30;
  const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total_), 0.0, 1.0);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
  std::string bar(static_cast<size_t>(fraction * kWidth), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "%s%s [%s] %3d%%  %.0fs elapsed, ETA %.0fs  %s%s", terminal_ ? "\r" : "", label_.c_str(),
               bar.c_str(), static_cast<int>(fraction * 100), elapsed, eta, status.c_str(),
               terminal_ ? "\x1b[K" : "\n");
  std::fflush(stderr);
}

}  // namespace sflsim::cli
