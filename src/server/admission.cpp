#include "server/admission.h"

#include <algorithm>

namespace argus::server {

bool Admission::Enter() {
  std::unique_lock lock(mutex_);
  if (running_ < workers_ && waiting_ == 0) {
    ++running_;
    return true;
  }
  if (waiting_ >= queue_) return false;
  ++waiting_;
  cv_.wait(lock, [&] { return running_ < workers_; });
  --waiting_;
  ++running_;
  return true;
}

void Admission::Leave() {
  {
    std::lock_guard lock(mutex_);
    --running_;
  }
  cv_.notify_one();
}

int Admission::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

int Admission::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

bool RateLimiter::Allow(const std::string& key, double rate) {
  if (rate <= 0) return true;
  double burst = burst_ > 0 ? burst_ : std::max(1.0, rate);
  auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst, now});
  Bucket& b = it->second;
  if (!fresh) {
    double dt = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst, b.tokens + dt * rate);
    b.last = now;
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

}  // namespace argus::server
