// The PostgreSQL store: jobs and their results.
#include <algorithm>

#include "store/pg_internal.h"

namespace argus::store::pg_impl {

namespace {

constexpr const char* kJobColumns =
    "id, api, owner, request, client_token, job_tag, notification, state, queued, "
    "status_message, progress, metadata, created_ms, started_ms, completed_ms, result_count, "
    "attempts, cancel_requested";

JobRecord ReadJob(const Rows& s, int i) {
  JobRecord j;
  j.id = s.Text(i, 0);
  j.api = s.Text(i, 1);
  j.owner = s.Text(i, 2);
  j.request = s.Text(i, 3);
  j.client_token = s.Text(i, 4);
  j.job_tag = s.Text(i, 5);
  j.notification = s.Text(i, 6);
  j.state = s.Text(i, 7);
  j.queued = s.Bool(i, 8);
  j.status_message = s.Text(i, 9);
  j.progress = s.Real(i, 10);
  j.metadata = s.Text(i, 11);
  j.created_ms = s.Int(i, 12);
  j.started_ms = s.Int(i, 13);
  j.completed_ms = s.Int(i, 14);
  j.result_count = s.Int(i, 15);
  j.attempts = int(s.Int(i, 16));
  j.cancel_requested = s.Bool(i, 17);
  return j;
}

Status JobNotFound(const std::string& id) {
  return Status(Code::kResourceNotFound, "job " + id + " not found");
}

Result<JobRecord> SelectJob(Conn& c, const std::string& id) {
  auto r = c.Exec(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1", {id});
  if (!r.ok()) return r.status();
  if (r->size() == 0) return JobNotFound(id);
  return ReadJob(r.value(), 0);
}

Status Check(const Result<Rows>& r) { return r.ok() ? Status::Ok() : r.status(); }

}  // namespace

Status PgStore::InsertJob(const JobRecord& j) {
  return Txn([&](Conn& c) -> Status {
    auto r =
        c.Exec(std::string("INSERT INTO jobs (") + kJobColumns +
                   ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) "
                   "ON CONFLICT (id) DO NOTHING",
               {j.id, j.api, j.owner, j.request, j.client_token, j.job_tag, j.notification, j.state,
                j.queued, j.status_message, j.progress, j.metadata, j.created_ms, j.started_ms,
                j.completed_ms, j.result_count, int64_t(j.attempts), j.cancel_requested});
    if (!r.ok()) return r.status();
    if (r->affected() == 0) {
      return Status(Code::kResourceAlreadyExists, "job " + j.id + " already exists");
    }
    return Status::Ok();
  });
}

Result<JobRecord> PgStore::GetJob(const std::string& id) {
  JobRecord out;
  Status st = With([&](Conn& c) -> Status {
    auto j = SelectJob(c, id);
    if (!j.ok()) return j.status();
    out = std::move(j.value());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<JobRecord>> PgStore::ListJobs(const JobQuery& q) {
  std::vector<JobRecord> out;
  Status st = With([&](Conn& c) -> Status {
    std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE true";
    std::vector<Param> p;
    auto add = [&](const std::string& cond, Param v) {
      p.push_back(std::move(v));
      sql += " AND " + cond + " $" + std::to_string(p.size());
    };
    if (!q.owner.empty()) add("owner =", q.owner);
    if (!q.api.empty()) add("api =", q.api);
    if (!q.state.empty()) add("state =", q.state);
    if (q.completed_since_ms > 0) {
      p.push_back(q.completed_since_ms);
      sql += " AND (state = 'IN_PROGRESS' OR completed_ms >= $" + std::to_string(p.size()) + ")";
    }
    if (!q.oldest_first && !q.after_id.empty()) {
      auto a = SelectJob(c, q.after_id);
      if (!a.ok()) return a.status();
      p.push_back(a->created_ms);
      p.push_back(a->id);
      std::string t = "$" + std::to_string(p.size() - 1), id = "$" + std::to_string(p.size());
      sql += " AND (created_ms < " + t + " OR (created_ms = " + t + " AND id < " + id + "))";
    }
    sql += q.oldest_first ? " ORDER BY created_ms, id" : " ORDER BY created_ms DESC, id DESC";
    p.push_back(int64_t(std::max(0, q.limit)));
    sql += " LIMIT $" + std::to_string(p.size());
    auto r = c.Exec(sql, p);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) out.push_back(ReadJob(r.value(), i));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::optional<JobRecord>> PgStore::FindJobByToken(const std::string& owner,
                                                         const std::string& api,
                                                         const std::string& client_token,
                                                         int64_t completed_since_ms) {
  std::optional<JobRecord> out;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(std::string("SELECT ") + kJobColumns +
                        " FROM jobs WHERE owner = $1 AND api = $2 AND client_token = $3 AND "
                        "(state = 'IN_PROGRESS' OR completed_ms >= $4) ORDER BY created_ms DESC, "
                        "id DESC LIMIT 1",
                    {owner, api, client_token, completed_since_ms});
    if (!r.ok()) return r.status();
    if (r->size()) out = ReadJob(r.value(), 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<int64_t> PgStore::CountUnfinishedJobs(const std::string& owner) {
  int64_t n = 0;
  Status st = With([&](Conn& c) -> Status {
    auto r =
        c.Exec("SELECT COUNT(*) FROM jobs WHERE state = 'IN_PROGRESS' AND owner = $1", {owner});
    if (!r.ok()) return r.status();
    n = r->Int(0, 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

Result<std::optional<JobRecord>> PgStore::ClaimJob(const std::string& id, int64_t started_ms,
                                                   const JobLease& lease) {
  std::optional<JobRecord> out;
  Status st = Txn([&](Conn& c) -> Status {
    out.reset();
    // One node wins: the others find it locked (SKIP LOCKED), no longer
    // queued, or under a lease that has not run out, and get nullopt.
    auto r = c.Exec(std::string("UPDATE jobs SET queued = false, started_ms = $1, attempts = "
                                "attempts + 1, lease_node = $3, lease_until_ms = ") +
                        kDbNowMs +
                        " + $4 WHERE id = (SELECT id FROM jobs WHERE id = $2 AND state = "
                        "'IN_PROGRESS' AND (queued OR lease_until_ms < " +
                        kDbNowMs + ") FOR UPDATE SKIP LOCKED) RETURNING " + kJobColumns,
                    {started_ms, id, lease.node, lease.ms});
    if (!r.ok()) return r.status();
    if (r->size()) out = ReadJob(r.value(), 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<std::string>> PgStore::ClaimableJobs(int limit) {
  std::vector<std::string> out;
  Status st = Txn([&](Conn& c) -> Status {
    out.clear();
    auto r = c.Exec(std::string("SELECT id FROM jobs WHERE state = 'IN_PROGRESS' AND (queued OR "
                                "lease_until_ms < ") +
                        kDbNowMs + ") ORDER BY created_ms, id LIMIT $1",
                    {int64_t(limit)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) out.push_back(r->Text(i, 0));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<bool> PgStore::RenewJobLease(const std::string& id, const JobLease& lease) {
  bool held = false;
  Status st = Txn([&](Conn& c) -> Status {
    auto r = c.Exec(std::string("UPDATE jobs SET lease_until_ms = ") + kDbNowMs +
                        " + $1 WHERE id = $2 AND state = 'IN_PROGRESS' AND NOT queued AND "
                        "lease_node = $3",
                    {lease.ms, id, lease.node});
    if (!r.ok()) return r.status();
    held = r->affected() == 1;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return held;
}

Status PgStore::RequeueJob(const std::string& id) {
  return Txn([&](Conn& c) -> Status {
    return Check(
        c.Exec("UPDATE jobs SET queued = true WHERE id = $1 AND state = 'IN_PROGRESS'", {id}));
  });
}

Result<bool> PgStore::SaveJobProgress(const std::string& id, double progress,
                                      const std::string& metadata) {
  bool cancel = false;
  Status st = Txn([&](Conn& c) -> Status {
    ARGUS_RETURN_IF_ERROR(Check(c.Exec(
        "UPDATE jobs SET progress = $1, metadata = $2 WHERE id = $3 AND state = 'IN_PROGRESS'",
        {progress, metadata, id})));
    auto j = SelectJob(c, id);
    if (!j.ok()) return j.status();
    cancel = j->cancel_requested || j->state != "IN_PROGRESS";
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return cancel;
}

Result<bool> PgStore::FinishJob(const JobRecord& j, const std::vector<JobResultRecord>& results) {
  bool finished = false;
  Status st = Txn([&](Conn& c) -> Status {
    finished = false;
    auto u = c.Exec(
        "UPDATE jobs SET state = $1, queued = false, status_message = $2, progress = $3, "
        "metadata = $4, completed_ms = $5, result_count = $6 WHERE id = $7 AND state = "
        "'IN_PROGRESS'",
        {j.state, j.status_message, j.progress, j.metadata, j.completed_ms, int64_t(results.size()),
         j.id});
    if (!u.ok()) return u.status();
    if (u->affected() == 0) return Status::Ok();
    finished = true;
    for (size_t i = 0; i < results.size(); ++i) {
      ARGUS_RETURN_IF_ERROR(Check(c.Exec(
          "INSERT INTO job_results (job_id, seq, timestamp_ms, idx, body) VALUES ($1,$2,$3,$4,$5)",
          {j.id, int64_t(i), results[i].timestamp_ms, results[i].index, results[i].body})));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return finished;
}

Result<JobRecord> PgStore::CancelJob(const std::string& id, int64_t now_ms) {
  JobRecord out;
  Status st = Txn([&](Conn& c) -> Status {
    ARGUS_RETURN_IF_ERROR(Check(
        c.Exec("UPDATE jobs SET state = 'FAILED', queued = false, status_message = 'Cancelled', "
               "cancel_requested = true, completed_ms = $1 WHERE id = $2 AND state = "
               "'IN_PROGRESS' AND queued",
               {now_ms, id})));
    ARGUS_RETURN_IF_ERROR(Check(c.Exec(
        "UPDATE jobs SET cancel_requested = true WHERE id = $1 AND state = 'IN_PROGRESS'", {id})));
    auto j = SelectJob(c, id);
    if (!j.ok()) return j.status();
    out = std::move(j.value());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<JobResultRecord>> PgStore::JobResults(const std::string& id,
                                                         JobResultOrder order, int64_t offset,
                                                         int limit) {
  std::vector<JobResultRecord> out;
  Status st = With([&](Conn& c) -> Status {
    const char* by = order == JobResultOrder::kTimestamp ? "timestamp_ms, seq"
                     : order == JobResultOrder::kIndex   ? "idx, seq"
                                                         : "seq";
    auto r = c.Exec(std::string("SELECT seq, timestamp_ms, idx, body FROM job_results WHERE "
                                "job_id = $1 ORDER BY ") +
                        by + " LIMIT $2 OFFSET $3",
                    {id, int64_t(std::max(0, limit)), std::max<int64_t>(0, offset)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) {
      out.push_back({r->Int(i, 0), r->Int(i, 1), r->Int(i, 2), r->Text(i, 3)});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<int64_t> PgStore::DeleteJobsCompletedBefore(int64_t cutoff_ms) {
  int64_t deleted = 0;
  Status st = Txn([&](Conn& c) -> Status {
    ARGUS_RETURN_IF_ERROR(
        Check(c.Exec("DELETE FROM job_results WHERE job_id IN (SELECT id FROM jobs WHERE "
                     "state != 'IN_PROGRESS' AND completed_ms < $1)",
                     {cutoff_ms})));
    auto r =
        c.Exec("DELETE FROM jobs WHERE state != 'IN_PROGRESS' AND completed_ms < $1", {cutoff_ms});
    if (!r.ok()) return r.status();
    deleted = r->affected();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return deleted;
}

}  // namespace argus::store::pg_impl
