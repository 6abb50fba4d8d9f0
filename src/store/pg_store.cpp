// The PostgreSQL store: connections and their pool,
// transactions, collections and their tags.
#include <sys/select.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "core/log.h"
#include "store/pg_internal.h"

namespace argus::store::pg_impl {

// ------------------------------------------------------------ values

Param::Param(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  value = buf;
}

int64_t Rows::affected() const {
  const char* n = r_ ? PQcmdTuples(r_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

int64_t Rows::Int(int row, int c) const {
  return std::strtoll(PQgetvalue(r_, row, c), nullptr, 10);
}

double Rows::Real(int row, int c) const { return std::strtod(PQgetvalue(r_, row, c), nullptr); }

namespace {

// bytea in hex text form (\x0a1b...): its first `bytes` bytes into `out`.
void HexInto(const char* p, size_t bytes, unsigned char* out) {
  auto nib = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return ch - 'A' + 10;
  };
  for (size_t i = 0; i < bytes; ++i) {
    out[i] = static_cast<unsigned char>(nib(p[2 + 2 * i]) << 4 | nib(p[3 + 2 * i]));
  }
}

size_t HexBytes(int n) { return n >= 2 ? size_t(n - 2) / 2 : 0; }

}  // namespace

std::string Rows::Bytes(int row, int c) const {
  std::string out(HexBytes(PQgetlength(r_, row, c)), '\0');
  HexInto(PQgetvalue(r_, row, c), out.size(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

void Rows::FloatsInto(int row, int c, std::vector<float>& v) const {
  v.resize(HexBytes(PQgetlength(r_, row, c)) / sizeof(float));
  HexInto(PQgetvalue(r_, row, c), v.size() * sizeof(float),
          reinterpret_cast<unsigned char*>(v.data()));
}

Face ReadFace(const Rows& r, int i, bool descriptor) {
  Face f;
  f.label = r.Int(i, 0);
  f.face_id = r.Text(i, 1);
  f.image_id = r.Text(i, 2);
  f.external_image_id = r.Text(i, 3);
  f.confidence = float(r.Real(i, 4));
  f.left = float(r.Real(i, 5));
  f.top = float(r.Real(i, 6));
  f.width = float(r.Real(i, 7));
  f.height = float(r.Real(i, 8));
  f.user_id = r.Text(i, 9);
  f.model_version = FaceModelVersionOnRead(r.Text(i, 10));
  f.created_ms = r.Int(i, 11);
  if (descriptor) r.FloatsInto(i, 12, f.descriptor);
  return f;
}

// ------------------------------------------------------------ connections

Status ConnError(PGconn* c, const std::string& what, PGresult* r) {
  std::string msg = r ? PQresultErrorMessage(r) : (c ? PQerrorMessage(c) : "");
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (!c || PQstatus(c) != CONNECTION_OK) {
    return Status(Code::kServiceUnavailable, "The database is unreachable (" + what + ": " + msg +
                                                 "); nothing was written. Retry when it is back.");
  }
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  // Serialisation failures and deadlocks are transient: the caller may retry.
  if (state && (std::strcmp(state, "40001") == 0 || std::strcmp(state, "40P01") == 0)) {
    return Status(Code::kServiceUnavailable, "store: " + what + ": " + msg + " (retry)");
  }
  // The server shutting down or refusing connections (admin shutdown,
  // cannot connect now) reads as unavailable too.
  if (state && (std::strncmp(state, "57P", 3) == 0 || std::strncmp(state, "08", 2) == 0)) {
    return Status(Code::kServiceUnavailable, "The database is unreachable (" + what + ": " + msg +
                                                 "); nothing was written. Retry when it is back.");
  }
  return Internal("store: " + what + ": " + msg);
}

Status Conn::Error(const std::string& what, PGresult* r) { return ConnError(c_, what, r); }

Result<Rows> Conn::Exec(const std::string& sql, const std::vector<Param>& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "s" + std::to_string(prepared_.size());
    PGresult* p = PQprepare(c_, name.c_str(), sql.c_str(), 0, nullptr);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) {
      Status e = Error("prepare " + sql.substr(0, 60), p);
      PQclear(p);
      return e;
    }
    PQclear(p);
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size()), formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].value ? params[i].value->data() : nullptr;
    lengths[i] = params[i].value ? int(params[i].value->size()) : 0;
    formats[i] = params[i].binary ? 1 : 0;
  }
  PGresult* r = PQexecPrepared(c_, it->second.c_str(), int(params.size()), values.data(),
                               lengths.data(), formats.data(), 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Status e = Error(sql.substr(0, 60), r);
    PQclear(r);
    return e;
  }
  return Rows(r);
}

Status Conn::Simple(const std::string& sql) {
  PGresult* r = PQexec(c_, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  Status out =
      st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? Status::Ok() : Error(sql.substr(0, 60), r);
  PQclear(r);
  return out;
}

Result<std::unique_ptr<Conn>> Pool::Connect() {
  PGconn* c = PQconnectdb(url_.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(c);
    return Status(Code::kServiceUnavailable, "The database is unreachable (" + msg +
                                                 "); nothing was written. Retry when it is back.");
  }
  auto conn = std::make_unique<Conn>(c);
  // Quiet NOTICEs (e.g. "relation already exists, skipping").
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  ARGUS_RETURN_IF_ERROR(conn->Simple("SET synchronous_commit = on"));
  return conn;
}

Result<std::unique_ptr<Conn>> Pool::Take() {
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10),
                      [&] { return !idle_.empty() || lent_ < size_; })) {
      return Status(Code::kServiceUnavailable,
                    "store: all " + std::to_string(size_) + " database connections are busy");
    }
    ++lent_;
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (!c->broken()) return c;
    }
  }
  auto c = Connect();
  if (!c.ok()) {
    std::lock_guard lock(mu_);
    --lent_;
    cv_.notify_one();
  }
  return c;
}

