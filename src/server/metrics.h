#pragma once
// Server metrics in Prometheus's text format (GET /metrics): requests and
// latency histograms per operation (label `code`: the HTTP status), errors by type, queue depth,
// requests in progress, faces indexed. Thread-safe; labels come from a bounded set (operation names
// of the model, error types), never from raw input.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace argus::server {

class Metrics {
 public:
  // One answered request. `operation` must come from a bounded set.
  void Observe(const std::string& operation, int http_status, const std::string& error_type,
               double seconds);
  void AddFacesIndexed(long n) { faces_indexed_ += n; }
  // Gauges read at scrape time.
  void SetGauges(int queue_depth, int in_progress) {
    queue_depth_ = queue_depth;
    in_progress_ = in_progress;
  }
  // Stored-video jobs, read at scrape time (absent until set).
  void SetJobs(int64_t queued, int64_t running, int64_t succeeded, int64_t failed) {
    jobs_[0] = queued, jobs_[1] = running, jobs_[2] = succeeded, jobs_[3] = failed;
    jobs_set_ = true;
  }
  // argus_build_info{version=...} 1.
  void SetVersion(const std::string& version) { version_ = version; }
  // Everything, with the process metrics (CPU, RSS, open fds, start time)
  // read from /proc at scrape time.
  std::string Prometheus() const;

  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

 private:
  struct Op {
    std::map<int, long> by_status;
    std::array<long, kBuckets.size()> buckets{};
    long count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Op> ops_;
  std::map<std::pair<std::string, std::string>, long> errors_;  // (operation, type)
  std::atomic<long> faces_indexed_{0};
  std::atomic<int> queue_depth_{0}, in_progress_{0};
  std::array<std::atomic<int64_t>, 4> jobs_{};
  std::atomic<bool> jobs_set_{false};
  std::string version_;
};

// process_* metrics of this process in Prometheus's text format (Linux /proc).
std::string ProcessMetrics();

}  // namespace argus::server
