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
#include "service/collections.h"

namespace argus::policy {

// Purges as of `now_ms`; `who` names the actor in the audit records
// ("retention-job", "cli"). An audit write failure is an error (the faces
// are deleted by then; the error says so).
Result<std::vector<service::PurgeResult>> PurgeOnce(service::CollectionService& collections,
                                                    AuditLog& audit, int64_t now_ms,
                                                    const std::string& who);

class RetentionJob {
 public:
  RetentionJob(service::CollectionService* collections, AuditLog* audit, int interval_s);
  ~RetentionJob();  // stops and joins

 private:
  void Run();
  service::CollectionService* collections_;
  AuditLog* audit_;
  int interval_s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace argus::policy
