#pragma once
// Collections, their faces and users, and 1:N face search: the logic of
// Rekognition's collection operations, free of HTTP and JSON.
//
// The Store is the system of record; each collection has a VectorIndex that
// mirrors its descriptors. A write is committed to the store first and then
// applied to the index, both under the collection's write mutex, so the index
// sees labels in ascending order and a crash between the two loses nothing
// (the index is rebuilt from, or checked against, the store on start).
// Thread-safe.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "index/vector_index.h"
#include "service/faces.h"
#include "store/store.h"

namespace argus::service {

// The records the service answers with. They are the store's records today;
// callers name them here so that the store can change without them.
using Collection = store::Collection;
using Face = store::Face;
using User = store::User;
using FaceFilter = store::FaceFilter;

struct CollectionsConfig {
  std::string data_dir;  // holds argus.db and index/<SHA-256 of the id>.idx
  index::IndexOptions index;
  int snapshot_interval_s = 60;             // graph indexes with writes are snapshotted this often
  std::string region = "us-east-1";         // for CollectionArn
  std::string account_id = "000000000000";  // for CollectionArn
  bool background = true;                   // rebuild/snapshot thread (off in some benchmarks)
};

inline constexpr int kMaxFacesPerImage = 100;
inline constexpr int kMaxTagsPerCollection = 50;

// Retention: a collection's faces are purged this many days after they were
// indexed. Set by the tag `argus:retention-days` (a whole number of days,
// 1..36500); without it, 1095 days (three years, BIPA's outer limit).
inline constexpr const char* kRetentionTag = "argus:retention-days";
inline constexpr int64_t kDefaultRetentionDays = 1095;
// InvalidParameter when `tags` sets the retention tag to anything else.
Status ValidateRetentionTag(const std::map<std::string, std::string>& tags);
int64_t RetentionDays(const std::map<std::string, std::string>& tags);

struct PurgeResult {
  std::string collection;
  int64_t retention_days = 0;
  int64_t cutoff_ms = 0;  // faces indexed before this were deleted
  int64_t deleted = 0;
};
inline constexpr int kMaxFacesPerUser = 100;

// Rekognition's QualityFilter: NONE, AUTO (default), LOW, MEDIUM, HIGH.
enum class QualityFilter { kNone, kAuto, kLow, kMedium, kHigh };
Result<QualityFilter> ParseQualityFilter(const std::string& s);
// Why `f` fails the filter (Rekognition's UnindexedFace reasons: LOW_CONFIDENCE,
// SMALL_BOUNDING_BOX, EXTREME_POSE, LOW_BRIGHTNESS, LOW_SHARPNESS,
// LOW_FACE_QUALITY); empty when it passes.
std::vector<std::string> QualityReasons(const FaceDetail& f, QualityFilter q);

struct FaceOutcome {
  FaceDetail detail;
  std::vector<std::string> reasons;  // Rekognition reasons; empty when kept
};

struct IndexFacesRequest {
  std::string collection_id;
  std::string external_image_id;  // "" for none
  int max_faces = kMaxFacesPerImage;
  QualityFilter quality = QualityFilter::kAuto;
};

struct IndexFacesResult {
  std::vector<std::pair<store::Face, FaceDetail>> indexed;  // largest first
  std::vector<FaceOutcome> unindexed;
  std::string model_version;
};

struct FaceMatch {
  store::Face face;
  float similarity = 0;  // 0..100
};

struct SearchByImageResult {
  FaceDetail searched;  // the largest face
  std::vector<FaceMatch> matches;
  std::vector<FaceOutcome> unsearched;  // the other faces (SearchUsersByImage)
};

struct UserMatch {
  store::User user;
  float similarity = 0;
};

struct FaceFailure {
  std::string face_id;
  std::string user_id;
  float confidence = -1;  // similarity for LOW_MATCH_CONFIDENCE, else unset (<0)
  std::vector<std::string> reasons;
};

struct FaceIdsResult {
  std::vector<std::string> done;
  std::vector<FaceFailure> failed;
};

// The audit record of the request the calling thread serves, when its
// enrolment must be committed in the same store transaction as the faces it
// stores. While installed, an IndexFaces that stores new faces completes the
// record (outcome "ok", matches = the faces in its answer) and appends it
// with them; EndEnrolmentAudit says whether it did. Installed by the request
// gate around one handler call; `record` must outlive the installation.
void BeginEnrolmentAudit(store::AuditRecord* record,
                         std::function<std::string(const store::AuditRecord&)> hash);
// Removes the installation; true when the record was committed with faces.
bool EndEnrolmentAudit();

class CollectionService {
 public:
  // Makes every collection of `store` searchable: each index is loaded from
  // its snapshot under config.data_dir/index when that agrees with the store
  // (after replaying what the snapshot missed), else rebuilt from the store.
  // Without `store`, opens config.data_dir/argus.db. Takes the data dir's
  // lock (ResourceInUse when another process holds it).
  static Result<std::unique_ptr<CollectionService>> Open(
      const CollectionsConfig& config, FaceService* faces,
      std::shared_ptr<store::Store> store = nullptr);
  ~CollectionService();
  // Stops background work and snapshots graph indexes that changed.
  void Close();

