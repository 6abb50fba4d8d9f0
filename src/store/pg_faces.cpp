// The PostgreSQL store: faces, users and their faces.
#include <algorithm>

#include "store/pg_internal.h"

namespace argus::store::pg_impl {

namespace {

std::string FaceSelect(const std::string& where, bool descriptors = false) {
  return std::string("SELECT ") + kFaceColumns + (descriptors ? ", descriptor" : "") +
         " FROM faces WHERE " + where;
}

void Collect(const Rows& r, bool descriptors, std::vector<Face>& out) {
  for (int i = 0; i < r.size(); ++i) out.push_back(ReadFace(r, i, descriptors));
}

}  // namespace

Status PgStore::InsertFaces(const std::string& collection, std::vector<Face>& faces,
                            const AuditAppend* audit) {
  std::unique_lock<std::mutex> audit_lock(audit_mu_, std::defer_lock);
  if (audit) audit_lock.lock();
  Status st = Txn([&](Conn& c) -> Status {
    // Locks the collection row: a concurrent delete of the collection waits.
    auto up = c.Exec("UPDATE collections SET face_count = face_count + $1 WHERE id = $2",
                     {int64_t(faces.size()), collection});
    if (!up.ok()) return up.status();
    if (up->affected() == 0) return NotFound(collection);
    std::vector<int64_t> labels;
    for (Face& f : faces) {
      auto ins = c.Exec(
          "INSERT INTO faces (face_id, collection_id, image_id, external_image_id, confidence, "
          "box_left, box_top, box_width, box_height, user_id, model_version, created_ms, "
          "descriptor) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING label",
          {f.face_id, collection, f.image_id, Param::Nullable(f.external_image_id),
           double(f.confidence), double(f.left), double(f.top), double(f.width), double(f.height),
           Param::Nullable(f.user_id), f.model_version, f.created_ms, Param::Floats(f.descriptor)});
      if (!ins.ok()) return ins.status();
      f.label = ins->Int(0, 0);
      labels.push_back(f.label);
    }
    if (audit) ARGUS_RETURN_IF_ERROR(AppendAuditIn(c, *audit->record, audit->hash));
    return RecordChange(c, collection, "insert", labels);
  });
  if (st.ok() && audit && audit_committed_) audit_committed_(*audit->record);
  return st;
}

Result<std::vector<Face>> PgStore::FacesOfImage(const std::string& collection,
                                                const std::string& image_id,
                                                const std::string& external_image_id) {
  std::vector<Face> out;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(FaceSelect("collection_id = $1 AND image_id = $2 AND "
                               "COALESCE(external_image_id, '') = $3 ORDER BY label"),
                    {collection, image_id, external_image_id});
    if (!r.ok()) return r.status();
    Collect(r.value(), false, out);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<Face>> PgStore::FacesByLabel(const std::string& collection,
                                                const std::vector<int64_t>& labels) {
  std::vector<Face> out;
  Status st = With([&](Conn& c) -> Status {
    std::string arr = "{";
    for (size_t i = 0; i < labels.size(); ++i) arr += (i ? "," : "") + std::to_string(labels[i]);
    arr += "}";
    auto r = c.Exec(FaceSelect("label = ANY($1::bigint[]) AND collection_id = $2 ORDER BY label"),
                    {arr, collection});
    if (!r.ok()) return r.status();
    Collect(r.value(), false, out);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  // In the order asked (the SQLite store's order), absent ones left out.
  std::vector<Face> ordered;
  ordered.reserve(out.size());
  for (int64_t l : labels) {
    auto it = std::lower_bound(out.begin(), out.end(), l,
                               [](const Face& f, int64_t x) { return f.label < x; });
    if (it != out.end() && it->label == l) ordered.push_back(*it);
  }
  return ordered;
}

Result<std::vector<Face>> PgStore::ListFaces(const std::string& collection,
                                             const FaceFilter& filter) {
  std::vector<Face> out;
  Status st = With([&](Conn& c) -> Status {
    std::vector<Param> params = {collection, filter.after_label};
    std::string where = "collection_id = $1 AND label > $2";
    if (!filter.user_id.empty()) {
      params.push_back(filter.user_id);
      where += " AND user_id = $3";
    }
    if (!filter.face_ids.empty()) {
      std::string arr = "{";
      for (size_t i = 0; i < filter.face_ids.size(); ++i) {
        arr += i ? ",\"" : "\"";
        for (char ch : filter.face_ids[i]) {
          if (ch == '"' || ch == '\\') arr += '\\';
          arr += ch;
        }
        arr += '"';
      }
      arr += "}";
      params.push_back(arr);
      where += " AND face_id = ANY($" + std::to_string(params.size()) + "::text[])";
    }
    params.push_back(int64_t(std::max(0, filter.limit)));
    where += " ORDER BY label LIMIT $" + std::to_string(params.size());
    auto r = c.Exec(FaceSelect(where, filter.descriptors), params);
    if (!r.ok()) return r.status();
    Collect(r.value(), filter.descriptors, out);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<Face>> PgStore::DeleteFaces(const std::string& collection,
                                               const std::vector<std::string>& face_ids) {
  std::vector<Face> deleted;
  Status st = Txn([&](Conn& c) -> Status {
    deleted.clear();
    for (const auto& id : face_ids) {
      auto r = c.Exec(
          "DELETE FROM faces WHERE face_id = $1 AND collection_id = $2 AND user_id "
          "IS NULL RETURNING " +
              std::string(kFaceColumns),
          {id, collection});
      if (!r.ok()) return r.status();
      Collect(r.value(), false, deleted);
    }
    if (deleted.empty()) return Status::Ok();
    auto up = c.Exec("UPDATE collections SET face_count = face_count - $1 WHERE id = $2",
                     {int64_t(deleted.size()), collection});
    if (!up.ok()) return up.status();
    std::vector<int64_t> labels;
    for (const auto& f : deleted) labels.push_back(f.label);
    return RecordChange(c, collection, "delete", labels);
  });
  if (!st.ok()) return st;
  return deleted;
}

Status PgStore::ScanDescriptors(const std::string& collection,
                                const std::function<void(int64_t, const std::vector<float>&)>& fn) {
  // One snapshot, read in pages of label order.
  return Txn(
      [&](Conn& c) -> Status {
        int64_t after = 0;
        std::vector<float> d;
        for (;;) {
          auto r = c.Exec(
              "SELECT label, descriptor FROM faces WHERE collection_id = $1 AND label > $2 "
              "ORDER BY label LIMIT 8192",
              {collection, after});
          if (!r.ok()) return r.status();
          for (int i = 0; i < r->size(); ++i) {
            r->FloatsInto(i, 1, d);
            after = r->Int(i, 0);
            fn(after, d);
          }
          if (r->size() < 8192) return Status::Ok();
        }
      },
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

Result<std::vector<int64_t>> PgStore::Labels(const std::string& collection) {
  std::vector<int64_t> out;
  Status st = With([&](Conn& c) -> Status {
    auto r =
        c.Exec("SELECT label FROM faces WHERE collection_id = $1 ORDER BY label", {collection});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i) out.push_back(r->Int(i, 0));
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<Face>> PgStore::DeleteFacesBefore(const std::string& collection,
                                                     int64_t cutoff_ms) {
  std::vector<Face> deleted;
  Status st = Txn([&](Conn& c) -> Status {
    deleted.clear();
    auto e = c.Exec("SELECT 1 FROM collections WHERE id = $1 FOR UPDATE", {collection});
    if (!e.ok()) return e.status();
    if (e->size() == 0) return NotFound(collection);
    auto r = c.Exec("DELETE FROM faces WHERE collection_id = $1 AND created_ms < $2 RETURNING " +
                        std::string(kFaceColumns),
                    {collection, cutoff_ms});
    if (!r.ok()) return r.status();
    Collect(r.value(), false, deleted);
    if (deleted.empty()) return Status::Ok();
    std::sort(deleted.begin(), deleted.end(),
              [](const Face& a, const Face& b) { return a.label < b.label; });
    auto up = c.Exec("UPDATE collections SET face_count = face_count - $1 WHERE id = $2",
                     {int64_t(deleted.size()), collection});
    if (!up.ok()) return up.status();
    std::vector<int64_t> labels;
    for (const auto& f : deleted) labels.push_back(f.label);
    return RecordChange(c, collection, "delete", labels);
  });
  if (!st.ok()) return st;
  return deleted;
}

// ------------------------------------------------------------ users

Status PgStore::UserNotFound(const std::string& collection, const std::string& user) {
  return {Code::kResourceNotFound,
          "The user " + user + " does not exist in collection " + collection + "."};
}

Status PgStore::CreateUser(const std::string& collection, const std::string& user_id,
                           const std::string& token, int64_t created_ms) {
  return Txn([&](Conn& c) -> Status {
    // The collection row locked: creations in one collection are serialised,
    // so a token is checked and taken atomically.
    auto e = c.Exec("SELECT 1 FROM collections WHERE id = $1 FOR UPDATE", {collection});
    if (!e.ok()) return e.status();
    if (e->size() == 0) return NotFound(collection);
    if (!token.empty()) {
      auto t = c.Exec("SELECT user_id FROM users WHERE collection_id = $1 AND client_token = $2",
                      {collection, token});
      if (!t.ok()) return t.status();
      if (t->size() > 0) {
        if (t->Text(0, 0) == user_id) return Status::Ok();
        return {Code::kIdempotentParameterMismatch,
                "ClientRequestToken was already used with different parameters."};
      }
    }
    auto ins = c.Exec(
        "INSERT INTO users (collection_id, user_id, created_ms, client_token) VALUES "
        "($1,$2,$3,$4) ON CONFLICT DO NOTHING",
        {collection, user_id, created_ms, Param::Nullable(token)});
    if (!ins.ok()) return ins.status();
    if (ins->affected() == 0) {
      return {Code::kConflict,
              "The user " + user_id + " already exists in collection " + collection + "."};
    }
    return Status::Ok();
  });
}

Result<User> PgStore::GetUser(const std::string& collection, const std::string& user_id) {
  User out;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(
        "SELECT user_id, created_ms, (SELECT COUNT(*) FROM faces f WHERE f.collection_id = "
        "u.collection_id AND f.user_id = u.user_id) FROM users u WHERE collection_id = $1 AND "
        "user_id = $2",
        {collection, user_id});
    if (!r.ok()) return r.status();
    if (r->size() == 0) return UserNotFound(collection, user_id);
    out = User{r->Text(0, 0), r->Int(0, 1), r->Int(0, 2)};
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status PgStore::DeleteUser(const std::string& collection, const std::string& user_id) {
  return Txn([&](Conn& c) -> Status {
    auto d = c.Exec("DELETE FROM users WHERE collection_id = $1 AND user_id = $2",
                    {collection, user_id});
    if (!d.ok()) return d.status();
    if (d->affected() == 0) return UserNotFound(collection, user_id);
    auto u = c.Exec("UPDATE faces SET user_id = NULL WHERE collection_id = $1 AND user_id = $2",
                    {collection, user_id});
    return u.ok() ? Status::Ok() : u.status();
  });
}

Result<std::vector<User>> PgStore::ListUsers(const std::string& collection,
                                             const std::string& after, int limit) {
  std::vector<User> out;
  Status st = With([&](Conn& c) -> Status {
    auto r = c.Exec(
        "SELECT user_id, created_ms, (SELECT COUNT(*) FROM faces f WHERE f.collection_id = "
        "u.collection_id AND f.user_id = u.user_id) FROM users u WHERE collection_id = $1 AND "
        "user_id > $2 ORDER BY user_id LIMIT $3",
        {collection, after, int64_t(limit)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->size(); ++i)
      out.push_back(User{r->Text(i, 0), r->Int(i, 1), r->Int(i, 2)});
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<std::string>> PgStore::AssociateFaces(const std::string& collection,
                                                         const std::string& user_id,
                                                         const std::vector<std::string>& face_ids,
                                                         int max_faces_per_user) {
  std::vector<std::string> done;
  Status st = Txn([&](Conn& c) -> Status {
    done.clear();
    // The user row locked: concurrent associations to one user are counted
    // one after the other.
    auto u = c.Exec("SELECT 1 FROM users WHERE collection_id = $1 AND user_id = $2 FOR UPDATE",
                    {collection, user_id});
    if (!u.ok()) return u.status();
    if (u->size() == 0) return UserNotFound(collection, user_id);
    auto n = c.Exec("SELECT COUNT(*) FROM faces WHERE collection_id = $1 AND user_id = $2",
                    {collection, user_id});
    if (!n.ok()) return n.status();
    int64_t count = n->Int(0, 0);
    for (const auto& id : face_ids) {
      auto r = c.Exec(
          "UPDATE faces SET user_id = $1 WHERE face_id = $2 AND collection_id = $3 AND user_id "
          "IS NULL",
          {user_id, id, collection});
      if (!r.ok()) return r.status();
      if (r->affected() > 0) done.push_back(id);
    }
    if (count + int64_t(done.size()) > max_faces_per_user) {
      return Status(Code::kServiceQuotaExceeded,
                    "A user can have at most " + std::to_string(max_faces_per_user) +
                        " faces; user " + user_id + " has " + std::to_string(count) + ".");
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return done;
}

Result<std::vector<std::string>> PgStore::DisassociateFaces(
    const std::string& collection, const std::string& user_id,
    const std::vector<std::string>& face_ids) {
  std::vector<std::string> done;
  Status st = Txn([&](Conn& c) -> Status {
    done.clear();
    auto u = c.Exec("SELECT 1 FROM users WHERE collection_id = $1 AND user_id = $2",
                    {collection, user_id});
    if (!u.ok()) return u.status();
    if (u->size() == 0) return UserNotFound(collection, user_id);
    for (const auto& id : face_ids) {
      auto r = c.Exec(
          "UPDATE faces SET user_id = NULL WHERE face_id = $1 AND collection_id = $2 AND "
          "user_id = $3",
          {id, collection, user_id});
      if (!r.ok()) return r.status();
      if (r->affected() > 0) done.push_back(id);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return done;
}

}  // namespace argus::store::pg_impl
