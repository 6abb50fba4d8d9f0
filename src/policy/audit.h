#pragma once
// The tamper-evident audit log of face search decisions, kept in the store
// (table audit_log of argus.db).
//
// A record holds who asked (principal, organisation type, purpose, case id,
// authorisation reference), what (operation, its class, collection), the
// decision and the rules behind it, the threshold asked and applied, the
// number of matches and the top similarity; never image bytes, descriptors
// or face ids. Each record carries the SHA-256 of its predecessor and its own
// SHA-256 over a canonical form (AuditHash), so Verify finds an altered,
// inserted, reordered or deleted record and names the first bad one.
// Thread-safe (the store serialises appends).
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"
#include "policy/audit_anchor.h"
#include "store/store.h"

namespace argus::policy {

// One record of the log, as the store keeps it (for callers above policy/
// that append their own, such as stream processor matches).
using AuditRecord = store::AuditRecord;

// SHA-256 (hex) of "argus-audit-v1\n" + the record as canonical JSON (sorted
// keys, every field but `hash`, `prev_hash` included).
std::string AuditHash(const store::AuditRecord& r);
// The record as exported (every field, times also as RFC 3339).
nlohmann::json AuditJson(const store::AuditRecord& r);

struct VerifyResult {
  bool ok = true;
  int64_t records = 0;
  int64_t first_bad = 0;  // seq of the first bad record (0 when ok)
  std::string problem;    // what is wrong with it
  int64_t head_seq = 0;   // the last record, when ok
  std::string head_hash;
  std::string note;  // what the pass rests on, when it is worth saying ("" otherwise)
};

class AuditLog {
 public:
  // Without an anchor only the chain is checked.
  explicit AuditLog(store::Store* store) : store_(store) {}
  // With the head anchored in `anchor` (audit_anchor.h). With `writer`, every
  // record the store commits from now on (through Append or with a write,
  // Store::AuditAppend) is appended to the anchor; one writer per store.
  AuditLog(store::Store* store, std::unique_ptr<AuditAnchor> anchor, bool writer);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends durably; sets r.time_ms (now) when 0, r.seq, r.prev_hash, r.hash.
  Status Append(store::AuditRecord& r);
  // With a writer's anchor: when the file is missing, or behind the log by
  // more than its last record, appends the log's head to it (logged), so a
  // log kept before anchoring existed is anchored from its head on.
  Status AdoptHead();
  // Walks the whole chain; with an anchor, the log's head must be the
  // anchored head or the one record after it (a crash between the commit
  // and the anchor append), and a missing anchor file with a non-empty log
  // is an error. `expect_head` ("SEQ:HASH", from an earlier `argus audit
  // head` kept elsewhere) also catches a log cut back or rewritten
  // wholesale after that point.
  VerifyResult Verify(const std::string& expect_head = "");
  // JSON lines of the records with since_ms <= time_ms < until_ms.
  Status Export(int64_t since_ms, int64_t until_ms, std::ostream& out);
  // Up to `limit` records with seq > after_seq, ascending, as AuditJson.
  Result<std::vector<nlohmann::json>> Page(int64_t after_seq, int64_t limit);
  // The seq of the last record (0 for an empty log).
  Result<int64_t> LastSeq();
  // Allowed requests of `operation` by `principal` in the 24 hours up to now_ms.
  Result<int64_t> CountLastDay(const std::string& principal, const std::string& operation,
                               int64_t now_ms);
  // The transparency report over [since_ms, until_ms): requests by
  // organisation type x operation class x decision, thresholds applied,
  // denials by rule, purges and erasures, policies loaded, chain state.
  Result<nlohmann::json> Transparency(int64_t since_ms, int64_t until_ms);

  store::Store* store() { return store_; }

 private:
  store::Store* store_;
  std::unique_ptr<AuditAnchor> anchor_;
  bool writer_ = false;
};

// A readable HTML page of a Transparency() report (self-contained, no scripts).
std::string TransparencyHtml(const nlohmann::json& report);

}  // namespace argus::policy