  Result<store::Collection> CreateCollection(const std::string& id,
                                             const std::map<std::string, std::string>& tags);
  Result<store::Collection> DescribeCollection(const std::string& id);
  Result<std::vector<store::Collection>> ListCollections(const std::string& after, int limit);
  Status DeleteCollection(const std::string& id);
  std::string CollectionArn(const std::string& id) const;
  // The collection id of a CollectionArn of this server; ResourceNotFound otherwise.
  Result<std::string> CollectionOfArn(const std::string& arn) const;
  Status TagCollection(const std::string& id, const std::map<std::string, std::string>& tags);
  Status UntagCollection(const std::string& id, const std::vector<std::string>& keys);
  // Deletes, in every collection, the faces older than its retention period
  // at `now_ms` (from the store, the index and any stale snapshot).
  Result<std::vector<PurgeResult>> PurgeExpired(int64_t now_ms);

  Result<IndexFacesResult> IndexFaces(const Image& image, const IndexFacesRequest& request);
  Result<std::vector<store::Face>> ListFaces(const std::string& collection,
                                             const store::FaceFilter& filter);
  Result<FaceIdsResult> DeleteFaces(const std::string& collection,
                                    const std::vector<std::string>& face_ids);
  // Faces like the stored face `face_id` (itself excluded), best first.
  Result<std::vector<FaceMatch>> SearchFaces(const std::string& collection,
                                             const std::string& face_id, int max_faces,
                                             float threshold);
  Result<SearchByImageResult> SearchFacesByImage(const std::string& collection, const Image& image,
                                                 int max_faces, float threshold,
                                                 QualityFilter quality);
  // Faces like a descriptor (dim floats, L2-normalised), best first.
  Result<std::vector<FaceMatch>> SearchDescriptor(const std::string& collection,
                                                  const float* descriptor, int max_faces,
                                                  float threshold,
                                                  const std::string& exclude_face_id = "");

  Status CreateUser(const std::string& collection, const std::string& user_id,
                    const std::string& token);
  Status DeleteUser(const std::string& collection, const std::string& user_id);
  Result<std::vector<store::User>> ListUsers(const std::string& collection,
                                             const std::string& after, int limit);
  Result<FaceIdsResult> AssociateFaces(const std::string& collection, const std::string& user_id,
                                       const std::vector<std::string>& face_ids, float threshold);
  Result<FaceIdsResult> DisassociateFaces(const std::string& collection, const std::string& user_id,
                                          const std::vector<std::string>& face_ids);
  // By the user's faces (the user itself excluded) or by a stored face.
  Result<std::vector<UserMatch>> SearchUsers(const std::string& collection,
                                             const std::string& user_id, const std::string& face_id,
                                             int max_users, float threshold);
  Result<SearchByImageResult> SearchUsersByImage(const std::string& collection, const Image& image,
                                                 int max_users, float threshold,
                                                 QualityFilter quality,
                                                 std::vector<UserMatch>* users);

  // For tools and benchmarks.
  store::Store& store() { return *store_; }
  struct IndexInfo {
    size_t size = 0;
    bool graph = false;
    std::string loaded_from;  // "snapshot", "snapshot+replay", "store"
  };
  Result<IndexInfo> Info(const std::string& collection);
  // Runs pending rebuilds now (instead of in the background).
  Status RebuildNow(const std::string& collection);
  Status SnapshotNow(const std::string& collection);
  // The last change of a shared store applied to the indexes (0 otherwise).
  int64_t AppliedChange();

 private:
  struct Entry;
  CollectionService(const CollectionsConfig& config, FaceService* faces);
  Status LoadCollection(const store::Collection& c);
  std::shared_ptr<Entry> Find(const std::string& id);
  Result<std::shared_ptr<Entry>> Get(const std::string& id);
  // index/<SHA-256 of the id>.idx: no id becomes a file name.
  std::string SnapshotPath(const std::string& id) const;
  // Removes files of index/ that are not snapshots of this naming (older
  // ones named after ids, temporaries); the indexes are rebuilt from the store.
  void RemoveForeignSnapshots();
  // After a removal: a snapshot on disk still holds the removed descriptors,
  // so it goes (the next one is written from the index, which no longer has them).
  void DropSnapshot(const std::string& id);
  Status CheckModel(const Entry& e) const;
  Result<std::vector<FaceOutcome>> Analyse(const Image& image, QualityFilter quality);
  Result<std::vector<UserMatch>> UsersLike(Entry& e, const float* q, int max_users, float threshold,
                                           const std::string& exclude_user);
  // For each of face_ids not in `done` (once each): FACE_NOT_FOUND when the
  // collection has no such face, else owned_reason with the owning user.
  Status ExplainNotDone(const std::string& collection, const std::vector<std::string>& face_ids,
                        const std::set<std::string>& done, const char* owned_reason,
                        FaceIdsResult* out);
  void Background();
  // A store shared by several nodes (PostgreSQL): the thread that follows
  // its change sequence (LISTEN/NOTIFY, polled as well) and applies each
  // change to the indexes, in commit order (collections_follow.cpp).
  void Follow();
  // Applies every change committed after the last one applied.
  Status CatchUp();
  Status ApplyChange(const store::Change& c);

  CollectionsConfig config_;
  FaceService* faces_;
  std::shared_ptr<store::Store> store_;
  std::shared_mutex map_mu_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool stop_ = false;
  std::thread bg_;
  std::mutex follow_mu_;        // CatchUp, one at a time
  int64_t applied_change_ = 0;  // under follow_mu_
  std::thread follow_;
  int lock_fd_ = -1;
};

}  // namespace argus::service
