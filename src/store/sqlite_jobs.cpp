// Jobs in SQLite: tables jobs and job_results in the store's database file,
// on a connection of its own (WAL, synchronous=FULL, secure_delete).
#include <sqlite3.h>

#include <mutex>

#include "core/log.h"
#include "store/sqlite_internal.h"
#include "store/store.h"

namespace argus::store {

using sqlite_impl::SqlError;
using sqlite_impl::Stmt;

struct Store::JobTables {
  std::mutex mu;
  sqlite3* db = nullptr;
  ~JobTables() {
    if (db) sqlite3_close(db);
  }

  // The statements of `body` in one durable transaction; call with mu held.
  Status Txn(const std::function<Status()>& body) {
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SqlError(db, "jobs: begin");
    }
    Status st = body();
    if (st.ok() && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) {
      return st;
    }
    if (st.ok()) st = SqlError(db, "jobs: commit");
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
};

namespace {

constexpr const char* kJobsSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  api TEXT NOT NULL,
  owner TEXT NOT NULL,
  request TEXT NOT NULL,
  client_token TEXT NOT NULL,
  job_tag TEXT NOT NULL,
  notification TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'SUCCEEDED', 'FAILED')),
  queued INTEGER NOT NULL,
  status_message TEXT NOT NULL,
  progress REAL NOT NULL,
  metadata TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  started_ms INTEGER NOT NULL,
  completed_ms INTEGER NOT NULL,
  result_count INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  cancel_requested INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_token ON jobs(owner, api, client_token);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_ms, id);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, owner);
CREATE INDEX IF NOT EXISTS jobs_by_completed ON jobs(completed_ms) WHERE state != 'IN_PROGRESS';
CREATE TABLE IF NOT EXISTS job_results (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS job_results_by_timestamp ON job_results(job_id, timestamp_ms, seq);
CREATE INDEX IF NOT EXISTS job_results_by_index ON job_results(job_id, idx, seq);
)sql";

constexpr const char* kJobColumns =
    "id, api, owner, request, client_token, job_tag, notification, state, queued, "
    "status_message, progress, metadata, created_ms, started_ms, completed_ms, result_count, "
    "attempts, cancel_requested";

JobRecord ReadJob(const Stmt& s) {
  JobRecord j;
  j.id = s.Text(0);
  j.api = s.Text(1);
  j.owner = s.Text(2);
  j.request = s.Text(3);
  j.client_token = s.Text(4);
  j.job_tag = s.Text(5);
  j.notification = s.Text(6);
  j.state = s.Text(7);
  j.queued = s.Int(8) != 0;
  j.status_message = s.Text(9);
  j.progress = s.Real(10);
  j.metadata = s.Text(11);
  j.created_ms = s.Int(12);
  j.started_ms = s.Int(13);
  j.completed_ms = s.Int(14);
  j.result_count = s.Int(15);
  j.attempts = int(s.Int(16));
  j.cancel_requested = s.Int(17) != 0;
  return j;
}

Status NoJobs() { return Status(Code::kInternal, "store: this store keeps no jobs"); }

Status JobNotFound(const std::string& id) {
  return Status(Code::kResourceNotFound, "job " + id + " not found");
}

