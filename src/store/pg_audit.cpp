// The PostgreSQL store: the audit log (one chain for every node: each
// append locks the head row) and the tenancy grants.
#include "store/pg_internal.h"

namespace argus::store::pg_impl {

Status PgStore::AppendAuditIn(Conn& c, AuditRecord& r,
                              const std::function<std::string(const AuditRecord&)>& hash) {
  // Held to the commit: appends from every node are serialised here.
  auto head = c.Exec("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE");
  if (!head.ok()) return head.status();
  if (head->size() == 0) return Internal("store: the audit head row is missing");
  auto last = c.Exec("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (!last.ok()) return last.status();
  r.seq = head->Int(0, 0) + 1;
  r.prev_hash = last->size() ? last->Text(0, 0) : "";
  r.hash = hash(r);
  auto ins = c.Exec(std::string("INSERT INTO audit_log (") + kAuditColumns +
                        ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,"
                        "$18,$19,$20,$21,$22,$23,$24)",
                    {r.seq,
                     r.time_ms,
                     r.kind,
                     r.request_id,
                     r.principal,
                     r.org_type,
                     r.purpose,
                     r.case_id,
                     r.authorisation,
                     r.operation,
                     r.op_class,
                     r.collection,
                     r.decision,
                     r.rule,
                     Param::Opt(r.threshold_asked),
                     Param::Opt(r.threshold_applied),
                     Param::Opt(r.max_results),
                     r.human_review,
                     Param::Opt(r.matches),
                     Param::Opt(r.top_similarity),
                     r.outcome,
                     r.detail,
                     r.prev_hash,
                     r.hash});
  if (!ins.ok()) return ins.status();
  auto up = c.Exec("UPDATE audit_head SET seq = $1 WHERE id = 1", {r.seq});
  return up.ok() ? Status::Ok() : up.status();
}

Status PgStore::AppendAudit(AuditRecord& r,
                            const std::function<std::string(const AuditRecord&)>& hash) {
  std::lock_guard lock(audit_mu_);
  ARGUS_RETURN_IF_ERROR(Txn([&](Conn& c) { return AppendAuditIn(c, r, hash); }));
  if (audit_committed_) audit_committed_(r);
  return Status::Ok();
}

void PgStore::OnAuditCommitted(std::function<void(const AuditRecord&)> fn) {
  std::lock_guard lock(audit_mu_);
  audit_committed_ = std::move(fn);
}

Status PgStore::ScanAudit(int64_t after_seq, const std::function<bool(const AuditRecord&)>& fn) {
  // Pages in one snapshot; stops when fn says so.
  return Txn(
      [&](Conn& c) -> Status {
        int64_t after = after_seq;
        for (;;) {
          auto rows = c.Exec(std::string("SELECT ") + kAuditColumns +
                                 " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 4096",
                             {after});
          if (!rows.ok()) return rows.status();
          const Rows& s = rows.value();
          for (int i = 0; i < s.size(); ++i) {
            AuditRecord r;
            r.seq = s.Int(i, 0);
            r.time_ms = s.Int(i, 1);
            r.kind = s.Text(i, 2);
            r.request_id = s.Text(i, 3);
            r.principal = s.Text(i, 4);
            r.org_type = s.Text(i, 5);
            r.purpose = s.Text(i, 6);
            r.case_id = s.Text(i, 7);
            r.authorisation = s.Text(i, 8);
            r.operation = s.Text(i, 9);
            r.op_class = s.Text(i, 10);
            r.collection = s.Text(i, 11);
            r.decision = s.Text(i, 12);
            r.rule = s.Text(i, 13);
            r.threshold_asked = s.OptReal(i, 14);
            r.threshold_applied = s.OptReal(i, 15);
            r.max_results = s.OptInt(i, 16);
            r.human_review = s.Bool(i, 17);
            r.matches = s.OptInt(i, 18);
            r.top_similarity = s.OptReal(i, 19);
            r.outcome = s.Text(i, 20);
            r.detail = s.Text(i, 21);
            r.prev_hash = s.Text(i, 22);
            r.hash = s.Text(i, 23);
            after = r.seq;
            if (!fn(r)) return Status::Ok();
          }
          if (s.size() < 4096) return Status::Ok();
        }
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Result<int64_t> PgStore::AuditHighWater() {
  int64_t high = 0;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec("SELECT seq FROM audit_head WHERE id = 1");
    if (!r.ok()) return r.status();
    high = r->size() ? r->Int(0, 0) : 0;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return high;
}

Result<int64_t> PgStore::CountAudit(const std::string& principal, const std::string& operation,
                                    const std::string& decision, int64_t since_ms) {
  int64_t n = 0;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(
        "SELECT COUNT(*) FROM audit_log WHERE principal = $1 AND operation = $2 AND "
        "decision = $3 AND time_ms >= $4",
        {principal, operation, decision, since_ms});
    if (!r.ok()) return r.status();
    n = r->Int(0, 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

// ------------------------------------------------------------ grants

namespace {

Result<std::vector<CollectionGrant>> SelectGrants(PgStore* s, const char* sql,
                                                  const std::string& key) {
  std::vector<CollectionGrant> out;
  Status st = s->With([&](Conn& c) -> Status {
    auto r = c.Exec(sql, {key});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i)
      out.push_back({r->Text(i, 0), r->Text(i, 1), r->Text(i, 2)});
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status Check(const Result<Rows>& r) { return r.ok() ? Status::Ok() : r.status(); }

}  // namespace

Status PgStore::SetCollectionOwner(const std::string& collection, const std::string& principal) {
  return Txn([&](Conn& c) -> Status {
    ARGUS_RETURN_IF_ERROR(
        Check(c.Exec("DELETE FROM collection_grants WHERE collection = $1", {collection})));
    return Check(c.Exec(
        "INSERT INTO collection_grants (collection, principal, access) VALUES ($1, $2, 'owner')",
        {collection, principal}));
  });
}

Status PgStore::GrantCollection(const std::string& collection, const std::string& principal,
                                const std::string& access) {
  if (access != "owner" && access != "full" && access != "read") {
    return InvalidParameter("access must be owner, full or read, got '" + access + "'");
  }
  return Txn([&](Conn& c) -> Status {
    return Check(
        c.Exec("INSERT INTO collection_grants (collection, principal, access) VALUES ($1, $2, $3) "
               "ON CONFLICT (collection, principal) DO UPDATE SET access = excluded.access",
               {collection, principal, access}));
  });
}

Status PgStore::RevokeCollection(const std::string& collection, const std::string& principal) {
  return Txn([&](Conn& c) -> Status {
    return Check(c.Exec("DELETE FROM collection_grants WHERE collection = $1 AND principal = $2",
                        {collection, principal}));
  });
}

Status PgStore::DropCollectionGrants(const std::string& collection) {
  return Txn([&](Conn& c) -> Status {
    return Check(c.Exec("DELETE FROM collection_grants WHERE collection = $1", {collection}));
  });
}

Result<std::vector<CollectionGrant>> PgStore::GrantsOfCollection(const std::string& collection) {
  return SelectGrants(
      this,
      "SELECT collection, principal, access FROM collection_grants WHERE collection = $1 "
      "ORDER BY principal",
      collection);
}

Result<std::vector<CollectionGrant>> PgStore::GrantsOfPrincipal(const std::string& principal) {
  return SelectGrants(
      this,
      "SELECT collection, principal, access FROM collection_grants WHERE principal = $1 "
      "ORDER BY collection",
      principal);
}

}  // namespace argus::store::pg_impl
