// Principals and access keys in SQLite: tables principals and access_keys in
// the store's database file, on a connection of its own (WAL,
// synchronous=FULL, secure_delete).
#include <sqlite3.h>

#include <mutex>

#include "store/sqlite_internal.h"
#include "store/store.h"

namespace argus::store {

using sqlite_impl::SqlError;
using sqlite_impl::Stmt;

struct Store::KeyTables {
  std::mutex mu;
  sqlite3* db = nullptr;
  ~KeyTables() {
    if (db) sqlite3_close(db);
  }
};

namespace {

constexpr const char* kKeysSchema = R"sql(
CREATE TABLE IF NOT EXISTS principals (
  name TEXT PRIMARY KEY,
  org_type TEXT NOT NULL,
  default_purpose TEXT NOT NULL,
  authorisation TEXT NOT NULL DEFAULT '',
  admin INTEGER NOT NULL DEFAULT 0,
  rate_limit REAL NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_keys (
  access_key_id TEXT PRIMARY KEY,
  principal TEXT NOT NULL REFERENCES principals(name),
  secret_nonce BLOB NOT NULL,       -- AES-256-GCM under argus.key
  secret_ciphertext BLOB NOT NULL,  -- ciphertext || 16-byte tag; AAD = access_key_id
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
)sql";

constexpr const char* kPrincipalColumns =
    "p.name, p.org_type, p.default_purpose, p.authorisation, p.admin, p.rate_limit, p.created_at";

PrincipalRow ReadPrincipal(const Stmt& s, int at) {
  PrincipalRow p;
  p.name = s.Text(at);
  p.org_type = s.Text(at + 1);
  p.default_purpose = s.Text(at + 2);
  p.authorisation = s.Text(at + 3);
  p.admin = s.Int(at + 4) != 0;
  p.rate_limit = s.Real(at + 5);
  p.created_at = s.Int(at + 6);
  return p;
}

Status NoKeys() { return Status(Code::kInternal, "store: this store keeps no access keys"); }

}  // namespace

Status Store::OpenKeys(const std::string& path) {
  auto k = std::make_shared<KeyTables>();
  if (sqlite3_open_v2(path.c_str(), &k->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return Internal("store: cannot open " + path + " for access keys");
  }
  sqlite3_busy_timeout(k->db, 10000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "PRAGMA secure_delete=ON", kKeysSchema}) {
    if (sqlite3_exec(k->db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SqlError(k->db, "access keys schema");
    }
  }
  keys_ = std::move(k);
  return Status::Ok();
}

Result<std::optional<PrincipalRow>> Store::GetPrincipal(const std::string& name) {
  if (!keys_) return NoKeys();
  std::lock_guard lock(keys_->mu);
  std::string sql =
      std::string("SELECT ") + kPrincipalColumns + " FROM principals p WHERE p.name = ?";
  Stmt s(keys_->db, sql.c_str());
  if (!s.ok()) return SqlError(keys_->db, "principals");
  s.Bind(1, name);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<PrincipalRow>(ReadPrincipal(s, 0));
  if (rc != SQLITE_DONE) return SqlError(keys_->db, "principals");
  return std::optional<PrincipalRow>();
}

Status Store::InsertAccessKey(const std::optional<PrincipalRow>& p, const AccessKeyRow& k) {
  if (!keys_) return NoKeys();
  std::lock_guard lock(keys_->mu);
  sqlite3* db = keys_->db;
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqlError(db, "access keys: begin");
  }
  auto step = [&](Stmt& s, const char* what) -> Status {
    if (!s.ok()) return SqlError(db, what);
    int rc = s.Step();
    if (rc == SQLITE_DONE) return Status::Ok();
    if (rc == SQLITE_CONSTRAINT) {
      return Status(Code::kResourceAlreadyExists, std::string(what) + ": already exists");
    }
    return SqlError(db, what);
  };
  Status st;
  if (p) {
    Stmt ins(db,
             "INSERT INTO principals (name, org_type, default_purpose, authorisation, admin, "
             "rate_limit, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.Bind(1, p->name).Bind(2, p->org_type).Bind(3, p->default_purpose);
    ins.Bind(4, p->authorisation).Bind(5, int64_t(p->admin)).Bind(6, p->rate_limit);
    ins.Bind(7, p->created_at);
    st = step(ins, "principal");
  }
  if (st.ok()) {
    Stmt ins(db,
             "INSERT INTO access_keys (access_key_id, principal, secret_nonce, "
             "secret_ciphertext, created_at) VALUES (?, ?, ?, ?, ?)");
    ins.Bind(1, k.access_key_id).Bind(2, k.principal).BindBlob(3, k.nonce).BindBlob(4, k.sealed);
    ins.Bind(5, k.created_at);
    st = step(ins, "access key");
  }
  if (st.ok() && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) return st;
  if (st.ok()) st = SqlError(db, "access keys: commit");
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return st;
}

Result<std::vector<std::pair<AccessKeyRow, PrincipalRow>>> Store::ListAccessKeys(bool active_only) {
  if (!keys_) return NoKeys();
  std::lock_guard lock(keys_->mu);
  std::string sql =
      std::string(
          "SELECT k.access_key_id, k.secret_nonce, k.secret_ciphertext, "
          "k.created_at, k.revoked_at, ") +
      kPrincipalColumns + " FROM access_keys k JOIN principals p ON p.name = k.principal" +
      (active_only ? " WHERE k.revoked_at = 0" : "") + " ORDER BY k.created_at DESC, k.rowid DESC";
  Stmt s(keys_->db, sql.c_str());
  if (!s.ok()) return SqlError(keys_->db, "access keys");
  std::vector<std::pair<AccessKeyRow, PrincipalRow>> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    AccessKeyRow k;
    k.access_key_id = s.Text(0);
    k.nonce = s.Blob(1);
    k.sealed = s.Blob(2);
    k.created_at = s.Int(3);
    k.revoked_at = s.Int(4);
    PrincipalRow p = ReadPrincipal(s, 5);
    k.principal = p.name;
    out.emplace_back(std::move(k), std::move(p));
  }
  if (rc != SQLITE_DONE) return SqlError(keys_->db, "access keys");
  return out;
}

Status Store::RevokeAccessKey(const std::string& access_key_id, int64_t revoked_at) {
  if (!keys_) return NoKeys();
  std::lock_guard lock(keys_->mu);
  Stmt s(keys_->db,
         "UPDATE access_keys SET revoked_at = ? WHERE access_key_id = ? AND revoked_at = 0");
  if (!s.ok()) return SqlError(keys_->db, "revoke");
  s.Bind(1, revoked_at).Bind(2, access_key_id);
  if (s.Step() != SQLITE_DONE) return SqlError(keys_->db, "revoke");
  if (sqlite3_changes(keys_->db) == 0) {
    return Status(Code::kResourceNotFound, "no active access key " + access_key_id);
  }
  return Status::Ok();
}

Result<int64_t> Store::AccessKeysVersion() {
  if (!keys_) return NoKeys();
  std::lock_guard lock(keys_->mu);
  Stmt s(keys_->db, "PRAGMA data_version");
  if (!s.ok() || s.Step() != SQLITE_ROW) return SqlError(keys_->db, "data_version");
  return s.Int(0);
}

Result<bool> Store::TakeRateToken(const std::string& /*principal*/, double /*rate*/,
                                  double /*burst*/) {
  return Status(Code::kInternal, "store: this store shares no rate limits");
}

}  // namespace argus::store