// The job `id` read on `db` (mu held).
Result<JobRecord> SelectJob(sqlite3* db, const std::string& id) {
  Stmt s(db, (std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?").c_str());
  if (!s.ok()) return SqlError(db, "jobs: select");
  s.Bind(1, id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return ReadJob(s);
  if (rc == SQLITE_DONE) return JobNotFound(id);
  return SqlError(db, "jobs: select");
}

}  // namespace

Status Store::OpenJobs(const std::string& path) {
  auto t = std::make_shared<JobTables>();
  int rc =
      sqlite3_open_v2(path.c_str(), &t->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return Internal("store: cannot open " + path + " for jobs");
  sqlite3_busy_timeout(t->db, 10000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "PRAGMA secure_delete=ON", kJobsSchema}) {
    if (sqlite3_exec(t->db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SqlError(t->db, "jobs schema");
    }
  }
  jobs_ = std::move(t);
  return Status::Ok();
}

Status Store::InsertJob(const JobRecord& j) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  return jobs_->Txn([&]() -> Status {
    Stmt s(db, (std::string("INSERT OR IGNORE INTO jobs (") + kJobColumns +
                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
                   .c_str());
    if (!s.ok()) return SqlError(db, "jobs: insert");
    s.Bind(1, j.id).Bind(2, j.api).Bind(3, j.owner).Bind(4, j.request).Bind(5, j.client_token);
    s.Bind(6, j.job_tag).Bind(7, j.notification).Bind(8, j.state);
    s.Bind(9, int64_t(j.queued)).Bind(10, j.status_message).Bind(11, j.progress);
    s.Bind(12, j.metadata).Bind(13, j.created_ms).Bind(14, j.started_ms);
    s.Bind(15, j.completed_ms).Bind(16, j.result_count).Bind(17, int64_t(j.attempts));
    s.Bind(18, int64_t(j.cancel_requested));
    if (s.Step() != SQLITE_DONE) return SqlError(db, "jobs: insert");
    if (sqlite3_changes(db) == 0) {
      return Status(Code::kResourceAlreadyExists, "job " + j.id + " already exists");
    }
    return Status::Ok();
  });
}

Result<JobRecord> Store::GetJob(const std::string& id) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  return SelectJob(jobs_->db, id);
}

Result<std::vector<JobRecord>> Store::ListJobs(const JobQuery& q) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE 1";
  std::vector<std::string> texts;
  if (!q.owner.empty()) {
    sql += " AND owner = ?";
    texts.push_back(q.owner);
  }
  if (!q.api.empty()) {
    sql += " AND api = ?";
    texts.push_back(q.api);
  }
  if (!q.state.empty()) {
    sql += " AND state = ?";
    texts.push_back(q.state);
  }
  if (q.completed_since_ms > 0) sql += " AND (state = 'IN_PROGRESS' OR completed_ms >= ?)";
  std::optional<JobRecord> after;
  if (!q.oldest_first && !q.after_id.empty()) {
    auto a = SelectJob(db, q.after_id);
    if (!a.ok()) return a.status();
    after = std::move(a.value());
    sql += " AND (created_ms < ? OR (created_ms = ? AND id < ?))";
  }
  sql += q.oldest_first ? " ORDER BY created_ms, id" : " ORDER BY created_ms DESC, id DESC";
  sql += " LIMIT ?";
  Stmt s(db, sql.c_str());
  if (!s.ok()) return SqlError(db, "jobs: list");
  int i = 1;
  for (const auto& t : texts) s.Bind(i++, t);
  if (q.completed_since_ms > 0) s.Bind(i++, q.completed_since_ms);
  if (after) {
    s.Bind(i, after->created_ms).Bind(i + 1, after->created_ms).Bind(i + 2, after->id);
    i += 3;
  }
  s.Bind(i, int64_t(std::max(0, q.limit)));
  std::vector<JobRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadJob(s));
  if (rc != SQLITE_DONE) return SqlError(db, "jobs: list");
  return out;
}

Result<std::optional<JobRecord>> Store::FindJobByToken(const std::string& owner,
                                                       const std::string& api,
                                                       const std::string& client_token,
                                                       int64_t completed_since_ms) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  Stmt s(db, (std::string("SELECT ") + kJobColumns +
              " FROM jobs WHERE owner = ? AND api = ? AND client_token = ? AND "
              "(state = 'IN_PROGRESS' OR completed_ms >= ?) ORDER BY created_ms DESC, id DESC "
              "LIMIT 1")
                 .c_str());
  if (!s.ok()) return SqlError(db, "jobs: by token");
  s.Bind(1, owner).Bind(2, api).Bind(3, client_token).Bind(4, completed_since_ms);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<JobRecord>(ReadJob(s));
  if (rc == SQLITE_DONE) return std::optional<JobRecord>();
  return SqlError(db, "jobs: by token");
}

