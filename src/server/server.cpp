#include "server/server.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "api/rekognition/admin.h"
#include "api/rekognition/errors.h"
#include "api/rekognition/router.h"
#include "api/rekognition/validate.h"
#include "auth/sigv4.h"
#include "core/log.h"
#include "core/uuid.h"
#include "server/admission.h"
#include "server/console.h"
#include "server/gate.h"
#include "server/http_server.h"
#include "server/metrics.h"

namespace argus::server {
namespace {

constexpr const char* kJsonType = "application/x-amz-json-1.1";
constexpr std::string_view kPrefix = "RekognitionService.";

// The operation name for metrics and logs: a row of the operation table, or
// "unknown" (labels must not come from raw input).
class OperationNames {
 public:
  std::string Of(std::string_view target) const {
    constexpr std::string_view kAdmin = "ArgusAdmin.";
    if (target.substr(0, kAdmin.size()) == kAdmin) {
      const api::OpSpec* op = api::FindAdminOperation(target.substr(kAdmin.size()));
      return op ? std::string("ArgusAdmin.") + op->name : "unknown";
    }
    if (target.substr(0, kPrefix.size()) != kPrefix) return "unknown";
    const api::OpSpec* op = api::FindOperation(target.substr(kPrefix.size()));
    return op ? op->name : "unknown";
  }
};

// GET /readyz's database check: the data dir takes a new file, argus.db
// (and its WAL) may be written. Empty when all is well, else what is wrong.
std::string ProbeDataDir(const std::string& dir) {
  if (dir.empty()) return "";
  const std::string probe = dir + "/.readyz-probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + probe + ": " + std::strerror(errno);
  bool wrote = ::write(fd, "x", 1) == 1;
  int err = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!wrote) return "cannot write " + probe + ": " + std::strerror(err);
  for (const char* name : {"/argus.db", "/argus.db-wal"}) {
    std::string path = dir + name;
    if (::access(path.c_str(), F_OK) == 0 && ::access(path.c_str(), W_OK) != 0) {
      return path + " is not writable: " + std::strerror(errno);
    }
  }
  return "";
}

// One access-log line: never a body or a secret.
struct AccessRecord {
  std::string request_id, operation, principal, access_key_id, region;
  int status = 0;
  std::string error;
  double seconds = 0;
  size_t bytes_in = 0, bytes_out = 0;
};

void AccessLog(log::Level level, const AccessRecord& a) {
  if (!log::Enabled(level)) return;
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.1f", a.seconds * 1000);
  log::Event(level, "request",
             {{"request_id", a.request_id},
              {"operation", a.operation},
              {"principal", a.principal},
              {"access_key_id", a.access_key_id},
              {"region", a.region},
              {"status", std::to_string(a.status), true},
              {"error", a.error},
              {"latency_ms", ms, true},
              {"bytes_in", std::to_string(a.bytes_in), true},
              {"bytes_out", std::to_string(a.bytes_out), true}});
}

api::Response ErrorResponse(const Status& st) {
  api::ErrorShape e = api::MapError(st.code());
  return {e.http_status, api::ErrorBody(st), e.type};
}

// The principal's rate limit: in the shared store when there is one (in
// memory when it cannot be reached: the request fails there anyway).
bool Allowed(RateLimiter& local, const Options& options, const std::string& who, double rate) {
  if (rate <= 0) return true;
  if (options.shared_rate_limits) {
    double burst = options.rate_burst > 0 ? options.rate_burst : std::max(1.0, rate);
    auto took = options.shared_rate_limits->TakeRateToken(who, rate, burst);
    if (took.ok()) return took.value();
    log::Warn("rate limit: the shared bucket of " + who + " is unreachable (" +
              took.status().message() + "); this node's own bucket applies");
  }
  return local.Allow(who, rate);
}

}  // namespace

std::string NewRequestId() { return NewUuidV4(); }

