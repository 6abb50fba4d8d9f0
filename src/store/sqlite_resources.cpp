// Resources kept as documents (store.h: ResourceRow) in SQLite: table
// `resources` in the store's database file, on a connection of its own
// (WAL, synchronous=FULL).
#include <sqlite3.h>

#include <mutex>

#include "store/sqlite_internal.h"
#include "store/store.h"

namespace argus::store {

using sqlite_impl::SqlError;
using sqlite_impl::Stmt;

struct Store::ResourceTable {
  std::mutex mu;
  sqlite3* db = nullptr;
  ~ResourceTable() {
    if (db) sqlite3_close(db);
  }
};

namespace {

constexpr const char* kResourcesSchema = R"sql(
CREATE TABLE IF NOT EXISTS resources (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  owner TEXT NOT NULL,
  body TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
);
)sql";

constexpr const char* kColumns = "kind, id, owner, body, version, created_ms, updated_ms";

ResourceRow ReadRow(const Stmt& s) {
  ResourceRow r;
  r.kind = s.Text(0);
  r.id = s.Text(1);
  r.owner = s.Text(2);
  r.body = s.Text(3);
  r.version = s.Int(4);
  r.created_ms = s.Int(5);
  r.updated_ms = s.Int(6);
  return r;
}

Status NoResources() { return Status(Code::kInternal, "store: this store keeps no resources"); }

Status NotFound(const std::string& kind, const std::string& id) {
  return Status(Code::kResourceNotFound, kind + " " + id + " does not exist");
}

}  // namespace

Status Store::OpenResources(const std::string& path) {
  auto t = std::make_shared<ResourceTable>();
  if (sqlite3_open_v2(path.c_str(), &t->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return Internal("store: cannot open " + path + " for resources");
  }
  sqlite3_busy_timeout(t->db, 10000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", kResourcesSchema}) {
    if (sqlite3_exec(t->db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SqlError(t->db, "resources schema");
    }
  }
  resources_ = std::move(t);
  return Status::Ok();
}

Status Store::InsertResource(const ResourceRow& row) {
  if (!resources_) return NoResources();
  std::lock_guard lock(resources_->mu);
  Stmt s(resources_->db,
         "INSERT OR IGNORE INTO resources (kind, id, owner, body, version, created_ms, "
         "updated_ms) VALUES (?, ?, ?, ?, 1, ?, ?)");
  if (!s.ok()) return SqlError(resources_->db, "insert resource");
  s.Bind(1, row.kind).Bind(2, row.id).Bind(3, row.owner).Bind(4, row.body);
  s.Bind(5, row.created_ms).Bind(6, row.updated_ms);
  if (s.Step() != SQLITE_DONE) return SqlError(resources_->db, "insert resource");
  if (sqlite3_changes(resources_->db) == 0) {
    return Status(Code::kResourceAlreadyExists, row.kind + " " + row.id + " already exists");
  }
  return Status::Ok();
}

Result<ResourceRow> Store::GetResource(const std::string& kind, const std::string& id) {
  if (!resources_) return NoResources();
  std::lock_guard lock(resources_->mu);
  std::string sql = std::string("SELECT ") + kColumns + " FROM resources WHERE kind = ? AND id = ?";
  Stmt s(resources_->db, sql.c_str());
  if (!s.ok()) return SqlError(resources_->db, "get resource");
  s.Bind(1, kind).Bind(2, id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return ReadRow(s);
  if (rc != SQLITE_DONE) return SqlError(resources_->db, "get resource");
  return NotFound(kind, id);
}

Result<bool> Store::UpdateResource(const ResourceRow& row, int64_t expected_version) {
  if (!resources_) return NoResources();
  std::lock_guard lock(resources_->mu);
  Stmt s(resources_->db,
         "UPDATE resources SET body = ?, updated_ms = ?, version = version + 1 "
         "WHERE kind = ? AND id = ? AND version = ?");
  if (!s.ok()) return SqlError(resources_->db, "update resource");
  s.Bind(1, row.body).Bind(2, row.updated_ms).Bind(3, row.kind).Bind(4, row.id);
  s.Bind(5, expected_version);
  if (s.Step() != SQLITE_DONE) return SqlError(resources_->db, "update resource");
  if (sqlite3_changes(resources_->db) > 0) return true;
  Stmt exists(resources_->db, "SELECT 1 FROM resources WHERE kind = ? AND id = ?");
  if (!exists.ok()) return SqlError(resources_->db, "update resource");
  exists.Bind(1, row.kind).Bind(2, row.id);
  int rc = exists.Step();
  if (rc == SQLITE_ROW) return false;
  if (rc != SQLITE_DONE) return SqlError(resources_->db, "update resource");
  return NotFound(row.kind, row.id);
}

Result<std::vector<ResourceRow>> Store::ListResources(const std::string& kind,
                                                      const std::string& after_id, int limit) {
  if (!resources_) return NoResources();
  std::lock_guard lock(resources_->mu);
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM resources WHERE kind = ? AND id > ? ORDER BY id LIMIT ?";
  Stmt s(resources_->db, sql.c_str());
  if (!s.ok()) return SqlError(resources_->db, "list resources");
  s.Bind(1, kind).Bind(2, after_id).Bind(3, int64_t(limit));
  std::vector<ResourceRow> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRow(s));
  if (rc != SQLITE_DONE) return SqlError(resources_->db, "list resources");
  return out;
}

Status Store::DeleteResource(const std::string& kind, const std::string& id) {
  if (!resources_) return NoResources();
  std::lock_guard lock(resources_->mu);
  Stmt s(resources_->db, "DELETE FROM resources WHERE kind = ? AND id = ?");
  if (!s.ok()) return SqlError(resources_->db, "delete resource");
  s.Bind(1, kind).Bind(2, id);
  if (s.Step() != SQLITE_DONE) return SqlError(resources_->db, "delete resource");
  if (sqlite3_changes(resources_->db) == 0) return NotFound(kind, id);
  return Status::Ok();
}

Result<int64_t> Store::DeleteResourcesUpdatedBefore(const std::string& kind, int64_t cutoff_ms) {
  if (!resources_) return NoResources();
  std::lock_guard lock(resources_->mu);
  Stmt s(resources_->db, "DELETE FROM resources WHERE kind = ? AND updated_ms < ?");
  if (!s.ok()) return SqlError(resources_->db, "purge resources");
  s.Bind(1, kind).Bind(2, cutoff_ms);
  if (s.Step() != SQLITE_DONE) return SqlError(resources_->db, "purge resources");
  return int64_t(sqlite3_changes(resources_->db));
}

}  // namespace argus::store
