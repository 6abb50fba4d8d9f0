#pragma once
// The system of record for collections, faces and users. Everything a
// collection's vector index holds can be rebuilt from here. A write returns
// only after it is durable (committed and synced), so an acknowledged
// IndexFaces or DeleteFaces survives a crash of the process or the machine.
//
// Implementations: SQLite in WAL mode (embedded default, OpenSqlite) and
// PostgreSQL (OpenPostgres: several nodes share one database and follow its
// change sequence). The interface speaks records, never SQL. All methods are
// thread-safe.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace argus::store {

// Face model versions are numeric (the service model's pattern [0-9.]+).
// Data dirs written before hold the descriptive names; they are mapped on
// read: argus-dlib128-1.0 -> 1.0, argus-faceres1024-1.0 -> 2.0 (docs/API.md).
// Any other value is returned unchanged.
inline std::string FaceModelVersionOnRead(const std::string& stored) {
  if (stored == "argus-dlib128-1.0") return "1.0";
  if (stored == "argus-faceres1024-1.0") return "2.0";
  return stored;
}

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
  std::string face_id;                             // UUID
  std::string image_id;                            // identifies the source image's bytes
  std::string external_image_id;                   // "" when none was given
  float confidence = 0;                            // detector confidence 0..100
  float left = 0, top = 0, width = 0, height = 0;  // box as ratios of the image size
  std::string user_id;                             // "" when not associated with a user
  std::string model_version;
  int64_t created_ms = 0;
  std::vector<float> descriptor;  // empty unless asked for
};

struct User {
  std::string user_id;
  int64_t created_ms = 0;
  int64_t face_count = 0;
};

// One entry of the tamper-evident audit log (src/policy/audit.h says what
// goes in it). `seq` is assigned by AppendAudit: 1, 2, 3, ... without gaps;
// `hash` is the SHA-256 (hex) of the record's canonical form including
// `prev_hash`, the hash of record seq-1 ("" for the first).
struct AuditRecord {
  int64_t seq = 0;
  int64_t time_ms = 0;
  std::string kind;  // "request", "purge", "policy"
  std::string request_id, principal, org_type, purpose, case_id, authorisation;
  std::string operation, op_class, collection;
  std::string decision;  // "allow", "deny" ("" for purge/policy records)
  std::string rule;      // deciding or constraining rules, "policy/rule" comma-separated
  std::optional<double> threshold_asked, threshold_applied;
  std::optional<int64_t> max_results;  // cap applied by a policy
  bool human_review = false;
  std::optional<int64_t> matches;
  std::optional<double> top_similarity;
  std::string outcome;  // "ok" or the error's __type
  std::string detail;   // free text (purges, policy loads)
  std::string prev_hash, hash;
};

// Tenancy: a principal's access to a collection. "owner" (the principal that
// created it), "full" (shared, may change it) or "read" (shared read-only).
struct CollectionGrant {
  std::string collection;
  std::string principal;
  std::string access;
};

// An audit record appended in the same transaction as another write (see
// InsertFaces): seq, prev_hash and hash are assigned as by AppendAudit.
struct AuditAppend {
  AuditRecord* record = nullptr;
  std::function<std::string(const AuditRecord&)> hash;
};

struct FaceFilter {
  int64_t after_label = 0;  // faces with label > after_label, ascending
  int limit = 1000;
  std::string user_id;                // only this user's faces when set
  std::vector<std::string> face_ids;  // only these faces when non-empty
  bool descriptors = false;
};

// A job of the job engine (src/jobs/jobs.h says what each field means);
// `state` is "IN_PROGRESS", "SUCCEEDED" or "FAILED".
struct JobRecord {
  std::string id, api, owner, request, client_token, job_tag, notification;
  std::string state = "IN_PROGRESS";
  bool queued = true;
  std::string status_message;
  double progress = 0;
  std::string metadata;
  int64_t created_ms = 0, started_ms = 0, completed_ms = 0;
  int64_t result_count = 0;
  int attempts = 0;
  bool cancel_requested = false;
};

