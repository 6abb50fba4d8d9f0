// Tenancy grants in SQLite: table collection_grants (collection, principal,
// access) in the store's database file, on a connection of its own.
#include <sqlite3.h>

#include <mutex>

#include "store/store.h"

namespace argus::store {

struct Store::Grants {
  std::mutex mu;
  sqlite3* db = nullptr;
  ~Grants() {
    if (db) sqlite3_close(db);
  }

  Status Error(const std::string& what) const {
    return Internal("store: " + what + ": " + sqlite3_errmsg(db));
  }

  // Runs `sql` with text parameters; rows go to `row` (one string per column).
  Status Run(const char* sql, const std::vector<std::string>& params,
             const std::function<void(sqlite3_stmt*)>& row = nullptr) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return Error(sql);
    for (size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(s, int(i + 1), params[i].data(), int(params[i].size()), SQLITE_TRANSIENT);
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (row) row(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? Status::Ok() : Error(sql);
  }

  // The statements of `body` in one durable transaction.
  Status Txn(const std::function<Status()>& body) {
    std::lock_guard lock(mu);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Error("begin");
    }
    Status st = body();
    if (st.ok() && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) {
      return st;
    }
    if (st.ok()) st = Error("commit");
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }

  Result<std::vector<CollectionGrant>> Select(const char* sql, const std::string& key) {
    std::lock_guard lock(mu);
    std::vector<CollectionGrant> out;
    auto text = [](sqlite3_stmt* s, int c) {
      auto p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
      return p ? std::string(p, sqlite3_column_bytes(s, c)) : std::string();
    };
    Status st = Run(sql, {key}, [&](sqlite3_stmt* s) {
      out.push_back({text(s, 0), text(s, 1), text(s, 2)});
    });
    if (!st.ok()) return st;
    return out;
  }
};

namespace {

constexpr const char* kGrantsSchema = R"sql(
CREATE TABLE IF NOT EXISTS collection_grants (
  collection TEXT NOT NULL,
  principal TEXT NOT NULL,
  access TEXT NOT NULL CHECK (access IN ('owner', 'full', 'read')),
  PRIMARY KEY (collection, principal)
);
CREATE INDEX IF NOT EXISTS collection_grants_by_principal ON collection_grants(principal);
)sql";

Status NoGrants() {
  return Status(Code::kInternal, "store: this store keeps no collection grants");
}

}  // namespace

Status Store::OpenGrants(const std::string& path) {
  auto g = std::make_shared<Grants>();
  int rc =
      sqlite3_open_v2(path.c_str(), &g->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return Internal("store: cannot open " + path + " for collection grants");
  sqlite3_busy_timeout(g->db, 10000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                          "PRAGMA secure_delete=ON", kGrantsSchema}) {
    if (sqlite3_exec(g->db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      return g->Error("collection grants schema");
    }
  }
  grants_ = std::move(g);
  return Status::Ok();
}

Status Store::SetCollectionOwner(const std::string& collection, const std::string& principal) {
  if (!grants_) return NoGrants();
  return grants_->Txn([&] {
    ARGUS_RETURN_IF_ERROR(
        grants_->Run("DELETE FROM collection_grants WHERE collection = ?", {collection}));
    return grants_->Run(
        "INSERT INTO collection_grants (collection, principal, access) VALUES (?, ?, 'owner')",
        {collection, principal});
  });
}

Status Store::GrantCollection(const std::string& collection, const std::string& principal,
                              const std::string& access) {
  if (!grants_) return NoGrants();
  if (access != "owner" && access != "full" && access != "read") {
    return InvalidParameter("access must be owner, full or read, got '" + access + "'");
  }
  return grants_->Txn([&] {
    return grants_->Run(
        "INSERT INTO collection_grants (collection, principal, access) VALUES (?, ?, ?) "
        "ON CONFLICT (collection, principal) DO UPDATE SET access = excluded.access",
        {collection, principal, access});
  });
}

Status Store::RevokeCollection(const std::string& collection, const std::string& principal) {
  if (!grants_) return NoGrants();
  return grants_->Txn([&] {
    return grants_->Run("DELETE FROM collection_grants WHERE collection = ? AND principal = ?",
                        {collection, principal});
  });
}

Status Store::DropCollectionGrants(const std::string& collection) {
  if (!grants_) return NoGrants();
  return grants_->Txn([&] {
    return grants_->Run("DELETE FROM collection_grants WHERE collection = ?", {collection});
  });
}

Result<std::vector<CollectionGrant>> Store::GrantsOfCollection(const std::string& collection) {
  if (!grants_) return NoGrants();
  return grants_->Select(
      "SELECT collection, principal, access FROM collection_grants WHERE collection = ? "
      "ORDER BY principal",
      collection);
}

Result<std::vector<CollectionGrant>> Store::GrantsOfPrincipal(const std::string& principal) {
  if (!grants_) return NoGrants();
  return grants_->Select(
      "SELECT collection, principal, access FROM collection_grants WHERE principal = ? "
      "ORDER BY collection",
      principal);
}

}  // namespace argus::store
