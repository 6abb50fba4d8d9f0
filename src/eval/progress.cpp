#include "eval/progress.h"

#include <unistd.h>

#include <cstdio>

namespace argus::eval {

Progress::Progress(std::string label, size_t total)
    : label_(std::move(label)), total_(total), tty_(isatty(STDERR_FILENO)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::Tick(size_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? done_ / secs : 0;
  double eta = rate > 0 ? (total_ - done_) / rate : 0;
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done_ < total_) return;
    last_draw_ = now;
    const int width = 30;
    int filled = total_ ? int(width * done_ / total_) : width;
    std::fprintf(stderr, "\r%s [%s%s] %zu/%zu %.1f/s ETA %.0fs ", label_.c_str(),
                 std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done_,
                 total_, rate, eta);
    std::fflush(stderr);
  } else {
    int decile = total_ ? int(10 * done_ / total_) : 10;
    if (decile == last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "%s: %zu/%zu (%.1f/s, ETA %.0fs)\n", label_.c_str(), done_, total_, rate,
                 eta);
  }
}

void Progress::Note(const std::string& line) {
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s\n", line.c_str());
    last_draw_ = start_;  // redraw at the next Tick
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void Progress::Done() {
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace argus::eval
