#pragma once
// Progress of a long evaluation on stderr: a redrawn bar with rate and ETA on
// a terminal, plain lines (every 10%) otherwise.
#include <chrono>
#include <string>

namespace argus::eval {

class Progress {
 public:
  Progress(std::string label, size_t total);
  void Tick(size_t n = 1);
  void Done();

 private:
  std::string label_;
  size_t total_, done_ = 0;
  int last_decile_ = -1;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace argus::eval
