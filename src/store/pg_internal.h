#pragma once
// Private to the PostgreSQL store's files (pg_store.cpp: pool, transactions,
// collections and tags; pg_schema.cpp: migrations; pg_faces.cpp: faces and
// users; pg_audit.cpp: audit log and grants; pg_jobs.cpp: jobs; pg_keys.cpp:
// principals, keys and rate limits; pg_resources.cpp: resources; the change
// sequence is in pg_store.cpp).
//
// libpq, one connection per borrower from a pool sized to the workers. Every
// statement is prepared once per connection (named after its text) and run
// with parameters. A connection that breaks is dropped from the pool and the
// call answers ServiceUnavailable; the next call connects afresh, so the
// store recovers without a restart once the database is back. Nothing is
// written anywhere else while the database cannot be reached.
#include <libpq-fe.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace argus::store::pg_impl {

// The database's clock in milliseconds, in SQL: job leases and rate-limit
// buckets are judged by one clock, whatever the nodes' clocks say.
inline constexpr const char* kDbNowMs = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

// One parameter: text (nullopt = NULL) or raw bytes for a bytea column.
struct Param {
  std::optional<std::string> value;
  bool binary = false;
  Param() = default;
  Param(std::nullopt_t) {}                                     // NOLINT
  Param(std::string v) : value(std::move(v)) {}                // NOLINT
  Param(const char* v) : value(std::string(v)) {}              // NOLINT
  Param(int64_t v) : value(std::to_string(v)) {}               // NOLINT
  Param(int v) : value(std::to_string(v)) {}                   // NOLINT
  Param(bool v) : value(std::string(v ? "true" : "false")) {}  // NOLINT
  Param(double v);                                             // NOLINT: exact round trip
  static Param Bytes(const void* p, size_t n) {
    Param x;
    x.value = std::string(static_cast<const char*>(p), n);
    x.binary = true;
    return x;
  }
  static Param Floats(const std::vector<float>& v) {
    return Bytes(v.data(), v.size() * sizeof(float));
  }
  static Param Nullable(const std::string& v) { return v.empty() ? Param() : Param(v); }
  static Param Opt(const std::optional<double>& v) { return v ? Param(*v) : Param(); }
  static Param Opt(const std::optional<int64_t>& v) { return v ? Param(*v) : Param(); }
};

