// Store over SQLite in WAL mode: one writer connection (serialised by a
// mutex, BEGIN IMMEDIATE, synchronous=FULL so a commit is on disk before it
// returns) and a pool of reader connections that see committed snapshots.
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "core/log.h"
#include "store/store.h"

namespace argus::store {
namespace {

Status SqlError(sqlite3* db, const std::string& what) {
  return Internal("store: " + what + ": " + (db ? sqlite3_errmsg(db) : "no database"));
}

// One prepared statement; finalised on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNullable(int i, const std::string& v) {
    if (v.empty()) sqlite3_bind_null(s_, i);
    else Bind(i, v);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, const std::vector<float>& v) {
    sqlite3_bind_blob(s_, i, v.data(), int(v.size() * sizeof(float)), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, const std::optional<double>& v) {
    if (v) sqlite3_bind_double(s_, i, *v);
    else sqlite3_bind_null(s_, i);
    return *this;
  }
  Stmt& Bind(int i, const std::optional<int64_t>& v) {
    if (v) sqlite3_bind_int64(s_, i, *v);
    else sqlite3_bind_null(s_, i);
    return *this;
  }
  bool Null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::optional<double> OptReal(int c) const {
    return Null(c) ? std::nullopt : std::optional<double>(Real(c));
  }
  std::optional<int64_t> OptInt(int c) const {
    return Null(c) ? std::nullopt : std::optional<int64_t>(Int(c));
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  double Real(int c) const { return sqlite3_column_double(s_, c); }
  std::string Text(int c) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, sqlite3_column_bytes(s_, c)) : std::string();
  }
  std::vector<float> Floats(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    int n = sqlite3_column_bytes(s_, c) / int(sizeof(float));
    std::vector<float> v(n);
    if (n) std::memcpy(v.data(), p, n * sizeof(float));
    return v;
  }
  void FloatsInto(int c, std::vector<float>& v) const {
    const void* p = sqlite3_column_blob(s_, c);
    v.resize(sqlite3_column_bytes(s_, c) / sizeof(float));
    if (!v.empty()) std::memcpy(v.data(), p, v.size() * sizeof(float));
  }
  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

constexpr const char* kFaceColumns =
    "label, face_id, image_id, external_image_id, confidence, box_left, box_top, box_width, "
    "box_height, user_id, model_version, created_ms";

Face ReadFace(const Stmt& s, bool descriptor) {
  Face f;
  f.label = s.Int(0);
  f.face_id = s.Text(1);
  f.image_id = s.Text(2);
  f.external_image_id = s.Text(3);
  f.confidence = float(s.Real(4));
  f.left = float(s.Real(5));
  f.top = float(s.Real(6));
  f.width = float(s.Real(7));
  f.height = float(s.Real(8));
  f.user_id = s.Text(9);
  f.model_version = s.Text(10);
  f.created_ms = s.Int(11);
  if (descriptor) f.descriptor = s.Floats(12);
  return f;
}

const char* kSchema = R"sql(
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

constexpr const char* kAuditColumns =
    "seq, time_ms, kind, request_id, principal, org_type, purpose, case_id, authorisation, "
    "operation, op_class, collection, decision, rule, threshold_asked, threshold_applied, "
    "max_results, human_review, matches, top_similarity, outcome, detail, prev_hash, hash";

class SqliteStore : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}
  ~SqliteStore() override {
    for (sqlite3* db : readers_) sqlite3_close(db);
    if (writer_) sqlite3_close(writer_);
  }

  Status Open() {
    auto w = Connect();
    if (!w.ok()) return w.status();
    writer_ = w.value();
    char* err = nullptr;
    if (sqlite3_exec(writer_, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err ? err : "?";
      sqlite3_free(err);
      return Internal("store: cannot create schema in " + path_ + ": " + m);
    }
    return OpenGrants(path_);
  }

  Status CreateCollection(const Collection& c) override {
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

  Result<Collection> GetCollection(const std::string& id) override {
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
    c.face_model_version = s.Text(2);
    c.face_count = s.Int(3);
    c.user_count = s.Int(4);
    Stmt t(r.db, "SELECT key, value FROM collection_tags WHERE collection_id = ?");
    t.Bind(1, id);
    while (t.Step() == SQLITE_ROW) c.tags[t.Text(0)] = t.Text(1);
    return c;
  }

  Result<std::vector<Collection>> ListCollections(const std::string& after, int limit) override {
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
      c.face_model_version = s.Text(2);
      out.push_back(std::move(c));
    }
    if (rc != SQLITE_DONE) return SqlError(r.db, "list collections");
    return out;
  }

  Status DeleteCollection(const std::string& id) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    // Children first: cheaper than cascading row by row through triggers.
    for (const char* sql : {"DELETE FROM faces WHERE collection_id = ?",
                            "DELETE FROM users WHERE collection_id = ?",
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

  Status InsertFaces(const std::string& collection, std::vector<Face>& faces) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    Stmt up(writer_, "UPDATE collections SET face_count = face_count + ? WHERE id = ?");
    up.Bind(1, int64_t(faces.size())).Bind(2, collection);
    if (up.Step() != SQLITE_DONE) return SqlError(writer_, "count faces");
    if (sqlite3_changes(writer_) == 0) return NotFound(collection);
    Stmt ins(writer_,
             "INSERT INTO faces(face_id, collection_id, image_id, external_image_id, confidence, "
             "box_left, box_top, box_width, box_height, user_id, model_version, created_ms, "
             "descriptor) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!ins.ok()) return SqlError(writer_, "prepare insert");
    for (Face& f : faces) {
      ins.Bind(1, f.face_id).Bind(2, collection).Bind(3, f.image_id);
      ins.BindNullable(4, f.external_image_id);
      ins.Bind(5, double(f.confidence)).Bind(6, double(f.left)).Bind(7, double(f.top));
      ins.Bind(8, double(f.width)).Bind(9, double(f.height)).BindNullable(10, f.user_id);
      ins.Bind(11, f.model_version).Bind(12, f.created_ms).Bind(13, f.descriptor);
      if (ins.Step() != SQLITE_DONE) return SqlError(writer_, "insert face");
      f.label = sqlite3_last_insert_rowid(writer_);
      ins.Reset();
    }
    return txn.Commit();
  }

  Result<std::vector<Face>> FacesOfImage(const std::string& collection, const std::string& image_id,
                                         const std::string& external_image_id) override {
    Reader r(this);
    if (!r.db) return SqlError(nullptr, "open reader");
    std::string sql = std::string("SELECT ") + kFaceColumns +
                      " FROM faces WHERE collection_id = ? AND image_id = ? AND "
                      "IFNULL(external_image_id, '') = ? ORDER BY label";
    Stmt s(r.db, sql.c_str());
    s.Bind(1, collection).Bind(2, image_id).Bind(3, external_image_id);
    return Collect(s, false);
  }

  Result<std::vector<Face>> FacesByLabel(const std::string& collection,
                                         const std::vector<int64_t>& labels) override {
    Reader r(this);
    if (!r.db) return SqlError(nullptr, "open reader");
    std::string sql = std::string("SELECT ") + kFaceColumns +
                      " FROM faces WHERE label = ? AND collection_id = ?";
    Stmt s(r.db, sql.c_str());
    std::vector<Face> out;
    out.reserve(labels.size());
    for (int64_t l : labels) {
      s.Bind(1, l).Bind(2, collection);
      int rc = s.Step();
      if (rc == SQLITE_ROW) out.push_back(ReadFace(s, false));
      else if (rc != SQLITE_DONE) return SqlError(r.db, "faces by label");
      s.Reset();
    }
    return out;
  }

  Result<std::vector<Face>> ListFaces(const std::string& collection,
                                      const FaceFilter& filter) override {
    Reader r(this);
    if (!r.db) return SqlError(nullptr, "open reader");
    std::string cols = std::string(kFaceColumns) + (filter.descriptors ? ", descriptor" : "");
    if (!filter.face_ids.empty()) {
      // Up to a few thousand ids: one indexed lookup each, then label order.
      std::string sql = "SELECT " + cols + " FROM faces WHERE face_id = ? AND collection_id = ?" +
                        (filter.user_id.empty() ? "" : " AND user_id = ?");
      Stmt s(r.db, sql.c_str());
      std::vector<Face> out;
      Txn txn(r.db, "BEGIN");
      for (const auto& id : filter.face_ids) {
        s.Bind(1, id).Bind(2, collection);
        if (!filter.user_id.empty()) s.Bind(3, filter.user_id);
        int rc = s.Step();
        if (rc == SQLITE_ROW) {
          Face f = ReadFace(s, filter.descriptors);
          if (f.label > filter.after_label) out.push_back(std::move(f));
        } else if (rc != SQLITE_DONE) {
          return SqlError(r.db, "list faces");
        }
        s.Reset();
      }
      std::sort(out.begin(), out.end(), [](const Face& a, const Face& b) { return a.label < b.label; });
      out.erase(std::unique(out.begin(), out.end(),
                            [](const Face& a, const Face& b) { return a.label == b.label; }),
                out.end());
      if (int(out.size()) > filter.limit) out.resize(filter.limit);
      return out;
    }
    std::string sql = "SELECT " + cols + " FROM faces WHERE collection_id = ? AND label > ?" +
                      (filter.user_id.empty() ? "" : " AND user_id = ?") +
                      " ORDER BY label LIMIT ?";
    Stmt s(r.db, sql.c_str());
    s.Bind(1, collection).Bind(2, filter.after_label);
    int n = 3;
    if (!filter.user_id.empty()) s.Bind(n++, filter.user_id);
    s.Bind(n, int64_t(filter.limit));
    return Collect(s, filter.descriptors);
  }

  Result<std::vector<Face>> DeleteFaces(const std::string& collection,
                                        const std::vector<std::string>& face_ids) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    std::string sql = std::string("SELECT ") + kFaceColumns +
                      " FROM faces WHERE face_id = ? AND collection_id = ? AND user_id IS NULL";
    Stmt sel(writer_, sql.c_str());
    Stmt del(writer_, "DELETE FROM faces WHERE label = ?");
    std::vector<Face> deleted;
    for (const auto& id : face_ids) {
      sel.Bind(1, id).Bind(2, collection);
      int rc = sel.Step();
      if (rc == SQLITE_ROW) {
        Face f = ReadFace(sel, false);
        del.Bind(1, f.label);
        if (del.Step() != SQLITE_DONE) return SqlError(writer_, "delete face");
        del.Reset();
        deleted.push_back(std::move(f));
      } else if (rc != SQLITE_DONE) {
        return SqlError(writer_, "delete faces");
      }
      sel.Reset();
    }
    Stmt up(writer_, "UPDATE collections SET face_count = face_count - ? WHERE id = ?");
    up.Bind(1, int64_t(deleted.size())).Bind(2, collection);
    if (up.Step() != SQLITE_DONE) return SqlError(writer_, "count faces");
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    if (!deleted.empty()) TruncateWal();
    return deleted;
  }

  Status ScanDescriptors(
      const std::string& collection,
      const std::function<void(int64_t, const std::vector<float>&)>& fn) override {
    Reader r(this);
    if (!r.db) return SqlError(nullptr, "open reader");
    Txn txn(r.db, "BEGIN");
    Stmt s(r.db, "SELECT label, descriptor FROM faces WHERE collection_id = ? ORDER BY label");
    s.Bind(1, collection);
    int rc;
    std::vector<float> d;
    while ((rc = s.Step()) == SQLITE_ROW) {
      s.FloatsInto(1, d);
      fn(s.Int(0), d);
    }
    if (rc != SQLITE_DONE) return SqlError(r.db, "scan descriptors");
    return Status::Ok();
  }

  Result<std::vector<int64_t>> Labels(const std::string& collection) override {
    Reader r(this);
    if (!r.db) return SqlError(nullptr, "open reader");
    Stmt s(r.db, "SELECT label FROM faces WHERE collection_id = ? ORDER BY label");
    s.Bind(1, collection);
    std::vector<int64_t> out;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(s.Int(0));
    if (rc != SQLITE_DONE) return SqlError(r.db, "labels");
    return out;
  }

  Status CreateUser(const std::string& collection, const std::string& user_id,
                    const std::string& token, int64_t created_ms) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    ARGUS_RETURN_IF_ERROR(CollectionExists(writer_, collection));
    if (!token.empty()) {
      Stmt t(writer_, "SELECT user_id FROM users WHERE collection_id = ? AND client_token = ?");
      t.Bind(1, collection).Bind(2, token);
      if (t.Step() == SQLITE_ROW) {
        if (t.Text(0) == user_id) return Status::Ok();  // the same request again
        return {Code::kIdempotentParameterMismatch,
                "ClientRequestToken was already used with different parameters."};
      }
    }
    Stmt ins(writer_,
             "INSERT OR IGNORE INTO users(collection_id, user_id, created_ms, client_token) "
             "VALUES (?,?,?,?)");
    ins.Bind(1, collection).Bind(2, user_id).Bind(3, created_ms).BindNullable(4, token);
    if (ins.Step() != SQLITE_DONE) return SqlError(writer_, "create user");
    if (sqlite3_changes(writer_) == 0) {
      return {Code::kConflict, "The user " + user_id + " already exists in collection " +
                                   collection + "."};
    }
    return txn.Commit();
  }

  Result<User> GetUser(const std::string& collection, const std::string& user_id) override {
    Reader r(this);
    if (!r.db) return SqlError(nullptr, "open reader");
    Stmt s(r.db,
           "SELECT user_id, created_ms, (SELECT COUNT(*) FROM faces f WHERE f.collection_id = "
           "u.collection_id AND f.user_id = u.user_id) FROM users u WHERE collection_id = ? AND "
           "user_id = ?");
    s.Bind(1, collection).Bind(2, user_id);
    int rc = s.Step();
    if (rc == SQLITE_DONE) return UserNotFound(collection, user_id);
    if (rc != SQLITE_ROW) return SqlError(r.db, "get user");
    return User{s.Text(0), s.Int(1), s.Int(2)};
  }

  Status DeleteUser(const std::string& collection, const std::string& user_id) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    Stmt del(writer_, "DELETE FROM users WHERE collection_id = ? AND user_id = ?");
    del.Bind(1, collection).Bind(2, user_id);
    if (del.Step() != SQLITE_DONE) return SqlError(writer_, "delete user");
    if (sqlite3_changes(writer_) == 0) return UserNotFound(collection, user_id);
    Stmt up(writer_, "UPDATE faces SET user_id = NULL WHERE collection_id = ? AND user_id = ?");
    up.Bind(1, collection).Bind(2, user_id);
    if (up.Step() != SQLITE_DONE) return SqlError(writer_, "disassociate");
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    TruncateWal();
    return Status::Ok();
  }

  Result<std::vector<User>> ListUsers(const std::string& collection, const std::string& after,
                                      int limit) override {
    Reader r(this);
    if (!r.db) return SqlError(nullptr, "open reader");
    Stmt s(r.db,
           "SELECT user_id, created_ms, (SELECT COUNT(*) FROM faces f WHERE f.collection_id = "
           "u.collection_id AND f.user_id = u.user_id) FROM users u WHERE collection_id = ? AND "
           "user_id > ? ORDER BY user_id LIMIT ?");
    s.Bind(1, collection).Bind(2, after).Bind(3, int64_t(limit));
    std::vector<User> out;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(User{s.Text(0), s.Int(1), s.Int(2)});
    if (rc != SQLITE_DONE) return SqlError(r.db, "list users");
    return out;
  }

  Result<std::vector<std::string>> AssociateFaces(const std::string& collection,
                                                  const std::string& user_id,
                                                  const std::vector<std::string>& face_ids,
                                                  int max_faces_per_user) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    Stmt u(writer_,
           "SELECT (SELECT COUNT(*) FROM faces f WHERE f.collection_id = u.collection_id AND "
           "f.user_id = u.user_id) FROM users u WHERE collection_id = ? AND user_id = ?");
    u.Bind(1, collection).Bind(2, user_id);
    if (u.Step() != SQLITE_ROW) return UserNotFound(collection, user_id);
    int64_t count = u.Int(0);
    Stmt up(writer_,
            "UPDATE faces SET user_id = ? WHERE face_id = ? AND collection_id = ? AND user_id IS "
            "NULL");
    std::vector<std::string> done;
    for (const auto& id : face_ids) {
      up.Bind(1, user_id).Bind(2, id).Bind(3, collection);
      if (up.Step() != SQLITE_DONE) return SqlError(writer_, "associate");
      if (sqlite3_changes(writer_) > 0) done.push_back(id);
      up.Reset();
    }
    if (count + int64_t(done.size()) > max_faces_per_user) {
      return Status(Code::kServiceQuotaExceeded,
              "A user can have at most " + std::to_string(max_faces_per_user) +
                  " faces; user " + user_id + " has " + std::to_string(count) + ".");
    }
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return done;
  }

  Result<std::vector<std::string>> DisassociateFaces(
      const std::string& collection, const std::string& user_id,
      const std::vector<std::string>& face_ids) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    Stmt u(writer_, "SELECT 1 FROM users WHERE collection_id = ? AND user_id = ?");
    u.Bind(1, collection).Bind(2, user_id);
    if (u.Step() != SQLITE_ROW) return UserNotFound(collection, user_id);
    Stmt up(writer_,
            "UPDATE faces SET user_id = NULL WHERE face_id = ? AND collection_id = ? AND user_id "
            "= ?");
    std::vector<std::string> done;
    for (const auto& id : face_ids) {
      up.Bind(1, id).Bind(2, collection).Bind(3, user_id);
      if (up.Step() != SQLITE_DONE) return SqlError(writer_, "disassociate");
      if (sqlite3_changes(writer_) > 0) done.push_back(id);
      up.Reset();
    }
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    return done;
  }

  Status TagCollection(const std::string& id, const std::map<std::string, std::string>& tags,
                       int max_tags) override {
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
      return {Code::kServiceQuotaExceeded, "A collection can have at most " +
                                               std::to_string(max_tags) + " tags."};
    }
    return txn.Commit();
  }

  Status UntagCollection(const std::string& id, const std::vector<std::string>& keys) override {
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

  Result<std::vector<Face>> DeleteFacesBefore(const std::string& collection,
                                              int64_t cutoff_ms) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
    ARGUS_RETURN_IF_ERROR(CollectionExists(writer_, collection));
    std::string sql = std::string("SELECT ") + kFaceColumns +
                      " FROM faces WHERE collection_id = ? AND created_ms < ? ORDER BY label";
    Stmt sel(writer_, sql.c_str());
    sel.Bind(1, collection).Bind(2, cutoff_ms);
    auto faces = Collect(sel, false);
    if (!faces.ok()) return faces.status();
    if (faces->empty()) return faces;
    Stmt del(writer_, "DELETE FROM faces WHERE collection_id = ? AND created_ms < ?");
    del.Bind(1, collection).Bind(2, cutoff_ms);
    if (del.Step() != SQLITE_DONE) return SqlError(writer_, "purge faces");
    Stmt up(writer_, "UPDATE collections SET face_count = face_count - ? WHERE id = ?");
    up.Bind(1, int64_t(faces->size())).Bind(2, collection);
    if (up.Step() != SQLITE_DONE) return SqlError(writer_, "count faces");
    ARGUS_RETURN_IF_ERROR(txn.Commit());
    TruncateWal();
    return faces;
  }

  Status AppendAudit(AuditRecord& r,
                     const std::function<std::string(const AuditRecord&)>& hash) override {
    std::lock_guard lock(write_mu_);
    Txn txn(writer_);
    if (!txn.ok()) return SqlError(writer_, "begin");
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
    return txn.Commit();
  }

  Status ScanAudit(int64_t after_seq,
                   const std::function<bool(const AuditRecord&)>& fn) override {
    Reader rd(this);
    if (!rd.db) return SqlError(nullptr, "open reader");
    Txn txn(rd.db, "BEGIN");
    std::string sql = std::string("SELECT ") + kAuditColumns +
                      " FROM audit_log WHERE seq > ? ORDER BY seq";
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

  Result<int64_t> AuditHighWater() override {
    Reader rd(this);
    if (!rd.db) return SqlError(nullptr, "open reader");
    Stmt s(rd.db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'");
    int rc = s.Step();
    if (rc == SQLITE_ROW) return s.Int(0);
    if (rc == SQLITE_DONE) return int64_t(0);
    return SqlError(rd.db, "audit sequence");
  }

  Result<int64_t> CountAudit(const std::string& principal, const std::string& operation,
                             const std::string& decision, int64_t since_ms) override {
    Reader rd(this);
    if (!rd.db) return SqlError(nullptr, "open reader");
    Stmt s(rd.db,
           "SELECT COUNT(*) FROM audit_log WHERE principal = ? AND operation = ? AND "
           "decision = ? AND time_ms >= ?");
    s.Bind(1, principal).Bind(2, operation).Bind(3, decision).Bind(4, since_ms);
    if (s.Step() != SQLITE_ROW) return SqlError(rd.db, "count audit records");
    return s.Int(0);
  }

 private:
  // After a committed delete: copies every page into the database file and
  // truncates the write-ahead log, whose older frames may still hold the
  // deleted rows (secure_delete zeroes them in the new page images only).
  void TruncateWal() {
    int rc = sqlite3_wal_checkpoint_v2(writer_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                       nullptr);
    if (rc != SQLITE_OK) {
      log::Warn("store: could not truncate the write-ahead log after a delete (" +
                std::string(sqlite3_errmsg(writer_)) +
                "); deleted rows stay in it until the next checkpoint");
    }
  }

  // A transaction rolled back unless committed.
  class Txn {
   public:
    explicit Txn(sqlite3* db, const char* begin = "BEGIN IMMEDIATE") : db_(db) {
      ok_ = sqlite3_exec(db_, begin, nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    ~Txn() {
      if (ok_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    bool ok() const { return ok_; }
    Status Commit() {
      if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        return SqlError(db_, "commit");
      }
      ok_ = false;
      return Status::Ok();
    }

   private:
    sqlite3* db_;
    bool ok_ = false;
  };

  // A reader connection borrowed from the pool for the scope.
  struct Reader {
    explicit Reader(SqliteStore* s) : store(s) {
      {
        std::lock_guard lock(s->pool_mu_);
        if (!s->readers_.empty()) {
          db = s->readers_.back();
          s->readers_.pop_back();
          return;
        }
      }
      auto c = s->Connect();
      if (c.ok()) db = c.value();
    }
    ~Reader() {
      if (!db) return;
      std::lock_guard lock(store->pool_mu_);
      store->readers_.push_back(db);
    }
    SqliteStore* store;
    sqlite3* db = nullptr;
  };

  Result<sqlite3*> Connect() {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path_.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      Status st = Internal("store: cannot open " + path_ + ": " +
                           (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
      sqlite3_close(db);
      return st;
    }
    sqlite3_busy_timeout(db, 10000);
    for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                               "PRAGMA foreign_keys=ON", "PRAGMA cache_size=-16384",
                               "PRAGMA secure_delete=ON"}) {
      if (sqlite3_exec(db, pragma, nullptr, nullptr, nullptr) != SQLITE_OK) {
        Status st = SqlError(db, pragma);
        sqlite3_close(db);
        return st;
      }
    }
    return db;
  }

  static Status CollectionExists(sqlite3* db, const std::string& id) {
    Stmt s(db, "SELECT 1 FROM collections WHERE id = ?");
    s.Bind(1, id);
    return s.Step() == SQLITE_ROW ? Status::Ok() : NotFound(id);
  }
  static Status NotFound(const std::string& id) {
    return {Code::kResourceNotFound, "The collection id: " + id + " does not exist"};
  }
  static Status UserNotFound(const std::string& collection, const std::string& user) {
    return {Code::kResourceNotFound,
            "The user " + user + " does not exist in collection " + collection + "."};
  }
  static Result<std::vector<Face>> Collect(Stmt& s, bool descriptors) {
    std::vector<Face> out;
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadFace(s, descriptors));
    if (rc != SQLITE_DONE) return SqlError(s.db(), "read faces");
    return out;
  }

  std::string path_;
  std::mutex write_mu_;
  sqlite3* writer_ = nullptr;
  std::mutex pool_mu_;
  std::vector<sqlite3*> readers_;
};

}  // namespace

Result<std::unique_ptr<Store>> Store::OpenSqlite(const std::string& path) {
  auto s = std::make_unique<SqliteStore>(path);
  ARGUS_RETURN_IF_ERROR(s->Open());
  return std::unique_ptr<Store>(std::move(s));
}

}  // namespace argus::store
