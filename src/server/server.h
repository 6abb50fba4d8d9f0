#pragma once
// The HTTP front: POST / with X-Amz-Target (AWS JSON 1.1), GET /healthz,
// GET /readyz, GET /metrics, over the transport in http_server.h (health and metrics are
// answered on its I/O thread). Every POST goes through the same pipeline: request id →
// SigV4 (→ principal) → per-principal rate limit → admission (bounded
// workers and queue) → api::Handle → metrics.
#include <string>
#include <vector>

#include "api/rekognition/handlers.h"
#include "auth/key_store.h"
#include "policy/audit.h"
#include "policy/policy.h"
#include "store/store.h"

namespace argus::server {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  int workers = 2;       // requests analysed at once
  int queue = 32;        // requests that may wait for a worker; more → ThrottlingException
  int connections = 64;  // handler threads: requests parsed and handled at once
  size_t max_body_bytes = 8 * 1024 * 1024;  // base64 of a 5 MB image plus JSON
  // The transport's limits (src/server/http_server.h): head size, field
  // count and target length; deadlines for a request head, a body and an
  // idle keep-alive connection; connections at once in all and per client
  // address (beyond them: 503, /healthz still answered); body bytes held at once.
  size_t max_header_bytes = 16 * 1024;
  size_t max_header_count = 100;
  size_t max_target_bytes = 8 * 1024;
  int header_timeout_s = 10;
  int body_timeout_s = 60;
  int idle_timeout_s = 60;
  int max_connections = 1024;
  int max_connections_per_address = 32;
  size_t max_body_bytes_in_flight = 256 * 1024 * 1024;
  // SigV4 against `keys`; false only with --no-auth (every request is then
  // served as the anonymous principal).
  bool auth = true;
  auth::KeyStore* keys = nullptr;
  double rate_limit = 0;  // requests/s per principal unless the principal sets its own; 0 = none
  double rate_burst = 0;  // bucket size; 0 = max(1, rate)
  // A store several nodes share keeps the buckets (store::TakeRateToken),
  // so that a principal's limit holds across the nodes; null: in memory.
  store::Store* shared_rate_limits = nullptr;
  // Use policies and the audit log (src/server/gate.h); without them no
  // policy applies and nothing is audited (embedded uses only).
  const policy::PolicySet* policies = nullptr;
  policy::AuditLog* audit = nullptr;
  // Who unsigned requests are under --no-auth: name "anonymous", with the
  // organisation type and purpose given by --anonymous-org-type/-purpose.
  auth::Principal anonymous;
  // Regions a request may be signed for; empty = any (the region is logged).
  // Another region is refused with InvalidSignatureException, as AWS does.
  std::vector<std::string> regions;
  // GET /readyz: the data dir whose writability is probed, the model
  // problems found at start (files missing or altered, operations disabled),
  // and the version reported by argus_build_info.
  std::string data_dir;
  std::vector<std::string> model_problems;
  std::string version;
};

// Serves until SIGINT/SIGTERM. Returns 0 after a clean stop, non-zero when
// it could not start (the reason logged: the address and the errno text).
int Serve(const Options& options, api::Services& services);

// A random RFC 4122 version-4 UUID, as AWS request ids look.
std::string NewRequestId();

}  // namespace argus::server
