#pragma once
// Progress of a long command on stderr (evaluations, collections index,
// video analyse): a redrawn bar with rate and ETA on a terminal, plain lines
// (every 10%) otherwise.
#include <chrono>
#include <string>

namespace argus::eval {

class Progress {
 public:
  Progress(std::string label, size_t total);
  void Tick(size_t n = 1);
  // A message line (a failed item): on a terminal it replaces the bar's
  // line, and the bar is drawn again at the next Tick.
  void Note(const std::string& line);
  void Done();

 private:
  std::string label_;
  size_t total_, done_ = 0;
  int last_decile_ = -1;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace argus::eval
