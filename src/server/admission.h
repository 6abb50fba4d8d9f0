#pragma once
// Admission control: a bounded number of requests are analysed at once and a
// bounded number wait; past that a request is refused at once (the server
// answers ThrottlingException) instead of queueing without limit. Per-principal
// token buckets rate-limit each principal (ProvisionedThroughputExceeded).
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <unordered_map>

namespace argus::server {

class Admission {
 public:
  Admission(int workers, int queue) : workers_(workers < 1 ? 1 : workers), queue_(queue < 0 ? 0 : queue) {}

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