// A query's result (text format); cleared on destruction.
class Rows {
 public:
  explicit Rows(PGresult* r = nullptr) : r_(r) {}
  ~Rows() { PQclear(r_); }
  Rows(Rows&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Rows& operator=(Rows&& o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  int size() const { return r_ ? PQntuples(r_) : 0; }
  int64_t affected() const;
  bool Null(int row, int c) const { return PQgetisnull(r_, row, c); }
  std::string Text(int row, int c) const {
    return std::string(PQgetvalue(r_, row, c), PQgetlength(r_, row, c));
  }
  int64_t Int(int row, int c) const;
  double Real(int row, int c) const;
  bool Bool(int row, int c) const { return PQgetvalue(r_, row, c)[0] == 't'; }
  std::optional<double> OptReal(int row, int c) const {
    return Null(row, c) ? std::nullopt : std::optional<double>(Real(row, c));
  }
  std::optional<int64_t> OptInt(int row, int c) const {
    return Null(row, c) ? std::nullopt : std::optional<int64_t>(Int(row, c));
  }
  // A bytea column (hex text form) as bytes.
  std::string Bytes(int row, int c) const;
  // A bytea column (hex text form) as floats.
  void FloatsInto(int row, int c, std::vector<float>& v) const;
  std::vector<float> Floats(int row, int c) const {
    std::vector<float> v;
    FloatsInto(row, c, v);
    return v;
  }

 private:
  PGresult* r_;
};

// One connection with its prepared statements.
class Conn {
 public:
  explicit Conn(PGconn* c) : c_(c) {}
  ~Conn() { PQfinish(c_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  PGconn* raw() const { return c_; }
  bool broken() const { return PQstatus(c_) != CONNECTION_OK; }
  // Runs `sql` (prepared on first use) with `params`.
  Result<Rows> Exec(const std::string& sql, const std::vector<Param>& params = {});
  // Runs `sql` as is (no parameters, several statements allowed).
  Status Simple(const std::string& sql);

 private:
  Status Error(const std::string& what, PGresult* r = nullptr);
  PGconn* c_;
  std::map<std::string, std::string> prepared_;  // sql -> statement name
};

// The error of a failed call on `c`: ServiceUnavailable when the connection
// is gone, else Internal with the server's message.
Status ConnError(PGconn* c, const std::string& what, PGresult* r = nullptr);

class Pool {
 public:
  Pool(std::string url, int size) : url_(std::move(url)), size_(size < 1 ? 1 : size) {}
  // A connection, waiting up to 10 s for one to come back when all `size`
  // are lent. ServiceUnavailable when the database cannot be reached.
  Result<std::unique_ptr<Conn>> Take();
  // Back to the pool, or closed when broken.
  void Give(std::unique_ptr<Conn> c);
  // Closes the idle connections (one was found dead: so are they, likely).
  void DropIdle();
  // A new connection outside the pool (the change follower's LISTEN).
  Result<std::unique_ptr<Conn>> Connect();
  const std::string& url() const { return url_; }
  int size() const { return size_; }

 private:
  std::string url_;
  int size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int lent_ = 0;
};

// A connection borrowed for the scope.
class Lease {
 public:
  explicit Lease(Pool* p) : pool_(p) {
    auto c = p->Take();
    if (c.ok())
      conn_ = std::move(c.value());
    else
      error_ = c.status();
  }
  ~Lease() {
    if (conn_) pool_->Give(std::move(conn_));
  }
  bool ok() const { return conn_ != nullptr; }
  const Status& error() const { return error_; }
  Conn* operator->() const { return conn_.get(); }
  Conn& operator*() const { return *conn_; }

 private:
  Pool* pool_;
  std::unique_ptr<Conn> conn_;
  Status error_;
};

inline constexpr const char* kFaceColumns =
    "label, face_id, image_id, COALESCE(external_image_id, ''), confidence, box_left, box_top, "
    "box_width, box_height, COALESCE(user_id, ''), model_version, created_ms";

inline constexpr const char* kAuditColumns =
    "seq, time_ms, kind, request_id, principal, org_type, purpose, case_id, authorisation, "
    "operation, op_class, collection, decision, rule, threshold_asked, threshold_applied, "
    "max_results, human_review, matches, top_similarity, outcome, detail, prev_hash, hash";

Face ReadFace(const Rows& r, int row, bool descriptor);

class PgStore : public Store {
 public:
  PgStore(std::string url, int pool_size) : pool_(std::move(url), pool_size) {}

  Status Open();
  Status CreateCollection(const Collection& c) override;
  Result<Collection> GetCollection(const std::string& id) override;
  Result<std::vector<Collection>> ListCollections(const std::string& after, int limit) override;
  Status DeleteCollection(const std::string& id) override;
  Status InsertFaces(const std::string& collection, std::vector<Face>& faces,
                     const AuditAppend* audit) override;
  Result<std::vector<Face>> FacesOfImage(const std::string& collection, const std::string& image_id,
                                         const std::string& external_image_id) override;
  Result<std::vector<Face>> FacesByLabel(const std::string& collection,
                                         const std::vector<int64_t>& labels) override;
  Result<std::vector<Face>> ListFaces(const std::string& collection,
                                      const FaceFilter& filter) override;
  Result<std::vector<Face>> DeleteFaces(const std::string& collection,
                                        const std::vector<std::string>& face_ids) override;
  Status ScanDescriptors(
      const std::string& collection,
      const std::function<void(int64_t, const std::vector<float>&)>& fn) override;
  Result<std::vector<int64_t>> Labels(const std::string& collection) override;
  Status CreateUser(const std::string& collection, const std::string& user_id,
                    const std::string& token, int64_t created_ms) override;
  Result<User> GetUser(const std::string& collection, const std::string& user_id) override;
  Status DeleteUser(const std::string& collection, const std::string& user_id) override;
  Result<std::vector<User>> ListUsers(const std::string& collection, const std::string& after,
                                      int limit) override;
  Result<std::vector<std::string>> AssociateFaces(const std::string& collection,
                                                  const std::string& user_id,
                                                  const std::vector<std::string>& face_ids,
                                                  int max_faces_per_user) override;
  Result<std::vector<std::string>> DisassociateFaces(
      const std::string& collection, const std::string& user_id,
      const std::vector<std::string>& face_ids) override;
  Status TagCollection(const std::string& id, const std::map<std::string, std::string>& tags,
                       int max_tags) override;
  Status UntagCollection(const std::string& id, const std::vector<std::string>& keys) override;
  Result<std::vector<Face>> DeleteFacesBefore(const std::string& collection,
                                              int64_t cutoff_ms) override;
  Status AppendAudit(AuditRecord& r,
                     const std::function<std::string(const AuditRecord&)>& hash) override;
  void OnAuditCommitted(std::function<void(const AuditRecord&)> fn) override;
  Status ScanAudit(int64_t after_seq, const std::function<bool(const AuditRecord&)>& fn) override;
  Result<int64_t> AuditHighWater() override;
  Result<int64_t> CountAudit(const std::string& principal, const std::string& operation,
                             const std::string& decision, int64_t since_ms) override;

  Status SetCollectionOwner(const std::string& collection, const std::string& principal) override;
  Status GrantCollection(const std::string& collection, const std::string& principal,
                         const std::string& access) override;
  Status RevokeCollection(const std::string& collection, const std::string& principal) override;
  Status DropCollectionGrants(const std::string& collection) override;
  Result<std::vector<CollectionGrant>> GrantsOfCollection(const std::string& collection) override;
  Result<std::vector<CollectionGrant>> GrantsOfPrincipal(const std::string& principal) override;

  Status InsertJob(const JobRecord& job) override;
  Result<JobRecord> GetJob(const std::string& id) override;
  Result<std::vector<JobRecord>> ListJobs(const JobQuery& query) override;
  Result<std::optional<JobRecord>> FindJobByToken(const std::string& owner, const std::string& api,
                                                  const std::string& client_token,
                                                  int64_t completed_since_ms) override;
  Result<int64_t> CountUnfinishedJobs(const std::string& owner) override;
  Result<std::optional<JobRecord>> ClaimJob(const std::string& id, int64_t started_ms,
                                            const JobLease& lease) override;
  Result<std::vector<std::string>> ClaimableJobs(int limit) override;
  Result<bool> RenewJobLease(const std::string& id, const JobLease& lease) override;
  Result<std::optional<PrincipalRow>> GetPrincipal(const std::string& name) override;
  Status InsertAccessKey(const std::optional<PrincipalRow>& new_principal,
                         const AccessKeyRow& key) override;
  Result<std::vector<std::pair<AccessKeyRow, PrincipalRow>>> ListAccessKeys(
      bool active_only) override;
  Status RevokeAccessKey(const std::string& access_key_id, int64_t revoked_at) override;
  Result<int64_t> AccessKeysVersion() override;
  Status InsertResource(const ResourceRow& row) override;
  Result<ResourceRow> GetResource(const std::string& kind, const std::string& id) override;
  Result<bool> UpdateResource(const ResourceRow& row, int64_t expected_version) override;
  Result<std::vector<ResourceRow>> ListResources(const std::string& kind,
                                                 const std::string& after_id, int limit) override;
  Status DeleteResource(const std::string& kind, const std::string& id) override;
  Result<int64_t> DeleteResourcesUpdatedBefore(const std::string& kind, int64_t cutoff_ms) override;
  bool SharesRateLimits() const override { return true; }
  Result<bool> TakeRateToken(const std::string& principal, double rate, double burst) override;
  Status RequeueJob(const std::string& id) override;
  Result<bool> SaveJobProgress(const std::string& id, double progress,
                               const std::string& metadata) override;
  Result<bool> FinishJob(const JobRecord& job,
                         const std::vector<JobResultRecord>& results) override;
  Result<JobRecord> CancelJob(const std::string& id, int64_t now_ms) override;
  Result<std::vector<JobResultRecord>> JobResults(const std::string& id, JobResultOrder order,
                                                  int64_t offset, int limit) override;
  Result<int64_t> DeleteJobsCompletedBefore(int64_t cutoff_ms) override;

  bool SharesChanges() const override { return true; }
  Result<int64_t> ChangeHighWater() override;
  Status ScanChanges(int64_t after_seq, int limit,
                     const std::function<void(const Change&)>& fn) override;
  Status WaitForChanges(int timeout_ms) override;
  std::string NodeId() const override { return node_id_; }

  // `body` inside one transaction on a borrowed connection (READ COMMITTED
  // unless `begin` says otherwise); committed when it returns OK.
  Status Txn(const std::function<Status(Conn&)>& body, const char* begin = "BEGIN");
  // `body` on a borrowed connection, no transaction.
  Status With(const std::function<Status(Conn&)>& body);

 private:
  // Inside a transaction: serialises with every other audit append (the
  // locked head row), assigns r.seq, r.prev_hash and r.hash, inserts it.
  Status AppendAuditIn(Conn& c, AuditRecord& r,
                       const std::function<std::string(const AuditRecord&)>& hash);
  // Inside a transaction, last: records a change for the followers and
  // wakes them at commit (NOTIFY). Serialised so change seq order is commit
  // order.
  Status RecordChange(Conn& c, const std::string& collection, const std::string& kind,
                      const std::vector<int64_t>& labels);
  Status Migrate();
  static Status NotFound(const std::string& id);
  static Status UserNotFound(const std::string& collection, const std::string& user);

  Pool pool_;
  std::string node_id_;
  std::mutex audit_mu_;  // this process's appends, so the observer sees seq order
  std::function<void(const AuditRecord&)> audit_committed_;  // under audit_mu_
  std::mutex listen_mu_;
  std::unique_ptr<Conn> listener_;  // LISTEN argus_changes; under listen_mu_
};

}  // namespace argus::store::pg_impl
