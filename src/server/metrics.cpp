#include "server/metrics.h"

#include <cstdio>

namespace argus::server {

void Metrics::Observe(const std::string& operation, int http_status, const std::string& error_type,
                      double seconds) {
  std::lock_guard lock(mutex_);
  Op& op = ops_[operation];
  op.by_status[http_status]++;
  op.count++;
  op.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) op.buckets[i]++;
  }
  if (!error_type.empty()) errors_[{operation, error_type}]++;
}

std::string Metrics::Prometheus() const {
  std::string out;
  char buf[1024];
  std::lock_guard lock(mutex_);
  out += "# HELP argus_requests_total Requests answered, by operation and HTTP status.\n";
  out += "# TYPE argus_requests_total counter\n";
  for (const auto& [name, op] : ops_) {
    for (const auto& [status, n] : op.by_status) {
      std::snprintf(buf, sizeof buf, "argus_requests_total{operation=\"%s\",status=\"%d\"} %ld\n",
                    name.c_str(), status, n);
      out += buf;
    }
  }
  out += "# HELP argus_errors_total Error responses, by operation and __type.\n";
  out += "# TYPE argus_errors_total counter\n";
  for (const auto& [key, n] : errors_) {
    std::snprintf(buf, sizeof buf, "argus_errors_total{operation=\"%s\",type=\"%s\"} %ld\n",
                  key.first.c_str(), key.second.c_str(), n);
    out += buf;
  }
  out += "# HELP argus_request_duration_seconds Time from request received to response ready.\n";
  out += "# TYPE argus_request_duration_seconds histogram\n";
  for (const auto& [name, op] : ops_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      std::snprintf(buf, sizeof buf,
                    "argus_request_duration_seconds_bucket{operation=\"%s\",le=\"%g\"} %ld\n",
                    name.c_str(), kBuckets[i], op.buckets[i]);
      out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "argus_request_duration_seconds_bucket{operation=\"%s\",le=\"+Inf\"} %ld\n"
                  "argus_request_duration_seconds_sum{operation=\"%s\"} %.6f\n"
                  "argus_request_duration_seconds_count{operation=\"%s\"} %ld\n",
                  name.c_str(), op.count, name.c_str(), op.sum, name.c_str(), op.count);
    out += buf;
  }
  std::snprintf(buf, sizeof buf,
                "# HELP argus_queue_depth Requests waiting for an analysis worker.\n"
                "# TYPE argus_queue_depth gauge\nargus_queue_depth %d\n"
                "# HELP argus_requests_in_progress Requests being analysed.\n"
                "# TYPE argus_requests_in_progress gauge\nargus_requests_in_progress %d\n"
                "# HELP argus_faces_indexed_total Faces added to collections by IndexFaces.\n"
                "# TYPE argus_faces_indexed_total counter\nargus_faces_indexed_total %ld\n",
                queue_depth_.load(), in_progress_.load(), faces_indexed_.load());
  out += buf;
  if (jobs_set_) {
    std::snprintf(buf, sizeof buf,
                  "# HELP argus_video_jobs Stored-video jobs: queued and running now, succeeded "
                  "and failed since the server started.\n"
                  "# TYPE argus_video_jobs gauge\n"
                  "argus_video_jobs{state=\"queued\"} %lld\n"
                  "argus_video_jobs{state=\"running\"} %lld\n"
                  "argus_video_jobs{state=\"succeeded\"} %lld\n"
                  "argus_video_jobs{state=\"failed\"} %lld\n",
                  static_cast<long long>(jobs_[0].load()), static_cast<long long>(jobs_[1].load()),
                  static_cast<long long>(jobs_[2].load()), static_cast<long long>(jobs_[3].load()));
    out += buf;
  }
  return out;
}

}  // namespace argus::server