int Serve(const Options& options, api::Services& services) {
  if (options.auth && !options.keys) {
    log::Error("internal: authentication enabled without a key store");
    return 1;
  }
  Admission admission(options.workers, options.queue);
  RateLimiter rate_limiter(options.rate_burst);
  Metrics metrics;
  metrics.SetVersion(options.version);
  const OperationNames op_names;

  auto handle_post = [&](const HttpRequest& req, HttpResponse& res) {
    auto t0 = std::chrono::steady_clock::now();
    std::string id = NewRequestId();
    std::string target = req.get_header_value("X-Amz-Target");
    std::string op = op_names.Of(target);
    std::string who = "anonymous", region, key_id;
    api::Response r;
    std::optional<RequestGate> gate;
    [&] {
      double rate = options.rate_limit;
      auth::Principal principal_used = options.anonymous;
      if (options.auth) {
        auth::HttpRequest hr{req.method, req.target, {}, req.body};
        hr.headers.assign(req.headers.begin(), req.headers.end());
        std::optional<auth::Principal> principal;
        auto verified = auth::Verify(
            hr,
            [&](const std::string& requested) -> std::optional<std::string> {
              key_id = requested;
              auto a = options.keys->Lookup(requested);
              if (!a) return std::nullopt;
              principal = a->principal;
              return a->secret;
            },
            std::time(nullptr));
        if (!verified.ok()) {
          r = ErrorResponse(verified.status());
          return;
        }
        who = principal->name;
        region = verified->region;
        if (!options.regions.empty() && std::find(options.regions.begin(), options.regions.end(),
                                                  region) == options.regions.end()) {
          std::string list;
          for (const auto& name : options.regions) list += (list.empty() ? "" : ", ") + name;
          r = ErrorResponse(Status(Code::kInvalidSignature,
                                   "Credential should be scoped to a valid region, not '" + region +
                                       "'. This server serves: " + list + "."));
          return;
        }
        if (principal->rate_limit > 0) rate = principal->rate_limit;
        principal_used = *principal;
      }
      if (!Allowed(rate_limiter, options, who, rate)) {
        r = ErrorResponse(Status(Code::kProvisionedThroughputExceeded,
                                 "The number of requests exceeded your throughput limit."));
        return;
      }
      AdmissionTicket ticket(admission);
      if (!ticket.admitted()) {
        r = ErrorResponse(Status(Code::kThrottling,
                                 "argus is temporarily unable to process the request: all workers "
                                 "are busy and the queue is full. Try your call again."));
        return;
      }
      // The caller owns the stored-video jobs it starts.
      api::Services scoped = services;
      scoped.principal = options.auth ? principal_used.name : "";
      scoped.admin = !options.auth || principal_used.admin;
      scoped.policies = options.policies;
      scoped.audit = options.audit;
      if (!options.policies || !options.audit) {
        r = api::Handle(target, req.body, scoped);
        return;
      }
      // Purpose and case id (X-Argus-Purpose, X-Argus-Case-Id), then the
      // policy decision and the audit record around the handler.
      auto ctx = MakeContext(principal_used, id, req.get_header_value("X-Argus-Purpose"),
                             req.get_header_value("X-Argus-Case-Id"),
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
      if (!ctx.ok()) {
        r = ErrorResponse(ctx.status());
        return;
      }
      scoped.org_type = auth::OrgTypeName(ctx->principal.org_type);
      scoped.purpose = ctx->purpose;
      scoped.case_id = ctx->case_id;
      scoped.authorisation = ctx->principal.authorisation;
      gate.emplace(*options.policies, *options.audit, std::move(ctx.value()));
      r = api::Handle(target, req.body, scoped, &*gate);
    }();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics.Observe(op, r.http_status, r.error_type, seconds);
    if (r.faces_indexed) metrics.AddFacesIndexed(r.faces_indexed);
    res.status = r.http_status;
    res.set_header("x-amzn-RequestId", id);
    if (gate && r.http_status == 200) {
      if (gate->human_review()) res.set_header("X-Argus-Human-Review", "required");
      if (!gate->constraining_rules().empty()) {
        res.set_header("X-Argus-Policy-Constraints", gate->constraining_rules());
      }
    }
    res.set_content(r.body, kJsonType);
    AccessLog(log::Level::kInfo, {id, op, who, key_id, region, r.http_status, r.error_type, seconds,
                                  req.body.size(), r.body.size()});
  };
  // /healthz, /metrics and unknown paths are answered on the I/O thread, so
  // they never wait behind analysis; POST / runs on the handler pool.
  auto direct = [&](const HttpRequest& req) -> std::optional<HttpResponse> {
    auto t0 = std::chrono::steady_clock::now();
    const std::string rid = NewRequestId();
    HttpResponse res;
    res.set_header("x-amzn-RequestId", rid);
    if (req.method == "GET" && req.path() == "/healthz") {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    } else if (req.method == "GET" && req.path() == "/readyz") {
      // Each check: ok, and what is wrong when it is not.
      nlohmann::json body = nlohmann::json::object();
      bool ready = true;
      auto check = [&](const char* name, bool ok, nlohmann::json detail) {
        detail["ok"] = ok;
        body[name] = std::move(detail);
        ready = ready && ok;
      };
      check("models", options.model_problems.empty() && services.faces != nullptr,
            {{"problems", options.model_problems}});
      std::string db = ProbeDataDir(options.data_dir);
      check("database", db.empty(),
            db.empty() ? nlohmann::json::object() : nlohmann::json{{"error", db}});
      check("index", services.collections != nullptr,
            services.collections ? nlohmann::json::object()
                                 : nlohmann::json{{"error", "collections not loaded"}});
      const int waiting = admission.waiting();
      check("queue", waiting < options.queue,
            {{"waiting", waiting}, {"capacity", options.queue}, {"running", admission.running()}});
      body["status"] = ready ? "ready" : "not ready";
      res.status = ready ? 200 : 503;
      res.set_content(body.dump(), "application/json");
    } else if (req.method == "GET" && req.path() == "/metrics") {
      metrics.SetGauges(admission.waiting(), admission.running());
      if (services.jobs) {
        jobs::Stats js = services.jobs->stats();
        metrics.SetJobs(js.queued, js.running, js.succeeded, js.failed);
      }
      res.set_content(metrics.Prometheus(), "text/plain; version=0.0.4");
    } else if (req.method == "GET" && IsConsolePath(req.path())) {
      // The web console's static files (console.h): no credentials on the
      // server's side; the page signs its API calls itself.
      res = ConsoleResponse(req.path());
      res.set_header("x-amzn-RequestId", rid);
      if (res.status == 404) {
        res.set_content(api::ErrorBody(Status(Code::kUnknownOperation,
                                              "Not found: the console has no file " +
                                                  std::string(req.path().substr(0, 200)) + ".")),
                        kJsonType);
      }
    } else if (req.method == "POST" && req.path() == "/") {
      return std::nullopt;
    } else {
      res.status = 404;
      res.set_content(
          api::ErrorBody(Status(Code::kUnknownOperation,
                                "Not found: argus answers POST / (AWS JSON 1.1), "
                                "GET /healthz, GET /readyz, GET /metrics and GET /console/.")),
          kJsonType);
    }
    // Probes and scrapes at debug level (they come every few seconds).
    const bool probe = res.status != 404;
    AccessLog(probe ? log::Level::kDebug : log::Level::kInfo,
              {rid, req.method + " " + std::string(req.path().substr(0, 200)), "", "", "",
               res.status, probe ? "" : "UnknownOperationException",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
               req.body.size(), res.body.size()});
    return res;
  };
  // Transport refusals keep their HTTP status and carry the Rekognition error shape.
  auto refusal = [](HttpRefusal kind, const std::string& message) {
    Code code = kind == HttpRefusal::kPayloadTooLarge      ? Code::kImageTooLarge
                : kind == HttpRefusal::kServiceUnavailable ? Code::kServiceUnavailable
                : kind == HttpRefusal::kInternal           ? Code::kInternal
                                                           : Code::kInvalidParameter;
    HttpResponse res;
    const std::string rid = NewRequestId();
    res.set_header("x-amzn-RequestId", rid);
    res.set_content(api::ErrorBody(Status(code, message)), kJsonType);
    AccessLog(log::Level::kInfo, {rid, "", "", "", "", HttpStatusOf(kind), api::MapError(code).type,
                                  0, 0, res.body.size()});
    return res;
  };
  HttpServer::Options http;
  http.host = options.host;
  http.port = options.port;
  http.limits.max_body_bytes = options.max_body_bytes;
  http.limits.max_header_bytes = options.max_header_bytes;
  http.limits.max_header_count = options.max_header_count;
  http.limits.max_target_bytes = options.max_target_bytes;
  http.handler_threads = options.connections;
  http.header_timeout = std::chrono::seconds(options.header_timeout_s);
  http.body_timeout = std::chrono::seconds(options.body_timeout_s);
  http.idle_timeout = std::chrono::seconds(options.idle_timeout_s);
  http.max_connections = options.max_connections;
  http.max_connections_per_address = options.max_connections_per_address;
  http.max_body_bytes_in_flight = options.max_body_bytes_in_flight;
  HttpServer srv(
      http,
      [&](HttpRequest& req) {
        HttpResponse res;
        handle_post(req, res);
        return res;
      },
      direct, refusal);

  std::string listen_error;
  if (!srv.Listen(&listen_error)) {
    log::Error("cannot listen on " + options.host + ":" + std::to_string(options.port) + ": " +
               listen_error);
    return 1;
  }
  // SIGINT/SIGTERM are taken by a waiter thread (blocked everywhere else, so
  // the handler threads created by Run inherit the mask) which stops the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    srv.Stop();
  });
  log::Info("argus listening on http://" + options.host + ":" + std::to_string(options.port) +
            " (" + std::to_string(options.workers) + " workers, queue " +
            std::to_string(options.queue) + ")");
  srv.Run();
  // Wakes the waiter if the server stopped itself: SIGTERM is blocked in every
  // thread and taken by the waiter's sigwait, so it terminates nothing.
  pthread_kill(waiter.native_handle(), SIGTERM);  // NOLINT(bugprone-bad-signal-to-kill-thread)
  waiter.join();
  log::Info("argus stopped");
  return 0;
}

}  // namespace argus::server
