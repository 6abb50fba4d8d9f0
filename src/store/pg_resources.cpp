// The PostgreSQL store: resources kept as documents (store.h: ResourceRow),
// which every node reads and updates by compare-and-set on their version.
#include "store/pg_internal.h"

namespace argus::store::pg_impl {

namespace {

constexpr const char* kColumns = "kind, id, owner, body, version, created_ms, updated_ms";

ResourceRow ReadRow(const Rows& r, int i) {
  ResourceRow row;
  row.kind = r.Text(i, 0);
  row.id = r.Text(i, 1);
  row.owner = r.Text(i, 2);
  row.body = r.Text(i, 3);
  row.version = r.Int(i, 4);
  row.created_ms = r.Int(i, 5);
  row.updated_ms = r.Int(i, 6);
  return row;
}

Status ResourceMissing(const std::string& kind, const std::string& id) {
  return Status(Code::kResourceNotFound, kind + " " + id + " does not exist");
}

}  // namespace

Status PgStore::InsertResource(const ResourceRow& row) {
  return With([&](Conn& c) -> Status {
    auto r = c.Exec(
        "INSERT INTO resources (kind, id, owner, body, version, created_ms, updated_ms) "
        "VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT DO NOTHING",
        {row.kind, row.id, row.owner, row.body, row.created_ms, row.updated_ms});
    if (!r.ok()) return r.status();
    if (r->affected() == 0) {
      return Status(Code::kResourceAlreadyExists, row.kind + " " + row.id + " already exists");
    }
    return Status::Ok();
  });
}

Result<ResourceRow> PgStore::GetResource(const std::string& kind, const std::string& id) {
  ResourceRow out;
  Status st = With([&](Conn& c) -> Status {
    auto r =
        c.Exec(std::string("SELECT ") + kColumns + " FROM resources WHERE kind = $1 AND id = $2",
               {kind, id});
    if (!r.ok()) return r.status();
    if (r->size() == 0) return ResourceMissing(kind, id);
    out = ReadRow(r.value(), 0);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<bool> PgStore::UpdateResource(const ResourceRow& row, int64_t expected_version) {
  bool updated = false;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(
        "UPDATE resources SET body = $1, updated_ms = $2, version = version + 1 "
        "WHERE kind = $3 AND id = $4 AND version = $5",
        {row.body, row.updated_ms, row.kind, row.id, expected_version});
    if (!r.ok()) return r.status();
    updated = r->affected() > 0;
    if (updated) return Status::Ok();
    auto e = c.Exec("SELECT 1 FROM resources WHERE kind = $1 AND id = $2", {row.kind, row.id});
    if (!e.ok()) return e.status();
    return e->size() ? Status::Ok() : ResourceMissing(row.kind, row.id);
  });
  if (!st.ok()) return st;
  return updated;
}

Result<std::vector<ResourceRow>> PgStore::ListResources(const std::string& kind,
                                                        const std::string& after_id, int limit) {
  std::vector<ResourceRow> out;
  Status st = With([&](Conn& c) -> Status {
    out.clear();
    auto r = c.Exec(std::string("SELECT ") + kColumns +
                        " FROM resources WHERE kind = $1 AND id > $2 ORDER BY id LIMIT $3",
                    {kind, after_id, int64_t(limit)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) out.push_back(ReadRow(r.value(), i));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status PgStore::DeleteResource(const std::string& kind, const std::string& id) {
  return With([&](Conn& c) -> Status {
    auto r = c.Exec("DELETE FROM resources WHERE kind = $1 AND id = $2", {kind, id});
    if (!r.ok()) return r.status();
    return r->affected() ? Status::Ok() : ResourceMissing(kind, id);
  });
}

Result<int64_t> PgStore::DeleteResourcesUpdatedBefore(const std::string& kind, int64_t cutoff_ms) {
  int64_t n = 0;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec("DELETE FROM resources WHERE kind = $1 AND updated_ms < $2", {kind, cutoff_ms});
    if (!r.ok()) return r.status();
    n = r->affected();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return n;
}

}  // namespace argus::store::pg_impl
