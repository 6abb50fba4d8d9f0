#pragma once
// The system of record for collections, faces and users. Everything a
// collection's vector index holds can be rebuilt from here. A write returns
// only after it is durable (committed and synced), so an acknowledged
// IndexFaces or DeleteFaces survives a crash of the process or the machine.
//
// Implementations: SQLite in WAL mode (embedded default, OpenSqlite). The
// interface speaks records, never SQL, so another engine (PostgreSQL) can
// implement it without touching callers. All methods are thread-safe.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace argus::store {

struct Collection {
  std::string id;
  int64_t created_ms = 0;  // unix epoch milliseconds
  std::string face_model_version;
  std::map<std::string, std::string> tags;
  int64_t face_count = 0;  // filled by GetCollection
  int64_t user_count = 0;  // filled by GetCollection
};

struct Face {
  // Store-assigned, unique across the store, ascending in insertion order and
  // never reused: the id of the face in its collection's vector index.
  int64_t label = 0;
  std::string face_id;   // UUID
  std::string image_id;  // identifies the source image's bytes
  std::string external_image_id;  // "" when none was given
  float confidence = 0;           // detector confidence 0..100
  float left = 0, top = 0, width = 0, height = 0;  // box as ratios of the image size
  std::string user_id;  // "" when not associated with a user
  std::string model_version;
  int64_t created_ms = 0;
  std::vector<float> descriptor;  // empty unless asked for
};

struct User {
  std::string user_id;
  int64_t created_ms = 0;
  int64_t face_count = 0;
};

struct FaceFilter {
  int64_t after_label = 0;  // faces with label > after_label, ascending
  int limit = 1000;
  std::string user_id;                // only this user's faces when set
  std::vector<std::string> face_ids;  // only these faces when non-empty
  bool descriptors = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating if needed) an SQLite database file in WAL mode with
  // synchronous=FULL.
  static Result<std::unique_ptr<Store>> OpenSqlite(const std::string& path);

  // ResourceAlreadyExists when the id is taken.
  virtual Status CreateCollection(const Collection& c) = 0;
  // ResourceNotFound when absent; counts filled.
  virtual Result<Collection> GetCollection(const std::string& id) = 0;
  // Ids greater than `after`, ascending, at most `limit`; counts not filled.
  virtual Result<std::vector<Collection>> ListCollections(const std::string& after,
                                                          int limit) = 0;
  // Removes the collection with its faces and users. ResourceNotFound.
  virtual Status DeleteCollection(const std::string& id) = 0;

  // Inserts faces atomically and sets their labels. ResourceNotFound when the
  // collection does not exist (e.g. deleted concurrently).
  virtual Status InsertFaces(const std::string& collection, std::vector<Face>& faces) = 0;
  // Faces indexed from `image_id` with `external_image_id`, label order.
  virtual Result<std::vector<Face>> FacesOfImage(const std::string& collection,
                                                 const std::string& image_id,
                                                 const std::string& external_image_id) = 0;
  // The faces found among `labels`, in label order, without descriptors.
  virtual Result<std::vector<Face>> FacesByLabel(const std::string& collection,
                                                 const std::vector<int64_t>& labels) = 0;
  virtual Result<std::vector<Face>> ListFaces(const std::string& collection,
                                              const FaceFilter& filter) = 0;
  // Deletes those of `face_ids` that exist and belong to no user, atomically;
  // returns the deleted faces.
  virtual Result<std::vector<Face>> DeleteFaces(const std::string& collection,
                                                const std::vector<std::string>& face_ids) = 0;
  // Streams every face's label and descriptor in label order (consistent
  // snapshot of the collection).
  virtual Status ScanDescriptors(
      const std::string& collection,
      const std::function<void(int64_t label, const std::vector<float>& d)>& fn) = 0;
  // Every label of the collection, ascending.
  virtual Result<std::vector<int64_t>> Labels(const std::string& collection) = 0;

  // Conflict when the user exists, unless `token` is non-empty and equals the
  // token it was created with (then OK, nothing changes).
  // IdempotentParameterMismatch when `token` created another user.
  virtual Status CreateUser(const std::string& collection, const std::string& user_id,
                            const std::string& token, int64_t created_ms) = 0;
  virtual Result<User> GetUser(const std::string& collection, const std::string& user_id) = 0;
  // Removes the user; its faces stay, unassociated. ResourceNotFound.
  virtual Status DeleteUser(const std::string& collection, const std::string& user_id) = 0;
  virtual Result<std::vector<User>> ListUsers(const std::string& collection,
                                              const std::string& after, int limit) = 0;
  // Associates those of `face_ids` that exist and have no user; returns them.
  // ServiceQuotaExceeded (nothing changed) when the user would pass
  // `max_faces_per_user`.
  virtual Result<std::vector<std::string>> AssociateFaces(
      const std::string& collection, const std::string& user_id,
      const std::vector<std::string>& face_ids, int max_faces_per_user) = 0;
  // Clears the user of those of `face_ids` that belong to `user_id`.
  virtual Result<std::vector<std::string>> DisassociateFaces(
      const std::string& collection, const std::string& user_id,
      const std::vector<std::string>& face_ids) = 0;
};

}  // namespace argus::store