Result<int64_t> Store::CountUnfinishedJobs(const std::string& owner) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  Stmt s(db, "SELECT COUNT(*) FROM jobs WHERE state = 'IN_PROGRESS' AND owner = ?");
  if (!s.ok()) return SqlError(db, "jobs: count");
  s.Bind(1, owner);
  if (s.Step() != SQLITE_ROW) return SqlError(db, "jobs: count");
  return s.Int(0);
}

Result<std::optional<JobRecord>> Store::ClaimJob(const std::string& id, int64_t started_ms,
                                                 const JobLease& /*lease: one process runs jobs*/) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  std::optional<JobRecord> out;
  Status st = jobs_->Txn([&]() -> Status {
    Stmt u(db,
           "UPDATE jobs SET queued = 0, started_ms = ?, attempts = attempts + 1 "
           "WHERE id = ? AND state = 'IN_PROGRESS' AND queued = 1");
    if (!u.ok()) return SqlError(db, "jobs: claim");
    u.Bind(1, started_ms).Bind(2, id);
    if (u.Step() != SQLITE_DONE) return SqlError(db, "jobs: claim");
    if (sqlite3_changes(db) == 0) return Status::Ok();
    auto j = SelectJob(db, id);
    if (!j.ok()) return j.status();
    out = std::move(j.value());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<std::string>> Store::ClaimableJobs(int limit) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  Stmt s(db,
         "SELECT id FROM jobs WHERE state = 'IN_PROGRESS' AND queued = 1 "
         "ORDER BY created_ms, id LIMIT ?");
  if (!s.ok()) return SqlError(db, "jobs: claimable");
  s.Bind(1, int64_t(limit));
  std::vector<std::string> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Text(0));
  if (rc != SQLITE_DONE) return SqlError(db, "jobs: claimable");
  return out;
}

Result<bool> Store::RenewJobLease(const std::string& /*id*/, const JobLease& /*lease*/) {
  return true;
}

Status Store::RequeueJob(const std::string& id) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  return jobs_->Txn([&]() -> Status {
    Stmt u(db, "UPDATE jobs SET queued = 1 WHERE id = ? AND state = 'IN_PROGRESS'");
    if (!u.ok()) return SqlError(db, "jobs: requeue");
    u.Bind(1, id);
    if (u.Step() != SQLITE_DONE) return SqlError(db, "jobs: requeue");
    return Status::Ok();
  });
}