// A principal and one of its access keys as stored (src/auth/key_store.h
// says what they mean; `sealed` is the secret encrypted under the data
// dir's argus.key, `nonce` its AES-GCM nonce).
struct PrincipalRow {
  std::string name, org_type, default_purpose, authorisation;
  bool admin = false;
  double rate_limit = 0;
  int64_t created_at = 0;  // seconds
};
struct AccessKeyRow {
  std::string access_key_id, principal, nonce, sealed;
  int64_t created_at = 0, revoked_at = 0;  // seconds; revoked_at 0 while active
};

// The claim a node holds on a running job, in a store several nodes share:
// `node` (Store::NodeId) runs it until `ms` milliseconds from the claim or
// the last renewal, after which another node may take it over.
struct JobLease {
  std::string node;
  int64_t ms = 0;
};

// One stored result of a job; `seq` is its position in append order.
struct JobResultRecord {
  int64_t seq = 0;
  int64_t timestamp_ms = 0;
  int64_t index = 0;
  std::string body;
};

enum class JobResultOrder { kSeq, kTimestamp, kIndex };  // ties broken by seq

struct JobQuery {
  std::string owner;     // "" for every owner
  std::string api;       // "" for every API
  std::string state;     // "" for every state
  std::string after_id;  // rows after this job in the order (newest first)
  int limit = 100;
  bool oldest_first = false;       // creation order instead (after_id unused)
  int64_t completed_since_ms = 0;  // finished jobs completed before this left out
};

// A resource the API keeps as a document (a stream processor, a face
// liveness session): `body` is opaque here (the api layer writes JSON);
// `version` starts at 1 and grows by one with each update, for
// compare-and-set.
struct ResourceRow {
  std::string kind;  // "stream-processor", "liveness-session", ...
  std::string id;
  std::string owner;  // principal that created it ("" under --no-auth)
  std::string body;
  int64_t version = 0;
  int64_t created_ms = 0, updated_ms = 0;
};

// A committed change to what a collection's vector index holds, for the
// nodes that share one store (PostgreSQL): `seq` ascends in commit order.
// "create" and "drop" (the collection was created or deleted; labels
// empty), "insert" and "delete" (the faces `labels`; a delete covers
// DeleteFaces, retention purges and erasure).
struct Change {
  int64_t seq = 0;
  std::string node;  // NodeId() of the store that made it
  std::string collection;
  std::string kind;
  std::vector<int64_t> labels;
};

class Store {
 public:
  virtual ~Store() = default;

  // Opens (creating if needed, mode 0600) an SQLite database file in WAL
  // mode with synchronous=FULL.
  static Result<std::unique_ptr<Store>> OpenSqlite(const std::string& path);
  // Connects to a PostgreSQL database (a libpq URL, postgresql://...),
  // applies the schema migrations it lacks, and keeps a pool of up to
  // `pool_size` connections. ServiceUnavailable when it cannot be reached.
  static Result<std::unique_ptr<Store>> OpenPostgres(const std::string& url, int pool_size);
  // OpenPostgres for a postgresql:// or postgres:// URL, else OpenSqlite.
  static Result<std::unique_ptr<Store>> Open(const std::string& url_or_path, int pool_size);
  static bool IsPostgresUrl(const std::string& s);

  // ResourceAlreadyExists when the id is taken.
  virtual Status CreateCollection(const Collection& c) = 0;
  // ResourceNotFound when absent; counts filled.
  virtual Result<Collection> GetCollection(const std::string& id) = 0;
  // Ids greater than `after`, ascending, at most `limit`; counts not filled.
  virtual Result<std::vector<Collection>> ListCollections(const std::string& after, int limit) = 0;
  // Removes the collection with its faces and users. ResourceNotFound.
  virtual Status DeleteCollection(const std::string& id) = 0;

