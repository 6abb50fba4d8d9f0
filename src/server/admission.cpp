#include "server/admission.h"

#include <malloc.h>

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

Result<std::shared_ptr<void>> MemoryBudget::Reserve(int64_t bytes) {
  auto too_much = [&](int64_t need) {
    return Status(Code::kThrottling,
                  "argus is temporarily unable to process the request: its images need " +
                      std::to_string((need + (1 << 20) - 1) >> 20) +
                      " MiB of decoded memory, more than the server's image memory (" +
                      std::to_string(capacity_ >> 20) + " MiB, --image-memory-mb).");
  };
  if (bytes < 0) bytes = 0;
  const std::thread::id me = std::this_thread::get_id();
  std::unique_lock lock(mutex_);
  auto it = held_.find(me);
  const int64_t held = it == held_.end() ? 0 : it->second;
  if (held + bytes > capacity_) return too_much(held + bytes);
  if (held > 0) {
    // Holding memory already: never queue behind requests that hold none.
    if (used_ + bytes > capacity_) {
      if (holder_waiting_) {
        return Status(Code::kThrottling,
                      "argus is temporarily unable to process the request: the server's image "
                      "memory is in use. Try your call again.");
      }
      holder_waiting_ = true;
      cv_.wait(lock, [&] { return used_ + bytes <= capacity_; });
      holder_waiting_ = false;
    }
  } else {
    const uint64_t ticket = next_ticket_++;
    cv_.wait(lock,
             [&] { return ticket == serving_ && !holder_waiting_ && used_ + bytes <= capacity_; });
    ++serving_;
  }
  used_ += bytes;
  held_[me] += bytes;
  lock.unlock();
  cv_.notify_all();  // the next ticket may fit too
  return std::shared_ptr<void>(static_cast<void*>(this),
                               [this, me, bytes](void*) { Release(me, bytes); });
}

void MemoryBudget::Release(std::thread::id owner, int64_t bytes) {
  {
    std::lock_guard lock(mutex_);
    used_ -= bytes;
    auto it = held_.find(owner);
    if (it != held_.end() && (it->second -= bytes) <= 0) held_.erase(it);
  }
  cv_.notify_all();
  if (trim_bytes_ > 0 && bytes >= trim_bytes_) malloc_trim(0);
}

int64_t MemoryBudget::in_use() const {
  std::lock_guard lock(mutex_);
  return used_;
}

int MemoryBudget::waiting() const {
  std::lock_guard lock(mutex_);
  return int(next_ticket_ - serving_) + (holder_waiting_ ? 1 : 0);
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
