#pragma once
// Time sources: wall-clock time for records, a steady clock for durations.
#include <chrono>
#include <cstdint>

namespace argus {

using SteadyClock = std::chrono::steady_clock;

// Wall-clock time in milliseconds since the Unix epoch.
inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A monotonic time point, for measuring durations.
inline SteadyClock::time_point SteadyNow() { return SteadyClock::now(); }

// Seconds elapsed since a SteadyNow() time point.
inline double SecondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

}  // namespace argus
