#pragma once
// The retention purge: deletes every face older than its collection's
// retention period (tag argus:retention-days, default 1095 days) and writes
// one audit record per collection that lost faces. `argus serve` runs it at
// start and then every `interval_s` seconds; `argus retention purge` runs it once.
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "policy/audit.h"

namespace argus::policy {

// What one collection lost to its retention period.
struct PurgeResult {
  std::string collection;
  int64_t retention_days = 0;
  int64_t cutoff_ms = 0;  // faces indexed before this were deleted
  int64_t deleted = 0;
};

// The erasure the retention purge needs, implemented over the collections
// by the composition root.
class Purger {
 public:
  virtual ~Purger() = default;
  // Deletes, in every collection, the faces older than its retention period
  // at `now_ms` (store, index and any snapshot holding them).
  virtual Result<std::vector<PurgeResult>> PurgeExpired(int64_t now_ms) = 0;
};

// Purges as of `now_ms`; `who` names the actor in the audit records
// ("retention-job", "cli"). An audit write failure is an error (the faces
// are deleted by then; the error says so).
Result<std::vector<PurgeResult>> PurgeOnce(Purger& purger, AuditLog& audit, int64_t now_ms,
                                           const std::string& who);

class RetentionJob {
 public:
  RetentionJob(Purger* purger, AuditLog* audit, int interval_s);
  ~RetentionJob();  // stops and joins

 private:
  void Run();
  Purger* purger_;
  AuditLog* audit_;
  int interval_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace argus::policy