  // Inserts faces atomically and sets their labels. ResourceNotFound when the
  // collection does not exist (e.g. deleted concurrently). With `audit`, its
  // record is appended in the same transaction: both are stored or neither.
  virtual Status InsertFaces(const std::string& collection, std::vector<Face>& faces,
                             const AuditAppend* audit = nullptr) = 0;
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
  virtual Result<std::vector<std::string>> AssociateFaces(const std::string& collection,
                                                          const std::string& user_id,
                                                          const std::vector<std::string>& face_ids,
                                                          int max_faces_per_user) = 0;
  // Clears the user of those of `face_ids` that belong to `user_id`.
  virtual Result<std::vector<std::string>> DisassociateFaces(
      const std::string& collection, const std::string& user_id,
      const std::vector<std::string>& face_ids) = 0;

  // Adds or replaces tags; ResourceNotFound; ServiceQuotaExceeded (nothing
  // changes) past `max_tags` tags.
  virtual Status TagCollection(const std::string& id,
                               const std::map<std::string, std::string>& tags, int max_tags) = 0;
  // Removes the keys present. ResourceNotFound.
  virtual Status UntagCollection(const std::string& id, const std::vector<std::string>& keys) = 0;
  // Deletes every face of the collection created before `cutoff_ms`, user
  // or not, atomically; returns them.
  virtual Result<std::vector<Face>> DeleteFacesBefore(const std::string& collection,
                                                      int64_t cutoff_ms) = 0;

  // Erasure: deleted rows are overwritten with zeros in the database file
  // (SQLite secure_delete) and, after every delete, the write-ahead log is
  // checkpointed and truncated so no older copy of a page stays in it.

  // Audit log. AppendAudit assigns r.seq and r.prev_hash under the write
  // lock, asks `hash` for r.hash, and commits durably.
  virtual Status AppendAudit(AuditRecord& r,
                             const std::function<std::string(const AuditRecord&)>& hash) = 0;
  // Called under the write lock after every commit that appended an audit
  // record, with that record, in seq order (one observer; set it before use).
  virtual void OnAuditCommitted(std::function<void(const AuditRecord&)> fn) = 0;
  // Records with seq > after_seq in stored order (ascending seq) until fn
  // returns false. Reads exactly what is stored; checks nothing.
  virtual Status ScanAudit(int64_t after_seq,
                           const std::function<bool(const AuditRecord&)>& fn) = 0;
  // The highest seq ever assigned (kept apart from the rows, so deleting the
  // last records shows), 0 for none.
  virtual Result<int64_t> AuditHighWater() = 0;
  // Records of `principal` for `operation` with `decision` since `since_ms`.
  virtual Result<int64_t> CountAudit(const std::string& principal, const std::string& operation,
                                     const std::string& decision, int64_t since_ms) = 0;

  // Tenancy (docs/POLICY.md), kept in its own table apart from the
  // collections: SQLite implements these in sqlite_owners.cpp. A collection
  // without rows belongs to no one. Each write is durable on return.
  // Makes `principal` the only owner of `collection` and drops its shares.
  virtual Status SetCollectionOwner(const std::string& collection, const std::string& principal);
  // Adds or replaces `principal`'s grant ("owner", "full" or "read").
  virtual Status GrantCollection(const std::string& collection, const std::string& principal,
                                 const std::string& access);
  // Removes `principal`'s grant; OK when there was none.
  virtual Status RevokeCollection(const std::string& collection, const std::string& principal);
  // Removes every grant of `collection` (it was deleted).
  virtual Status DropCollectionGrants(const std::string& collection);
  virtual Result<std::vector<CollectionGrant>> GrantsOfCollection(const std::string& collection);
  virtual Result<std::vector<CollectionGrant>> GrantsOfPrincipal(const std::string& principal);