void Pool::DropIdle() {
  std::vector<std::unique_ptr<Conn>> old;
  std::lock_guard lock(mu_);
  old.swap(idle_);
}

void Pool::Give(std::unique_ptr<Conn> c) {
  std::lock_guard lock(mu_);
  --lent_;
  // A broken connection, or one left inside a transaction, is closed; the
  // next Take connects afresh.
  if (c && !c->broken() && PQtransactionStatus(c->raw()) == PQTRANS_IDLE) {
    idle_.push_back(std::move(c));
  }
  cv_.notify_one();
}

// ------------------------------------------------------------ transactions

Status PgStore::With(const std::function<Status(Conn&)>& body) {
  // Reads only: one more try on a fresh connection when the borrowed one
  // turns out dead (the server restarted, a proxy dropped it).
  for (int attempt = 0;; ++attempt) {
    Lease c(&pool_);
    if (!c.ok()) return c.error();
    Status st = body(*c);
    if (st.ok() || !c->broken() || attempt >= 1) return st;
    pool_.DropIdle();
  }
}

Status PgStore::Txn(const std::function<Status(Conn&)>& body, const char* begin) {
  for (int attempt = 0;; ++attempt) {
    Lease c(&pool_);
    if (!c.ok()) return c.error();
    Status st = c->Simple(begin);
    if (!st.ok()) {
      // Nothing was sent but BEGIN: safe to try once more on a fresh
      // connection when this one was dead.
      if (!c->broken() || attempt >= 1) return st;
      pool_.DropIdle();
      continue;
    }
    st = body(*c);
    if (st.ok()) st = c->Simple("COMMIT");
    if (st.ok()) return st;
    if (!c->broken()) (void)c->Simple("ROLLBACK");
    // A serialisation failure or deadlock (the connection still up): again.
    bool transient = st.code() == Code::kServiceUnavailable && !c->broken() &&
                     st.message().find("(retry)") != std::string::npos;
    if (c->broken()) pool_.DropIdle();
    if (!transient || attempt >= 4) return st;
  }
}

Status PgStore::Open() {
  std::random_device rd;
  char id[17];
  std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
  node_id_ = id;
  return Migrate();
}

// ------------------------------------------------------------ collections

Status PgStore::NotFound(const std::string& id) {
  return {Code::kResourceNotFound, "The collection id: " + id + " does not exist"};
}

