// The PostgreSQL store's schema: versioned migrations, applied at start
// under an advisory lock.
#include <iterator>
#include <string>

#include "core/log.h"
#include "store/pg_internal.h"

namespace argus::store::pg_impl {

// Each entry is one schema version, applied once, in order, in one
// transaction, recorded in schema_migrations. Never edit an applied entry:
// append a new one.
constexpr const char* kMigrations[] = {
    // 1: the records of store.h
    R"sql(
CREATE TABLE collections (
  id TEXT COLLATE "C" PRIMARY KEY,
  created_ms BIGINT NOT NULL,
  face_model_version TEXT NOT NULL,
  face_count BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE collection_tags (
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (collection_id, key)
);
CREATE TABLE faces (
  label BIGSERIAL PRIMARY KEY,
  face_id TEXT NOT NULL UNIQUE,
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  image_id TEXT NOT NULL,
  external_image_id TEXT,
  confidence DOUBLE PRECISION NOT NULL,
  box_left DOUBLE PRECISION NOT NULL, box_top DOUBLE PRECISION NOT NULL,
  box_width DOUBLE PRECISION NOT NULL, box_height DOUBLE PRECISION NOT NULL,
  user_id TEXT,
  model_version TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  descriptor BYTEA NOT NULL
);
CREATE INDEX faces_by_collection ON faces(collection_id, label);
CREATE INDEX faces_by_image ON faces(collection_id, image_id);
CREATE INDEX faces_by_user ON faces(collection_id, user_id) WHERE user_id IS NOT NULL;
CREATE TABLE users (
  collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
  user_id TEXT COLLATE "C" NOT NULL,
  created_ms BIGINT NOT NULL,
  client_token TEXT,
  PRIMARY KEY (collection_id, user_id)
);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  kind TEXT NOT NULL,
  request_id TEXT NOT NULL, principal TEXT NOT NULL, org_type TEXT NOT NULL,
  purpose TEXT NOT NULL, case_id TEXT NOT NULL, authorisation TEXT NOT NULL,
  operation TEXT NOT NULL, op_class TEXT NOT NULL, collection TEXT NOT NULL,
  decision TEXT NOT NULL, rule TEXT NOT NULL,
  threshold_asked DOUBLE PRECISION, threshold_applied DOUBLE PRECISION, max_results BIGINT,
  human_review BOOLEAN NOT NULL,
  matches BIGINT, top_similarity DOUBLE PRECISION,
  outcome TEXT NOT NULL, detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE INDEX audit_by_principal ON audit_log(principal, operation, time_ms);
-- The head of the audit chain: one row, locked by every append, so appends
-- from every node form one chain.
CREATE TABLE audit_head (
  id INT PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL
);
INSERT INTO audit_head VALUES (1, 0);
CREATE TABLE collection_grants (
  collection TEXT COLLATE "C" NOT NULL,
  principal TEXT COLLATE "C" NOT NULL,
  access TEXT NOT NULL CHECK (access IN ('owner', 'full', 'read')),
  PRIMARY KEY (collection, principal)
);
CREATE INDEX collection_grants_by_principal ON collection_grants(principal);
CREATE TABLE jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  api TEXT NOT NULL,
  owner TEXT NOT NULL,
  request TEXT NOT NULL,
  client_token TEXT NOT NULL,
  job_tag TEXT NOT NULL,
  notification TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('IN_PROGRESS', 'SUCCEEDED', 'FAILED')),
  queued BOOLEAN NOT NULL,
  status_message TEXT NOT NULL,
  progress DOUBLE PRECISION NOT NULL,
  metadata TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  started_ms BIGINT NOT NULL,
  completed_ms BIGINT NOT NULL,
  result_count BIGINT NOT NULL,
  attempts INT NOT NULL,
  cancel_requested BOOLEAN NOT NULL
);
CREATE INDEX jobs_by_token ON jobs(owner, api, client_token);
CREATE INDEX jobs_by_created ON jobs(created_ms, id);
CREATE INDEX jobs_by_state ON jobs(state, owner);
CREATE INDEX jobs_by_completed ON jobs(completed_ms) WHERE state != 'IN_PROGRESS';
CREATE TABLE job_results (
  job_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  idx BIGINT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
CREATE INDEX job_results_by_timestamp ON job_results(job_id, timestamp_ms, seq);
CREATE INDEX job_results_by_index ON job_results(job_id, idx, seq);
)sql",
    // 2: the change sequence the nodes follow
    R"sql(
CREATE TABLE changes (
  seq BIGSERIAL PRIMARY KEY,
  node TEXT NOT NULL,
  collection TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('create', 'drop', 'insert', 'delete')),
  labels BIGINT[] NOT NULL,
  time_ms BIGINT NOT NULL
);
)sql",
    // 3: leases on running jobs, so that another node takes over the jobs
    // of a node that died
    R"sql(