  // Jobs (src/jobs/jobs.h), kept in tables `jobs` and `job_results`: SQLite
  // implements these in sqlite_jobs.cpp. Each write is durable on return.
  // ResourceAlreadyExists when the id is taken.
  virtual Status InsertJob(const JobRecord& job);
  // ResourceNotFound when absent.
  virtual Result<JobRecord> GetJob(const std::string& id);
  // Newest first (created_ms, then id), or oldest first.
  virtual Result<std::vector<JobRecord>> ListJobs(const JobQuery& query);
  // The newest job of `owner` and `api` with `client_token`, completed at or
  // after `completed_since_ms` or unfinished; nullopt when none.
  virtual Result<std::optional<JobRecord>> FindJobByToken(const std::string& owner,
                                                          const std::string& api,
                                                          const std::string& client_token,
                                                          int64_t completed_since_ms);
  // Jobs of `owner` in progress (queued or running).
  virtual Result<int64_t> CountUnfinishedJobs(const std::string& owner);
  // Takes a queued job in progress for a run: queued off, started_ms set,
  // attempts + 1. The record after the change, or nullopt when it is no
  // longer queued and in progress (cancelled meanwhile, or claimed by
  // another node). A store several nodes share also records `lease` and
  // lets a node claim a running job whose lease ran out (its node died).
  virtual Result<std::optional<JobRecord>> ClaimJob(const std::string& id, int64_t started_ms,
                                                    const JobLease& lease);
  // The jobs a worker may claim, oldest first, at most `limit`: queued
  // ones, and on a shared store running ones whose lease ran out.
  virtual Result<std::vector<std::string>> ClaimableJobs(int limit);
  // Extends the lease of a job this node runs by lease.ms from now (the
  // database's clock). False when the job is no longer running under this
  // node's lease (finished, or taken over after the lease ran out). An
  // embedded store keeps no leases and answers true.
  virtual Result<bool> RenewJobLease(const std::string& id, const JobLease& lease);
  // Puts a job in progress back in the queue (resume after a restart).
  virtual Status RequeueJob(const std::string& id);
  // Records progress and metadata of a job in progress; answers its stored
  // cancel flag. ResourceNotFound.
  virtual Result<bool> SaveJobProgress(const std::string& id, double progress,
                                       const std::string& metadata);
  // Ends a job in progress with job's state, status_message, progress,
  // metadata and completed_ms, and stores `results` (seq set from their
  // order) in the same transaction. False (nothing written) when the job had
  // already finished.
  virtual Result<bool> FinishJob(const JobRecord& job, const std::vector<JobResultRecord>& results);
  // Cancels a job in progress: a queued one fails at once with "Cancelled"
  // (completed at now_ms); a running one gets its cancel flag set. A
  // finished one is left alone. The record after the change;
  // ResourceNotFound.
  virtual Result<JobRecord> CancelJob(const std::string& id, int64_t now_ms);
  // Results from `offset` in `order`, at most `limit`.
  virtual Result<std::vector<JobResultRecord>> JobResults(const std::string& id,
                                                          JobResultOrder order, int64_t offset,
                                                          int limit);
  // Deletes the finished jobs completed before `cutoff_ms` with their
  // results, atomically; returns how many jobs.
  virtual Result<int64_t> DeleteJobsCompletedBefore(int64_t cutoff_ms);

