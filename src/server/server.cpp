#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <random>
#include <set>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "api/rekognition/errors.h"
#include "api/rekognition/router.h"
#include "api/rekognition/validate.h"
#include "auth/sigv4.h"
#include "core/log.h"
#include "core/uuid.h"
#include "server/admission.h"
#include "server/gate.h"
#include "server/metrics.h"

namespace argus::server {
namespace {

constexpr const char* kJsonType = "application/x-amz-json-1.1";
constexpr std::string_view kPrefix = "RekognitionService.";

// The operation name for metrics and logs: one of the model's operations, or
// "unknown" (labels must not come from raw input).
class OperationNames {
 public:
  OperationNames() {
    for (const auto& op : api::ModelOperations()) names_.insert(op);
    for (const auto& op : api::SupportedOperations()) names_.insert(op);
  }
  std::string Of(std::string_view target) const {
    if (target.substr(0, kPrefix.size()) != kPrefix) return "unknown";
    auto it = names_.find(target.substr(kPrefix.size()));
    return it == names_.end() ? "unknown" : *it;
  }

 private:
  std::set<std::string, std::less<>> names_;
};

api::Response ErrorResponse(const Status& st) {
  api::ErrorShape e = api::MapError(st.code());
  return {e.http_status, api::ErrorBody(st), e.type};
}

long FacesIndexed(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return 0;
  auto it = j.find("FaceRecords");
  return it != j.end() && it->is_array() ? long(it->size()) : 0;
}

}  // namespace

std::string NewRequestId() { return NewUuidV4(); }

int Serve(const Options& options, api::Services& services) {
  if (options.auth && !options.keys) {
    log::Error("internal: authentication enabled without a key store");
    return 1;
  }
  httplib::Server srv;
  srv.new_task_queue = [n = options.connections] { return new httplib::ThreadPool(n); };
  srv.set_payload_max_length(options.max_body_bytes);
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, with which a
  // second server on the same port starts silently and takes half the connections.
  // Headers and body go out in separate writes: without TCP_NODELAY the body
  // waits for the client's delayed ACK (~40 ms per response).
  srv.set_tcp_nodelay(true);
  srv.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  Admission admission(options.workers, options.queue);
  RateLimiter rate_limiter(options.rate_burst);
  Metrics metrics;
  const OperationNames op_names;

  srv.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    auto t0 = std::chrono::steady_clock::now();
    std::string id = NewRequestId();
    std::string target = req.get_header_value("X-Amz-Target");
    std::string op = op_names.Of(target);
    std::string who = "anonymous", region;
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
            [&](const std::string& key_id) -> std::optional<std::string> {
              auto a = options.keys->Lookup(key_id);
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
        if (principal->rate_limit > 0) rate = principal->rate_limit;
        principal_used = *principal;
      }
      if (!rate_limiter.Allow(who, rate)) {
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
      if (!options.policies || !options.audit) {
        r = api::Handle(target, req.body, services);
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
      gate.emplace(*options.policies, *options.audit, std::move(ctx.value()));
      r = api::Handle(target, req.body, services, &*gate);
    }();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    metrics.Observe(op, r.http_status, r.error_type, seconds);
    if (op == "IndexFaces" && r.http_status == 200) metrics.AddFacesIndexed(FacesIndexed(r.body));
    res.status = r.http_status;
    res.set_header("x-amzn-RequestId", id);
    if (gate && r.http_status == 200) {
      if (gate->human_review()) res.set_header("X-Argus-Human-Review", "required");
      if (!gate->constraining_rules().empty()) {
        res.set_header("X-Argus-Policy-Constraints", gate->constraining_rules());
      }
    }
    res.set_content(r.body, kJsonType);
    if (!r.error_type.empty()) {
      log::Info("request " + id + " " + op + " principal=" + who +
                (region.empty() ? "" : " region=" + region) + " -> " +
                std::to_string(r.http_status) + " " + r.error_type);
    }
  });
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("x-amzn-RequestId", NewRequestId());
    res.set_content("{\"status\":\"ok\"}", "application/json");
  });
  srv.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    metrics.SetGauges(admission.waiting(), admission.running());
    res.set_header("x-amzn-RequestId", NewRequestId());
    res.set_content(metrics.Prometheus(), "text/plain; version=0.0.4");
  });
  srv.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                               std::exception_ptr) {
    res.status = 500;
    res.set_header("x-amzn-RequestId", NewRequestId());
    res.set_content(api::ErrorBody(Internal("internal error")), kJsonType);
  });
  srv.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    res.set_header("x-amzn-RequestId", NewRequestId());
    Status st = res.status == 413
                    ? Status(Code::kImageTooLarge, "Request body exceeds the size limit.")
                    : Status(Code::kUnknownOperation,
                             "Not found: argus answers POST / (AWS JSON 1.1), GET /healthz and "
                             "GET /metrics.");
    res.set_content(api::ErrorBody(st), kJsonType);
  });

  if (!srv.bind_to_port(options.host, options.port)) {
    log::Error("cannot listen on " + options.host + ":" + std::to_string(options.port));
    return 1;
  }
  // SIGINT/SIGTERM are taken by a waiter thread (blocked everywhere else, so
  // the worker threads created by listen inherit the mask) which stops the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    srv.stop();
  });
  log::Info("argus listening on http://" + options.host + ":" + std::to_string(options.port) +
            " (" + std::to_string(options.workers) + " workers, queue " +
            std::to_string(options.queue) + ")");
  bool ok = srv.listen_after_bind();
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter if the server stopped itself
  waiter.join();
  log::Info("argus stopped");
  return ok ? 0 : 1;
}

}  // namespace argus::server
