#pragma once
// Private to the SQLite store's files (sqlite_store.cpp: connections,
// schema, collections and tags; sqlite_faces.cpp; sqlite_users.cpp;
// sqlite_audit.cpp): statement and transaction helpers and the store class.
// One writer connection (serialised by a mutex, BEGIN IMMEDIATE,
// synchronous=FULL so a commit is on disk before it returns) and a pool of
// reader connections that see committed snapshots.
#include <sqlite3.h>

#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace argus::store::sqlite_impl {

inline Status SqlError(sqlite3* db, const std::string& what) {
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
  Stmt& BindBlob(int i, const std::string& v) {
    sqlite3_bind_blob(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  std::string Blob(int c) const {
    const void* p = sqlite3_column_blob(s_, c);
    return p ? std::string(static_cast<const char*>(p), sqlite3_column_bytes(s_, c))
             : std::string();
  }
  Stmt& BindNullable(int i, const std::string& v) {
    if (v.empty())
      sqlite3_bind_null(s_, i);
    else
      Bind(i, v);
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
    if (v)
      sqlite3_bind_double(s_, i, *v);
    else
      sqlite3_bind_null(s_, i);
    return *this;
  }
  Stmt& Bind(int i, const std::optional<int64_t>& v) {
    if (v)
      sqlite3_bind_int64(s_, i, *v);
    else
      sqlite3_bind_null(s_, i);
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

inline constexpr const char* kFaceColumns =
    "label, face_id, image_id, external_image_id, confidence, box_left, box_top, box_width, "
    "box_height, user_id, model_version, created_ms";

inline Face ReadFace(const Stmt& s, bool descriptor) {
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
  f.model_version = FaceModelVersionOnRead(s.Text(10));
  f.created_ms = s.Int(11);
  if (descriptor) f.descriptor = s.Floats(12);
  return f;
}

inline constexpr const char* kAuditColumns =
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

  Status Open();
  Status CreateCollection(const Collection& c) override;
  Result<Collection> GetCollection(const std::string& id) override;
  Result<std::vector<Collection>> ListCollections(const std::string& after, int limit) override;
  Status DeleteCollection(const std::string& id) override;
  Status InsertFaces(const std::string& collection, std::vector<Face>& faces,
                     const AuditAppend* audit) override;
  Result<std::vector<Face>> FacesOfImage(const std::string& collection, const std::string& image_id,
                                         const std::string& external_image_id) override;
  Result<std::vector<Face>> FacesByLabel(const std::string& collection,
                                         const std::vector<int64_t>& labels) override;
  Result<std::vector<Face>> ListFaces(const std::string& collection,
                                      const FaceFilter& filter) override;
  Result<std::vector<Face>> DeleteFaces(const std::string& collection,
                                        const std::vector<std::string>& face_ids) override;
  Status ScanDescriptors(
      const std::string& collection,
      const std::function<void(int64_t, const std::vector<float>&)>& fn) override;
  Result<std::vector<int64_t>> Labels(const std::string& collection) override;
  Status CreateUser(const std::string& collection, const std::string& user_id,
                    const std::string& token, int64_t created_ms) override;
  Result<User> GetUser(const std::string& collection, const std::string& user_id) override;
  Status DeleteUser(const std::string& collection, const std::string& user_id) override;
  Result<std::vector<User>> ListUsers(const std::string& collection, const std::string& after,
                                      int limit) override;
  Result<std::vector<std::string>> AssociateFaces(const std::string& collection,
                                                  const std::string& user_id,
                                                  const std::vector<std::string>& face_ids,
                                                  int max_faces_per_user) override;
  Result<std::vector<std::string>> DisassociateFaces(
      const std::string& collection, const std::string& user_id,
      const std::vector<std::string>& face_ids) override;
  Status TagCollection(const std::string& id, const std::map<std::string, std::string>& tags,
                       int max_tags) override;
  Status UntagCollection(const std::string& id, const std::vector<std::string>& keys) override;
  Result<std::vector<Face>> DeleteFacesBefore(const std::string& collection,
                                              int64_t cutoff_ms) override;
  Status AppendAudit(AuditRecord& r,
                     const std::function<std::string(const AuditRecord&)>& hash) override;
  void OnAuditCommitted(std::function<void(const AuditRecord&)> fn) override;
  Status ScanAudit(int64_t after_seq, const std::function<bool(const AuditRecord&)>& fn) override;
  Result<int64_t> AuditHighWater() override;
  Result<int64_t> CountAudit(const std::string& principal, const std::string& operation,
                             const std::string& decision, int64_t since_ms) override;

 private:
  // Inside a write transaction (write_mu_ held): assigns r.seq, r.prev_hash
  // and r.hash and inserts the record.
  Status AppendAuditLocked(AuditRecord& r,
                           const std::function<std::string(const AuditRecord&)>& hash);

  // After the commit of an audit record, write_mu_ still held.
  void AuditCommitted(const AuditRecord& r);

  // After a committed delete: copies every page into the database file and
  // truncates the write-ahead log, whose older frames may still hold the
  // deleted rows (secure_delete zeroes them in the new page images only).
  void TruncateWal();

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
  Result<sqlite3*> Connect();
  static Status CollectionExists(sqlite3* db, const std::string& id);
  static Status NotFound(const std::string& id);
  static Status UserNotFound(const std::string& collection, const std::string& user);
  static Result<std::vector<Face>> Collect(Stmt& s, bool descriptors);

  std::string path_;
  std::mutex write_mu_;
  sqlite3* writer_ = nullptr;
  std::function<void(const AuditRecord&)> audit_committed_;  // under write_mu_
  std::mutex pool_mu_;
  std::vector<sqlite3*> readers_;
};

}  // namespace argus::store::sqlite_impl