Result<bool> Store::SaveJobProgress(const std::string& id, double progress,
                                    const std::string& metadata) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  bool cancel = false;
  Status st = jobs_->Txn([&]() -> Status {
    Stmt u(db, "UPDATE jobs SET progress = ?, metadata = ? WHERE id = ? AND state = 'IN_PROGRESS'");
    if (!u.ok()) return SqlError(db, "jobs: progress");
    u.Bind(1, progress).Bind(2, metadata).Bind(3, id);
    if (u.Step() != SQLITE_DONE) return SqlError(db, "jobs: progress");
    auto j = SelectJob(db, id);
    if (!j.ok()) return j.status();
    cancel = j.value().cancel_requested || j.value().state != "IN_PROGRESS";
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return cancel;
}

Result<bool> Store::FinishJob(const JobRecord& j, const std::vector<JobResultRecord>& results) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  bool finished = false;
  Status st = jobs_->Txn([&]() -> Status {
    Stmt u(db,
           "UPDATE jobs SET state = ?, queued = 0, status_message = ?, progress = ?, "
           "metadata = ?, completed_ms = ?, result_count = ? "
           "WHERE id = ? AND state = 'IN_PROGRESS'");
    if (!u.ok()) return SqlError(db, "jobs: finish");
    u.Bind(1, j.state).Bind(2, j.status_message).Bind(3, j.progress).Bind(4, j.metadata);
    u.Bind(5, j.completed_ms).Bind(6, int64_t(results.size())).Bind(7, j.id);
    if (u.Step() != SQLITE_DONE) return SqlError(db, "jobs: finish");
    if (sqlite3_changes(db) == 0) return Status::Ok();
    finished = true;
    Stmt ins(db,
             "INSERT INTO job_results (job_id, seq, timestamp_ms, idx, body) VALUES (?,?,?,?,?)");
    if (!ins.ok()) return SqlError(db, "jobs: results");
    for (size_t i = 0; i < results.size(); ++i) {
      ins.Bind(1, j.id).Bind(2, int64_t(i)).Bind(3, results[i].timestamp_ms);
      ins.Bind(4, results[i].index).Bind(5, results[i].body);
      if (ins.Step() != SQLITE_DONE) return SqlError(db, "jobs: results");
      ins.Reset();
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return finished;
}

Result<JobRecord> Store::CancelJob(const std::string& id, int64_t now_ms) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  JobRecord out;
  Status st = jobs_->Txn([&]() -> Status {
    Stmt q(db,
           "UPDATE jobs SET state = 'FAILED', queued = 0, status_message = 'Cancelled', "
           "cancel_requested = 1, completed_ms = ? "
           "WHERE id = ? AND state = 'IN_PROGRESS' AND queued = 1");
    if (!q.ok()) return SqlError(db, "jobs: cancel");
    q.Bind(1, now_ms).Bind(2, id);
    if (q.Step() != SQLITE_DONE) return SqlError(db, "jobs: cancel");
    Stmt r(db, "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'IN_PROGRESS'");
    if (!r.ok()) return SqlError(db, "jobs: cancel");
    r.Bind(1, id);
    if (r.Step() != SQLITE_DONE) return SqlError(db, "jobs: cancel");
    auto j = SelectJob(db, id);
    if (!j.ok()) return j.status();
    out = std::move(j.value());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<JobResultRecord>> Store::JobResults(const std::string& id, JobResultOrder order,
                                                       int64_t offset, int limit) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  const char* by = order == JobResultOrder::kTimestamp ? "timestamp_ms, seq"
                   : order == JobResultOrder::kIndex   ? "idx, seq"
                                                       : "seq";
  std::string sql = std::string("SELECT seq, timestamp_ms, idx, body FROM job_results ") +
                    "WHERE job_id = ? ORDER BY " + by + " LIMIT ? OFFSET ?";
  Stmt s(db, sql.c_str());
  if (!s.ok()) return SqlError(db, "jobs: results");
  s.Bind(1, id).Bind(2, int64_t(std::max(0, limit))).Bind(3, std::max<int64_t>(0, offset));
  std::vector<JobResultRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({s.Int(0), s.Int(1), s.Int(2), s.Text(3)});
  }
  if (rc != SQLITE_DONE) return SqlError(db, "jobs: results");
  return out;
}

Result<int64_t> Store::DeleteJobsCompletedBefore(int64_t cutoff_ms) {
  if (!jobs_) return NoJobs();
  std::lock_guard lock(jobs_->mu);
  sqlite3* db = jobs_->db;
  int64_t deleted = 0;
  Status st = jobs_->Txn([&]() -> Status {
    Stmt r(db,
           "DELETE FROM job_results WHERE job_id IN (SELECT id FROM jobs WHERE "
           "state != 'IN_PROGRESS' AND completed_ms < ?)");
    if (!r.ok()) return SqlError(db, "jobs: purge");
    r.Bind(1, cutoff_ms);
    if (r.Step() != SQLITE_DONE) return SqlError(db, "jobs: purge");
    Stmt j(db, "DELETE FROM jobs WHERE state != 'IN_PROGRESS' AND completed_ms < ?");
    if (!j.ok()) return SqlError(db, "jobs: purge");
    j.Bind(1, cutoff_ms);
    if (j.Step() != SQLITE_DONE) return SqlError(db, "jobs: purge");
    deleted = sqlite3_changes(db);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (deleted > 0 && sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                               nullptr) != SQLITE_OK) {
    log::Warn("store: could not truncate the write-ahead log after purging jobs (" +
              std::string(sqlite3_errmsg(db)) +
              "); deleted rows stay in it until the next checkpoint");
  }
  return deleted;
}

}  // namespace argus::store
