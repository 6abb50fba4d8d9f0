#include "server/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

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
      std::snprintf(buf, sizeof buf, "argus_requests_total{operation=\"%s\",code=\"%d\"} %ld\n",
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
  if (!version_.empty()) {
    out += "# HELP argus_build_info The running build; the value is always 1.\n";
    out += "# TYPE argus_build_info gauge\n";
    out += "argus_build_info{version=\"" + version_ + "\"} 1\n";
  }
  out += ProcessMetrics();
  return out;
}

std::string ProcessMetrics() {
  const double ticks = double(sysconf(_SC_CLK_TCK));
  const double page = double(sysconf(_SC_PAGESIZE));
  // /proc/self/stat: fields after the parenthesised command name; utime is
  // field 14, stime 15, starttime 22, rss 24 (pages).
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  if (f.size() < 22) return "";  // f[0] is field 3
  double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  double start_ticks = std::stod(f[19]);
  double rss = std::stod(f[21]) * page;
  double boot = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  long fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++fds;
    closedir(d);
    --fds;  // the directory being read
  }
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                "seconds.\n# TYPE process_cpu_seconds_total counter\n"
                "process_cpu_seconds_total %.2f\n"
                "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                "# TYPE process_resident_memory_bytes gauge\n"
                "process_resident_memory_bytes %.0f\n"
                "# HELP process_open_fds Number of open file descriptors.\n"
                "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n"
                "# HELP process_start_time_seconds Start time of the process since unix epoch in "
                "seconds.\n# TYPE process_start_time_seconds gauge\n"
                "process_start_time_seconds %.2f\n",
                cpu, rss, fds, boot + start_ticks / ticks);
  return buf;
}

}  // namespace argus::server
