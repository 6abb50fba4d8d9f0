// The SQLite store: faces.
#include <algorithm>

#include "store/sqlite_internal.h"

namespace argus::store::sqlite_impl {

Status SqliteStore::InsertFaces(const std::string& collection, std::vector<Face>& faces,
                                const AuditAppend* audit) {
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
  if (audit) ARGUS_RETURN_IF_ERROR(AppendAuditLocked(*audit->record, audit->hash));
  ARGUS_RETURN_IF_ERROR(txn.Commit());
  if (audit) AuditCommitted(*audit->record);
  return Status::Ok();
}

Result<std::vector<Face>> SqliteStore::FacesOfImage(const std::string& collection,
                                                    const std::string& image_id,
                                                    const std::string& external_image_id) {
  Reader r(this);
  if (!r.db) return SqlError(nullptr, "open reader");
  std::string sql = std::string("SELECT ") + kFaceColumns +
                    " FROM faces WHERE collection_id = ? AND image_id = ? AND "
                    "IFNULL(external_image_id, '') = ? ORDER BY label";
  Stmt s(r.db, sql.c_str());
  s.Bind(1, collection).Bind(2, image_id).Bind(3, external_image_id);
  return Collect(s, false);
}

Result<std::vector<Face>> SqliteStore::FacesByLabel(const std::string& collection,
                                                    const std::vector<int64_t>& labels) {
  Reader r(this);
  if (!r.db) return SqlError(nullptr, "open reader");
  std::string sql =
      std::string("SELECT ") + kFaceColumns + " FROM faces WHERE label = ? AND collection_id = ?";
  Stmt s(r.db, sql.c_str());
  std::vector<Face> out;
  out.reserve(labels.size());
  for (int64_t l : labels) {
    s.Bind(1, l).Bind(2, collection);
    int rc = s.Step();
    if (rc == SQLITE_ROW)
      out.push_back(ReadFace(s, false));
    else if (rc != SQLITE_DONE)
      return SqlError(r.db, "faces by label");
    s.Reset();
  }
  return out;
}

Result<std::vector<Face>> SqliteStore::ListFaces(const std::string& collection,
                                                 const FaceFilter& filter) {
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
    std::sort(out.begin(), out.end(),
              [](const Face& a, const Face& b) { return a.label < b.label; });
    out.erase(std::unique(out.begin(), out.end(),
                          [](const Face& a, const Face& b) { return a.label == b.label; }),
              out.end());
    if (int(out.size()) > filter.limit) out.resize(filter.limit);
    return out;
  }
  std::string sql = "SELECT " + cols + " FROM faces WHERE collection_id = ? AND label > ?" +
                    (filter.user_id.empty() ? "" : " AND user_id = ?") + " ORDER BY label LIMIT ?";
  Stmt s(r.db, sql.c_str());
  s.Bind(1, collection).Bind(2, filter.after_label);
  int n = 3;
  if (!filter.user_id.empty()) s.Bind(n++, filter.user_id);
  s.Bind(n, int64_t(filter.limit));
  return Collect(s, filter.descriptors);
}

Result<std::vector<Face>> SqliteStore::DeleteFaces(const std::string& collection,
                                                   const std::vector<std::string>& face_ids) {
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

Status SqliteStore::ScanDescriptors(
    const std::string& collection,
    const std::function<void(int64_t, const std::vector<float>&)>& fn) {
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

Result<std::vector<int64_t>> SqliteStore::Labels(const std::string& collection) {
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

Result<std::vector<Face>> SqliteStore::DeleteFacesBefore(const std::string& collection,
                                                         int64_t cutoff_ms) {
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

Result<std::vector<Face>> SqliteStore::Collect(Stmt& s, bool descriptors) {
  std::vector<Face> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadFace(s, descriptors));
  if (rc != SQLITE_DONE) return SqlError(s.db(), "read faces");
  return out;
}

}  // namespace argus::store::sqlite_impl
