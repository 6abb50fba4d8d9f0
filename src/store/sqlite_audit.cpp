// The SQLite store: the audit log table.
#include "store/sqlite_internal.h"

namespace argus::store::sqlite_impl {

Status SqliteStore::AppendAudit(AuditRecord& r,
                                const std::function<std::string(const AuditRecord&)>& hash) {
  std::lock_guard lock(write_mu_);
  Txn txn(writer_);
  if (!txn.ok()) return SqlError(writer_, "begin");
  ARGUS_RETURN_IF_ERROR(AppendAuditLocked(r, hash));
  ARGUS_RETURN_IF_ERROR(txn.Commit());
  AuditCommitted(r);
  return Status::Ok();
}

void SqliteStore::OnAuditCommitted(std::function<void(const AuditRecord&)> fn) {
  std::lock_guard lock(write_mu_);
  audit_committed_ = std::move(fn);
}

Status SqliteStore::ScanAudit(int64_t after_seq,
                              const std::function<bool(const AuditRecord&)>& fn) {
  Reader rd(this);
  if (!rd.db) return SqlError(nullptr, "open reader");
  Txn txn(rd.db, "BEGIN");
  std::string sql =
      std::string("SELECT ") + kAuditColumns + " FROM audit_log WHERE seq > ? ORDER BY seq";
  Stmt s(rd.db, sql.c_str());
  s.Bind(1, after_seq);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    AuditRecord r;
    r.seq = s.Int(0);
    r.time_ms = s.Int(1);
    r.kind = s.Text(2);
    r.request_id = s.Text(3);
    r.principal = s.Text(4);
    r.org_type = s.Text(5);
    r.purpose = s.Text(6);
    r.case_id = s.Text(7);
    r.authorisation = s.Text(8);
    r.operation = s.Text(9);
    r.op_class = s.Text(10);
    r.collection = s.Text(11);
    r.decision = s.Text(12);
    r.rule = s.Text(13);
    r.threshold_asked = s.OptReal(14);
    r.threshold_applied = s.OptReal(15);
    r.max_results = s.OptInt(16);
    r.human_review = s.Int(17) != 0;
    r.matches = s.OptInt(18);
    r.top_similarity = s.OptReal(19);
    r.outcome = s.Text(20);
    r.detail = s.Text(21);
    r.prev_hash = s.Text(22);
    r.hash = s.Text(23);
    if (!fn(r)) return Status::Ok();
  }
  if (rc != SQLITE_DONE) return SqlError(rd.db, "read audit log");
  return Status::Ok();
}

Result<int64_t> SqliteStore::AuditHighWater() {
  Reader rd(this);
  if (!rd.db) return SqlError(nullptr, "open reader");
  Stmt s(rd.db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'");
  int rc = s.Step();
  if (rc == SQLITE_ROW) return s.Int(0);
  if (rc == SQLITE_DONE) return int64_t(0);
  return SqlError(rd.db, "audit sequence");
}

Result<int64_t> SqliteStore::CountAudit(const std::string& principal, const std::string& operation,
                                        const std::string& decision, int64_t since_ms) {
  Reader rd(this);
  if (!rd.db) return SqlError(nullptr, "open reader");
  Stmt s(rd.db,
         "SELECT COUNT(*) FROM audit_log WHERE principal = ? AND operation = ? AND "
         "decision = ? AND time_ms >= ?");
  s.Bind(1, principal).Bind(2, operation).Bind(3, decision).Bind(4, since_ms);
  if (s.Step() != SQLITE_ROW) return SqlError(rd.db, "count audit records");
  return s.Int(0);
}

// Inside a write transaction (write_mu_ held): assigns r.seq, r.prev_hash
// and r.hash and inserts the record.
Status SqliteStore::AppendAuditLocked(AuditRecord& r,
                                      const std::function<std::string(const AuditRecord&)>& hash) {
  Stmt hw(writer_, "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'");
  int rc = hw.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(writer_, "audit sequence");
  int64_t high = rc == SQLITE_ROW ? hw.Int(0) : 0;
  Stmt last(writer_, "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  rc = last.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(writer_, "audit head");
  r.seq = high + 1;
  r.prev_hash = rc == SQLITE_ROW ? last.Text(0) : "";
  r.hash = hash(r);
  std::string sql = std::string("INSERT INTO audit_log(") + kAuditColumns +
                    ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  Stmt ins(writer_, sql.c_str());
  if (!ins.ok()) return SqlError(writer_, "prepare audit insert");
  ins.Bind(1, r.seq).Bind(2, r.time_ms).Bind(3, r.kind).Bind(4, r.request_id);
  ins.Bind(5, r.principal).Bind(6, r.org_type).Bind(7, r.purpose).Bind(8, r.case_id);
  ins.Bind(9, r.authorisation).Bind(10, r.operation).Bind(11, r.op_class);
  ins.Bind(12, r.collection).Bind(13, r.decision).Bind(14, r.rule);
  ins.Bind(15, r.threshold_asked).Bind(16, r.threshold_applied).Bind(17, r.max_results);
  ins.Bind(18, int64_t(r.human_review)).Bind(19, r.matches).Bind(20, r.top_similarity);
  ins.Bind(21, r.outcome).Bind(22, r.detail).Bind(23, r.prev_hash).Bind(24, r.hash);
  if (ins.Step() != SQLITE_DONE) return SqlError(writer_, "append audit record");
  return Status::Ok();
}

// After the commit of an audit record, write_mu_ still held.
void SqliteStore::AuditCommitted(const AuditRecord& r) {
  if (audit_committed_) audit_committed_(r);
}

}  // namespace argus::store::sqlite_impl