  // Resources (ResourceRow), in table `resources` keyed by (kind, id)
  // (SQLite: sqlite_resources.cpp). Each write is durable on return.
  // ResourceAlreadyExists when (kind, id) is taken; stored with version 1.
  virtual Status InsertResource(const ResourceRow& row);
  // ResourceNotFound when absent.
  virtual Result<ResourceRow> GetResource(const std::string& kind, const std::string& id);
  // Replaces body and updated_ms of (row.kind, row.id) when its stored
  // version is `expected_version`, and bumps the version. False when the
  // version differs (someone else updated it); ResourceNotFound when absent.
  virtual Result<bool> UpdateResource(const ResourceRow& row, int64_t expected_version);
  // Resources of `kind` with id > `after_id`, ascending, at most `limit`.
  virtual Result<std::vector<ResourceRow>> ListResources(const std::string& kind,
                                                         const std::string& after_id, int limit);
  // ResourceNotFound when absent.
  virtual Status DeleteResource(const std::string& kind, const std::string& id);
  // Deletes the resources of `kind` last updated before `cutoff_ms`; how many.
  virtual Result<int64_t> DeleteResourcesUpdatedBefore(const std::string& kind, int64_t cutoff_ms);

  // Principals and access keys, in tables `principals` and `access_keys`
  // (SQLite: sqlite_keys.cpp). Each write is durable on return.
  // The principal `name`, nullopt when there is none.
  virtual Result<std::optional<PrincipalRow>> GetPrincipal(const std::string& name);
  // Stores `key`, and `new_principal` with it when given, in one
  // transaction. ResourceAlreadyExists when the new principal's name or the
  // key id is taken (nothing written).
  virtual Status InsertAccessKey(const std::optional<PrincipalRow>& new_principal,
                                 const AccessKeyRow& key);
  // Keys with their principals, newest first; unrevoked ones only when
  // `active_only`.
  virtual Result<std::vector<std::pair<AccessKeyRow, PrincipalRow>>> ListAccessKeys(
      bool active_only);
  // Marks an active key revoked at `revoked_at`. ResourceNotFound when no
  // active key has this id.
  virtual Status RevokeAccessKey(const std::string& access_key_id, int64_t revoked_at);
  // A number that changes when a key or principal was written (for SQLite,
  // by another connection: this one's writes are known to their caller).
  virtual Result<int64_t> AccessKeysVersion();
  // A per-principal token bucket every node shares: takes one token from
  // `principal`'s bucket, refilled at `rate` per second up to `burst`;
  // false when it is empty. Unimplemented (kInternal) on an embedded store,
  // whose one server keeps its buckets in memory.
  virtual bool SharesRateLimits() const { return false; }
  virtual Result<bool> TakeRateToken(const std::string& principal, double rate, double burst);

  // The change sequence, for stores that several nodes share (PostgreSQL);
  // an embedded store has none (SharesChanges false, no changes).
  virtual bool SharesChanges() const { return false; }
  // The highest change seq committed, 0 for none.
  virtual Result<int64_t> ChangeHighWater() { return int64_t(0); }
  // Changes with seq > after_seq, ascending, at most `limit`.
  virtual Status ScanChanges(int64_t /*after_seq*/, int /*limit*/,
                             const std::function<void(const Change&)>& /*fn*/) {
    return Status::Ok();
  }
  // Returns when a change may have been committed (LISTEN/NOTIFY) or after
  // `timeout_ms`; ServiceUnavailable when the database cannot be reached.
  virtual Status WaitForChanges(int timeout_ms);
  // This store's node id (random per process), the `node` of its changes.
  virtual std::string NodeId() const { return ""; }

 protected:
  // Opens the grants table in the SQLite database at `path` (creating it).
  Status OpenGrants(const std::string& path);
  // Opens the job tables in the SQLite database at `path` (creating them).
  Status OpenJobs(const std::string& path);
  // Opens the key tables in the SQLite database at `path` (creating them).
  Status OpenKeys(const std::string& path);
  // Opens the resources table in the SQLite database at `path` (creating it).
  Status OpenResources(const std::string& path);

 private:
  struct Grants;
  std::shared_ptr<Grants> grants_;
  struct JobTables;
  std::shared_ptr<JobTables> jobs_;
  struct KeyTables;
  std::shared_ptr<KeyTables> keys_;
  struct ResourceTable;
  std::shared_ptr<ResourceTable> resources_;
};

}  // namespace argus::store