ALTER TABLE jobs ADD COLUMN lease_node TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN lease_until_ms BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jobs_in_progress ON jobs(created_ms, id) WHERE state = 'IN_PROGRESS';
)sql",
    // 4: principals and access keys every node accepts, their version (the
    // nodes reload their keys when it moves), and shared rate-limit buckets
    R"sql(
CREATE TABLE principals (
  name TEXT COLLATE "C" PRIMARY KEY,
  org_type TEXT NOT NULL,
  default_purpose TEXT NOT NULL,
  authorisation TEXT NOT NULL DEFAULT '',
  admin BOOLEAN NOT NULL DEFAULT false,
  rate_limit DOUBLE PRECISION NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE access_keys (
  access_key_id TEXT COLLATE "C" PRIMARY KEY,
  principal TEXT COLLATE "C" NOT NULL REFERENCES principals(name),
  secret_nonce BYTEA NOT NULL,
  secret_ciphertext BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT NOT NULL DEFAULT 0,
  seq BIGSERIAL NOT NULL
);
CREATE TABLE key_version (
  id INT PRIMARY KEY CHECK (id = 1),
  version BIGINT NOT NULL
);
INSERT INTO key_version VALUES (1, 0);
CREATE TABLE rate_buckets (
  principal TEXT COLLATE "C" PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  at_ms BIGINT NOT NULL
);
)sql",
    // 5: resources kept as documents (stream processors, liveness sessions).
    R"sql(
CREATE TABLE resources (
  kind TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  owner TEXT NOT NULL,
  body TEXT NOT NULL,
  version BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  PRIMARY KEY (kind, id)
);
)sql",
};

Status PgStore::Migrate() {
  return Txn([&](Conn& c) -> Status {
    // One node migrates at a time; the others wait, then find nothing to do.
    ARGUS_RETURN_IF_ERROR(c.Simple("SELECT pg_advisory_xact_lock(7274870001)"));
    ARGUS_RETURN_IF_ERROR(
        c.Simple("CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, "
                 "applied_ms BIGINT NOT NULL)"));
    auto have = c.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!have.ok()) return have.status();
    int64_t current = have->Int(0, 0);
    int64_t known = int64_t(std::size(kMigrations));
    if (current > known) {
      return Internal("store: the database has schema version " + std::to_string(current) +
                      "; this argus knows up to " + std::to_string(known) + " (upgrade argus)");
    }
    for (int64_t v = current + 1; v <= known; ++v) {
      ARGUS_RETURN_IF_ERROR(c.Simple(kMigrations[v - 1]));
      auto ins = c.Exec(
          "INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, "
          "(extract(epoch from clock_timestamp()) * 1000)::bigint)",
          {Param(v)});
      if (!ins.ok()) return ins.status();
      log::Info("store: applied schema migration " + std::to_string(v));
    }
    return Status::Ok();
  });
}

}  // namespace argus::store::pg_impl
