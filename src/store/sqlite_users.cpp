// The SQLite store: users and their faces.
#include "store/sqlite_internal.h"

namespace argus::store::sqlite_impl {

Status SqliteStore::CreateUser(const std::string& collection, const std::string& user_id,
                               const std::string& token, int64_t created_ms) {
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
    return {Code::kConflict,
            "The user " + user_id + " already exists in collection " + collection + "."};
  }
  return txn.Commit();
}

Result<User> SqliteStore::GetUser(const std::string& collection, const std::string& user_id) {
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

Status SqliteStore::DeleteUser(const std::string& collection, const std::string& user_id) {
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

Result<std::vector<User>> SqliteStore::ListUsers(const std::string& collection,
                                                 const std::string& after, int limit) {
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

Result<std::vector<std::string>> SqliteStore::AssociateFaces(
    const std::string& collection, const std::string& user_id,
    const std::vector<std::string>& face_ids, int max_faces_per_user) {
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

Result<std::vector<std::string>> SqliteStore::DisassociateFaces(
    const std::string& collection, const std::string& user_id,
    const std::vector<std::string>& face_ids) {
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

Status SqliteStore::UserNotFound(const std::string& collection, const std::string& user) {
  return {Code::kResourceNotFound,
          "The user " + user + " does not exist in collection " + collection + "."};
}

}  // namespace argus::store::sqlite_impl