Status PgStore::CreateCollection(const Collection& col) {
  return Txn([&](Conn& c) -> Status {
    auto ins = c.Exec(
        "INSERT INTO collections (id, created_ms, face_model_version) VALUES ($1, $2, $3) "
        "ON CONFLICT (id) DO NOTHING",
        {col.id, col.created_ms, col.face_model_version});
    if (!ins.ok()) return ins.status();
    if (ins->affected() == 0) {
      return {Code::kResourceAlreadyExists, "The collection id: " + col.id + " already exists"};
    }
    for (const auto& [k, v] : col.tags) {
      auto t = c.Exec("INSERT INTO collection_tags (collection_id, key, value) VALUES ($1,$2,$3)",
                      {col.id, k, v});
      if (!t.ok()) return t.status();
    }
    return RecordChange(c, col.id, "create", {});
  });
}

Result<Collection> PgStore::GetCollection(const std::string& id) {
  Collection out;
  Status st = Txn(
      [&](Conn& c) -> Status {
        auto r = c.Exec(
            "SELECT id, created_ms, face_model_version, face_count, "
            "(SELECT COUNT(*) FROM users u WHERE u.collection_id = c.id) "
            "FROM collections c WHERE id = $1",
            {id});
        if (!r.ok()) return r.status();
        if (r->size() == 0) return NotFound(id);
        out.id = r->Text(0, 0);
        out.created_ms = r->Int(0, 1);
        out.face_model_version = FaceModelVersionOnRead(r->Text(0, 2));
        out.face_count = r->Int(0, 3);
        out.user_count = r->Int(0, 4);
        auto t = c.Exec("SELECT key, value FROM collection_tags WHERE collection_id = $1", {id});
        if (!t.ok()) return t.status();
        for (int i = 0; i < t->size(); ++i) out.tags[t->Text(i, 0)] = t->Text(i, 1);
        return Status::Ok();
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<Collection>> PgStore::ListCollections(const std::string& after, int limit) {
  std::vector<Collection> out;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(
        "SELECT id, created_ms, face_model_version FROM collections WHERE id > $1 "
        "ORDER BY id LIMIT $2",
        {after, int64_t(limit)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) {
      Collection col;
      col.id = r->Text(i, 0);
      col.created_ms = r->Int(i, 1);
      col.face_model_version = FaceModelVersionOnRead(r->Text(i, 2));
      out.push_back(std::move(col));
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status PgStore::DeleteCollection(const std::string& id) {
  return Txn([&](Conn& c) -> Status {
    for (const char* sql : {"DELETE FROM faces WHERE collection_id = $1",
                            "DELETE FROM users WHERE collection_id = $1",
                            "DELETE FROM collection_tags WHERE collection_id = $1"}) {
      auto r = c.Exec(sql, {id});
      if (!r.ok()) return r.status();
    }
    auto r = c.Exec("DELETE FROM collections WHERE id = $1", {id});
    if (!r.ok()) return r.status();
    if (r->affected() == 0) return NotFound(id);
    return RecordChange(c, id, "drop", {});
  });
}

Status PgStore::TagCollection(const std::string& id, const std::map<std::string, std::string>& tags,
                              int max_tags) {
  return Txn([&](Conn& c) -> Status {
    auto e = c.Exec("SELECT 1 FROM collections WHERE id = $1 FOR UPDATE", {id});
    if (!e.ok()) return e.status();
    if (e->size() == 0) return NotFound(id);
    for (const auto& [k, v] : tags) {
      auto r = c.Exec(
          "INSERT INTO collection_tags (collection_id, key, value) VALUES ($1,$2,$3) "
          "ON CONFLICT (collection_id, key) DO UPDATE SET value = excluded.value",
          {id, k, v});
      if (!r.ok()) return r.status();
    }
    auto n = c.Exec("SELECT COUNT(*) FROM collection_tags WHERE collection_id = $1", {id});
    if (!n.ok()) return n.status();
    if (n->Int(0, 0) > max_tags) {
      return {Code::kServiceQuotaExceeded,
              "A collection can have at most " + std::to_string(max_tags) + " tags."};
    }
    return Status::Ok();
  });
}

Status PgStore::UntagCollection(const std::string& id, const std::vector<std::string>& keys) {
  return Txn([&](Conn& c) -> Status {
    auto e = c.Exec("SELECT 1 FROM collections WHERE id = $1 FOR UPDATE", {id});
    if (!e.ok()) return e.status();
    if (e->size() == 0) return NotFound(id);
    for (const auto& k : keys) {
      auto r = c.Exec("DELETE FROM collection_tags WHERE collection_id = $1 AND key = $2", {id, k});
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  });
}

// ------------------------------------------------------------ changes

namespace {

std::string LabelArray(const std::vector<int64_t>& labels) {
  std::string s = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(labels[i]);
  }
  return s + "}";
}

std::vector<int64_t> ParseLabels(const std::string& s) {
  std::vector<int64_t> out;
  const char* p = s.c_str();
  while (*p) {
    if ((*p >= '0' && *p <= '9') || *p == '-') {
      char* end = nullptr;
      out.push_back(std::strtoll(p, &end, 10));
      p = end;
    } else {
      ++p;
    }
  }
  return out;
}

}  // namespace

Status PgStore::RecordChange(Conn& c, const std::string& collection, const std::string& kind,
                             const std::vector<int64_t>& labels) {
  // Held to the commit: change seqs are taken and committed one transaction
  // at a time, so a follower that has seen seq N has seen everything below.
  ARGUS_RETURN_IF_ERROR(c.Simple("SELECT pg_advisory_xact_lock(7274870002)"));
  auto r = c.Exec(
      "INSERT INTO changes (node, collection, kind, labels, time_ms) VALUES ($1, $2, $3, $4, "
      "(extract(epoch from clock_timestamp()) * 1000)::bigint) RETURNING seq",
      {node_id_, collection, kind, LabelArray(labels)});
  if (!r.ok()) return r.status();
  // Delivered at commit to every LISTEN argus_changes.
  return c.Simple("NOTIFY argus_changes");
}

Result<int64_t> PgStore::ChangeHighWater() {
  int64_t high = 0;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec("SELECT COALESCE(MAX(seq), 0) FROM changes");
    if (!r.ok()) return r.status();
    high = r->Int(0, 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return high;
}

Status PgStore::ScanChanges(int64_t after_seq, int limit,
                            const std::function<void(const Change&)>& fn) {
  std::vector<Change> out;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(
        "SELECT seq, node, collection, kind, labels FROM changes WHERE seq > $1 ORDER BY seq "
        "LIMIT $2",
        {after_seq, int64_t(limit)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) {
      out.push_back(Change{r->Int(i, 0), r->Text(i, 1), r->Text(i, 2), r->Text(i, 3),
                           ParseLabels(r->Text(i, 4))});
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  for (const auto& ch : out) fn(ch);
  return Status::Ok();
}

Status PgStore::WaitForChanges(int timeout_ms) {
  std::lock_guard lock(listen_mu_);
  if (!listener_ || listener_->broken()) {
    listener_.reset();
    auto c = pool_.Connect();
    if (!c.ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
      return c.status();
    }
    ARGUS_RETURN_IF_ERROR(c.value()->Simple("LISTEN argus_changes"));
    listener_ = std::move(c.value());
    return Status::Ok();  // something may have been missed meanwhile: look now
  }
  PGconn* pc = listener_->raw();
  auto drain = [&] {
    bool any = false;
    while (PGnotify* n = PQnotifies(pc)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  };
  if (PQconsumeInput(pc) == 0) return ConnError(pc, "listen");
  if (drain()) return Status::Ok();
  int fd = PQsocket(pc);
  if (fd < 0) return ConnError(pc, "listen");
  fd_set set;
  FD_ZERO(&set);
  FD_SET(fd, &set);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  if (::select(fd + 1, &set, nullptr, nullptr, &tv) > 0) {
    if (PQconsumeInput(pc) == 0) return ConnError(pc, "listen");
    drain();
  }
  return Status::Ok();
}

}  // namespace argus::store::pg_impl

namespace argus::store {

bool Store::IsPostgresUrl(const std::string& s) {
  return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Store>> Store::OpenPostgres(const std::string& url, int pool_size) {
  auto s = std::make_unique<pg_impl::PgStore>(url, pool_size);
  ARGUS_RETURN_IF_ERROR(s->Open());
  return std::unique_ptr<Store>(std::move(s));
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& url_or_path, int pool_size) {
  if (IsPostgresUrl(url_or_path)) return OpenPostgres(url_or_path, pool_size);
  return OpenSqlite(url_or_path);
}

Status Store::WaitForChanges(int timeout_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
  return Status::Ok();
}

}  // namespace argus::store
