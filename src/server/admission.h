#pragma once
// Admission control: a bounded number of requests are analysed at once and a
// bounded number wait; past that a request is refused at once (the server
// answers ThrottlingException) instead of queueing without limit. Per-principal
// token buckets rate-limit each principal (ProvisionedThroughputExceeded).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "core/image.h"

namespace argus::server {

class Admission {
 public:
  Admission(int workers, int queue)
      : workers_(workers < 1 ? 1 : workers), queue_(queue < 0 ? 0 : queue) {}

  // Waits for a worker slot; false at once when `queue` requests already wait.
  bool Enter();
  void Leave();
  int waiting() const;
  int running() const;

 private:
  const int workers_, queue_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int running_ = 0, waiting_ = 0;
};

// Admits a request while it holds a slot.
class AdmissionTicket {
 public:
  explicit AdmissionTicket(Admission& a) : a_(a), admitted_(a.Enter()) {}
  ~AdmissionTicket() {
    if (admitted_) a_.Leave();
  }
  bool admitted() const { return admitted_; }

 private:
  Admission& a_;
  bool admitted_;
};

// Admission by decoded-image memory: at most `capacity` bytes of decoded
// images are held at once across all requests. A request waits (first come,
// first served) until its image fits; a request that already holds an image
// (CompareFaces' second one) takes it at once when it fits, else waits ahead
// of everyone when no other such request waits, else is refused; a request
// whose images cannot fit together even alone is refused at once
// (ThrottlingException). No request that holds memory waits behind one that
// holds none, so waiting always ends.
// --image-memory-mb: the default holds 4 images of 25 MP (or 2 of 50 MP)
// decoded at once; the least holds one image of kMaxImagePixels.
inline constexpr int kDefaultImageMemoryMiB = 300;
inline constexpr int kMinImageMemoryMiB =
    int((kMaxImagePixels * kDecodedBytesPerPixel + (1 << 20) - 1) >> 20);
// Images from this size on hand freed heap memory back when released.
inline constexpr int64_t kTrimAfterBytes = 4'000'000 * kDecodedBytesPerPixel;

class MemoryBudget : public ImageMemory {
 public:
  // `trim_bytes` > 0: after a reservation of at least that many bytes ends,
  // freed heap memory is handed back to the system (glibc malloc_trim).
  explicit MemoryBudget(int64_t capacity, int64_t trim_bytes = 0)
      : capacity_(capacity), trim_bytes_(trim_bytes) {}

  Result<std::shared_ptr<void>> Reserve(int64_t bytes) override;
  int64_t capacity() const { return capacity_; }
  int64_t in_use() const;
  int waiting() const;

 private:
  void Release(std::thread::id owner, int64_t bytes);

  const int64_t capacity_, trim_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int64_t used_ = 0;
  uint64_t next_ticket_ = 0, serving_ = 0;   // first come, first served among fresh requests
  bool holder_waiting_ = false;              // a request holding memory waits for more
  std::map<std::thread::id, int64_t> held_;  // bytes held by each request thread
};

class RateLimiter {
 public:
  // `burst` <= 0 means max(1, rate).
  explicit RateLimiter(double burst) : burst_(burst) {}

  // Takes one token from `key`'s bucket, refilled at `rate` per second.
  // rate <= 0: unlimited.
  bool Allow(const std::string& key, double rate);

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace argus::server
