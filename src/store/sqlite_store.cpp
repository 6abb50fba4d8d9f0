// The SQLite store: connections, schema, collections and their tags.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include "core/log.h"
#include "store/sqlite_internal.h"

namespace argus::store::sqlite_impl {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS collections (
  id TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL,
  face_model_version TEXT NOT NULL,
  face_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS collection_tags (
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (collection_id, key)
);
CREATE TABLE IF NOT EXISTS faces (
  label INTEGER PRIMARY KEY AUTOINCREMENT,
  face_id TEXT NOT NULL UNIQUE,
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  image_id TEXT NOT NULL,
  external_image_id TEXT,
  confidence REAL NOT NULL,
  box_left REAL NOT NULL, box_top REAL NOT NULL, box_width REAL NOT NULL, box_height REAL NOT NULL,
  user_id TEXT,
  model_version TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  descriptor BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS faces_by_collection ON faces(collection_id, label);
CREATE INDEX IF NOT EXISTS faces_by_image ON faces(collection_id, image_id);
CREATE INDEX IF NOT EXISTS faces_by_user ON faces(collection_id, user_id) WHERE user_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS users (
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  client_token TEXT,
  PRIMARY KEY (collection_id, user_id)
);
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  kind TEXT NOT NULL,
  request_id TEXT NOT NULL, principal TEXT NOT NULL, org_type TEXT NOT NULL,
  purpose TEXT NOT NULL, case_id TEXT NOT NULL, authorisation TEXT NOT NULL,
  operation TEXT NOT NULL, op_class TEXT NOT NULL, collection TEXT NOT NULL,
  decision TEXT NOT NULL, rule TEXT NOT NULL,
  threshold_asked REAL, threshold_applied REAL, max_results INTEGER,
  human_review INTEGER NOT NULL,
  matches INTEGER, top_similarity REAL,
  outcome TEXT NOT NULL, detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_principal ON audit_log(principal, operation, time_ms);
)sql";

Status SqliteStore::Open() {
  // Created private before SQLite opens it; its -wal and -shm files take
  // the database file's mode.
  if (!path_.empty() && path_[0] != ':') {
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
  }
  auto w = Connect();
  if (!w.ok()) return w.status();
  writer_ = w.value();
  char* err = nullptr;
  if (sqlite3_exec(writer_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "?";
    sqlite3_free(err);
    return Internal("store: cannot create schema in " + path_ + ": " + m);
  }
  ARGUS_RETURN_IF_ERROR(OpenGrants(path_));
  ARGUS_RETURN_IF_ERROR(OpenKeys(path_));
  ARGUS_RETURN_IF_ERROR(OpenResources(path_));
  return OpenJobs(path_);
}

Status SqliteStore::CreateCollection(const Collection& c) {
  std::lock_guard lock(write_mu_);
  Txn txn(writer_);
  if (!txn.ok()) return SqlError(writer_, "begin");
  Stmt ins(writer_,
           "INSERT OR IGNORE INTO collections(id, created_ms, face_model_version) VALUES (?,?,?)");
  ins.Bind(1, c.id).Bind(2, c.created_ms).Bind(3, c.face_model_version);
  if (ins.Step() != SQLITE_DONE) return SqlError(writer_, "create collection");
  if (sqlite3_changes(writer_) == 0) {
    return {Code::kResourceAlreadyExists, "The collection id: " + c.id + " already exists"};
  }
  Stmt tag(writer_, "INSERT INTO collection_tags(collection_id, key, value) VALUES (?,?,?)");
  for (const auto& [k, v] : c.tags) {
    tag.Bind(1, c.id).Bind(2, k).Bind(3, v);
    if (tag.Step() != SQLITE_DONE) return SqlError(writer_, "tag");
    tag.Reset();
  }
  return txn.Commit();
}

Result<Collection> SqliteStore::GetCollection(const std::string& id) {
  Reader r(this);
  if (!r.db) return SqlError(nullptr, "open reader");
  Txn txn(r.db, "BEGIN");
  Stmt s(r.db,
         "SELECT id, created_ms, face_model_version, face_count, "
         "(SELECT COUNT(*) FROM users u WHERE u.collection_id = c.id) "
         "FROM collections c WHERE id = ?");
  s.Bind(1, id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound(id);
  if (rc != SQLITE_ROW) return SqlError(r.db, "get collection");
  Collection c;
  c.id = s.Text(0);
  c.created_ms = s.Int(1);
  c.face_model_version = FaceModelVersionOnRead(s.Text(2));
  c.face_count = s.Int(3);
  c.user_count = s.Int(4);
  Stmt t(r.db, "SELECT key, value FROM collection_tags WHERE collection_id = ?");
  t.Bind(1, id);
  while (t.Step() == SQLITE_ROW) c.tags[t.Text(0)] = t.Text(1);
  return c;
}

Result<std::vector<Collection>> SqliteStore::ListCollections(const std::string& after, int limit) {
  Reader r(this);
  if (!r.db) return SqlError(nullptr, "open reader");
  Stmt s(r.db,
         "SELECT id, created_ms, face_model_version FROM collections WHERE id > ? ORDER BY id "
         "LIMIT ?");
  s.Bind(1, after).Bind(2, int64_t(limit));
  std::vector<Collection> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    Collection c;
    c.id = s.Text(0);
    c.created_ms = s.Int(1);
    c.face_model_version = FaceModelVersionOnRead(s.Text(2));
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return SqlError(r.db, "list collections");
  return out;
}

Status SqliteStore::DeleteCollection(const std::string& id) {
  std::lock_guard lock(write_mu_);
  Txn txn(writer_);
  if (!txn.ok()) return SqlError(writer_, "begin");
  // Children first: cheaper than cascading row by row through triggers.
  for (const char* sql :
       {"DELETE FROM faces WHERE collection_id = ?", "DELETE FROM users WHERE collection_id = ?",
        "DELETE FROM collection_tags WHERE collection_id = ?"}) {
    Stmt s(writer_, sql);
    s.Bind(1, id);
    if (s.Step() != SQLITE_DONE) return SqlError(writer_, "delete collection");
  }
  Stmt s(writer_, "DELETE FROM collections WHERE id = ?");
  s.Bind(1, id);
  if (s.Step() != SQLITE_DONE) return SqlError(writer_, "delete collection");
  if (sqlite3_changes(writer_) == 0) return NotFound(id);
  ARGUS_RETURN_IF_ERROR(txn.Commit());
  TruncateWal();
  return Status::Ok();
}

Status SqliteStore::TagCollection(const std::string& id,
                                  const std::map<std::string, std::string>& tags, int max_tags) {
  std::lock_guard lock(write_mu_);
  Txn txn(writer_);
  if (!txn.ok()) return SqlError(writer_, "begin");
  ARGUS_RETURN_IF_ERROR(CollectionExists(writer_, id));
  Stmt put(writer_,
           "INSERT INTO collection_tags(collection_id, key, value) VALUES (?,?,?) "
           "ON CONFLICT(collection_id, key) DO UPDATE SET value = excluded.value");
  for (const auto& [k, v] : tags) {
    put.Bind(1, id).Bind(2, k).Bind(3, v);
    if (put.Step() != SQLITE_DONE) return SqlError(writer_, "tag");
    put.Reset();
  }
  Stmt n(writer_, "SELECT COUNT(*) FROM collection_tags WHERE collection_id = ?");
  n.Bind(1, id);
  if (n.Step() != SQLITE_ROW) return SqlError(writer_, "count tags");
  if (n.Int(0) > max_tags) {
    return {Code::kServiceQuotaExceeded,
            "A collection can have at most " + std::to_string(max_tags) + " tags."};
  }
  return txn.Commit();
}

Status SqliteStore::UntagCollection(const std::string& id, const std::vector<std::string>& keys) {
  std::lock_guard lock(write_mu_);
  Txn txn(writer_);
  if (!txn.ok()) return SqlError(writer_, "begin");
  ARGUS_RETURN_IF_ERROR(CollectionExists(writer_, id));
  Stmt del(writer_, "DELETE FROM collection_tags WHERE collection_id = ? AND key = ?");
  for (const auto& k : keys) {
    del.Bind(1, id).Bind(2, k);
    if (del.Step() != SQLITE_DONE) return SqlError(writer_, "untag");
    del.Reset();
  }
  return txn.Commit();
}

// After a committed delete: copies every page into the database file and
// truncates the write-ahead log, whose older frames may still hold the
// deleted rows (secure_delete zeroes them in the new page images only).
void SqliteStore::TruncateWal() {
  int rc =
      sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    log::Warn("store: could not truncate the write-ahead log after a delete (" +
              std::string(sqlite3_errmsg(writer_)) +
              "); deleted rows stay in it until the next checkpoint");
  }
}

Result<sqlite3*> SqliteStore::Connect() {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path_.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = Internal("store: cannot open " + path_ + ": " +
                         (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close(db);
    return st;
  }
  sqlite3_busy_timeout(db, 10000);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
        "PRAGMA cache_size=-16384", "PRAGMA secure_delete=ON"}) {
    if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
      Status st = SqlError(db, pragma);
      sqlite3_close(db);
      return st;
    }
  }
  return db;
}

Status SqliteStore::CollectionExists(sqlite3* db, const std::string& id) {
  Stmt s(db, "SELECT 1 FROM collections WHERE id = ?");
  s.Bind(1, id);
  return s.Step() == SQLITE_ROW ? Status::Ok() : NotFound(id);
}

Status SqliteStore::NotFound(const std::string& id) {
  return {Code::kResourceNotFound, "The collection id: " + id + " does not exist"};
}

}  // namespace argus::store::sqlite_impl

namespace argus::store {

Result<std::unique_ptr<Store>> Store::OpenSqlite(const std::string& path) {
  auto s = std::make_unique<sqlite_impl::SqliteStore>(path);
  ARGUS_RETURN_IF_ERROR(s->Open());
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace argus::store
