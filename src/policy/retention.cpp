#include "policy/retention.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>

#include "core/log.h"
#include "policy/policy.h"

namespace argus::policy {

Result<std::vector<PurgeResult>> PurgeOnce(Purger& purger, AuditLog& audit, int64_t now_ms,
                                           const std::string& who) {
  auto purged = purger.PurgeExpired(now_ms);
  if (!purged.ok()) return purged.status();
  for (const auto& p : purged.value()) {
    if (p.deleted == 0) continue;
    store::AuditRecord r;
    r.kind = "purge";
    r.principal = who;
    r.operation = "RetentionPurge";
    r.op_class = OpClassName(OpClass::kAdmin);
    r.collection = p.collection;
    r.matches = p.deleted;
    r.outcome = "ok";
    r.detail = std::to_string(p.deleted) + " faces indexed before " + FormatTime(p.cutoff_ms) +
               " deleted (retention " + std::to_string(p.retention_days) + " days)";
    Status st = audit.Append(r);
    if (!st.ok()) {
      return Status(st.code(), "retention purge deleted " + std::to_string(p.deleted) +
                                   " faces from " + p.collection +
                                   " but could not record it in the audit log: " + st.message());
    }
    log::Info("retention: collection " + p.collection + ": " + r.detail);
  }
  return purged;
}

RetentionJob::RetentionJob(Purger* purger, AuditLog* audit, int interval_s)
    : purger_(purger), audit_(audit), interval_s_(interval_s) {
  thread_ = std::thread([this] { Run(); });
}

RetentionJob::~RetentionJob() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RetentionJob::Run() {
  // Signals are for the thread that serves.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    auto r = PurgeOnce(*purger_, *audit_, now, "retention-job");
    if (!r.ok()) log::Error("retention: " + r.status().message());
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(interval_s_), [this] { return stop_; });
  }
}

}  // namespace argus::policy
