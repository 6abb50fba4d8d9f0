#include "service/documents.h"

#include "store/store.h"

namespace argus::service {
namespace {

Document FromRow(store::ResourceRow r) {
  return {std::move(r.kind), std::move(r.id), std::move(r.owner), std::move(r.body),
          r.version,         r.created_ms,    r.updated_ms};
}

store::ResourceRow ToRow(const Document& d) {
  store::ResourceRow r;
  r.kind = d.kind;
  r.id = d.id;
  r.owner = d.owner;
  r.body = d.body;
  r.version = d.version;
  r.created_ms = d.created_ms;
  r.updated_ms = d.updated_ms;
  return r;
}

}  // namespace

Status Documents::Insert(const Document& d) { return store_.InsertResource(ToRow(d)); }

Result<Document> Documents::Get(const std::string& kind, const std::string& id) {
  ARGUS_ASSIGN(row, store_.GetResource(kind, id));
  return FromRow(std::move(row));
}

Result<bool> Documents::Update(const Document& d, int64_t expected_version) {
  return store_.UpdateResource(ToRow(d), expected_version);
}

Result<std::vector<Document>> Documents::List(const std::string& kind, const std::string& after_id,
                                              int limit) {
  ARGUS_ASSIGN(rows, store_.ListResources(kind, after_id, limit));
  std::vector<Document> out;
  out.reserve(rows.size());
  for (auto& r : rows) out.push_back(FromRow(std::move(r)));
  return out;
}

Status Documents::Delete(const std::string& kind, const std::string& id) {
  return store_.DeleteResource(kind, id);
}

Result<int64_t> Documents::PurgeUpdatedBefore(const std::string& kind, int64_t cutoff_ms) {
  return store_.DeleteResourcesUpdatedBefore(kind, cutoff_ms);
}

}  // namespace argus::service
