#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <thread>
#include <random>

#include <httplib.h>

#include "api/rekognition/errors.h"
#include "api/rekognition/router.h"
#include "core/log.h"

namespace argus::server {
namespace {

constexpr const char* kJsonType = "application/x-amz-json-1.1";

}  // namespace

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFull) | 0x4000ull;              // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 1
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(a >> 32),
                unsigned((a >> 16) & 0xFFFF), unsigned(a & 0xFFFF), unsigned(b >> 48),
                static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

int Serve(const Options& options, api::Services& services) {
  httplib::Server srv;
  srv.new_task_queue = [n = options.workers] { return new httplib::ThreadPool(n); };
  srv.set_payload_max_length(options.max_body_bytes);

  srv.Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    std::string id = NewRequestId();
    std::string target = req.get_header_value("X-Amz-Target");
    api::Response r = api::Handle(target, req.body, services);
    res.status = r.http_status;
    res.set_header("x-amzn-RequestId", id);
    res.set_content(r.body, kJsonType);
    if (!r.error_type.empty()) {
      log::Info("request " + id + " " + target + " -> " + std::to_string(r.http_status) + " " +
                r.error_type);
    }
  });
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}", "application/json");
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
                             "Not found: argus answers POST / (AWS JSON 1.1) and GET /healthz.");
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
  log::Info("argus listening on http://" + options.host + ":" + std::to_string(options.port));
  bool ok = srv.listen_after_bind();
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter if the server stopped itself
  waiter.join();
  log::Info("argus stopped");
  return ok ? 0 : 1;
}

}  // namespace argus::server
