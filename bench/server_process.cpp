#include "bench/server_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "auth/key_store.h"
#include "auth/sigv4.h"

namespace argus::bench {

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool Healthy(const ServerProcess& s) {
  httplib::Client c(s.host, s.port);
  c.set_connection_timeout(1);
  auto r = c.Get("/healthz");
  return r && r->status == 200;
}

bool StartServer(const ServeOptions& options, const char* data_dir_prefix, ServerProcess* s) {
  std::string tmpl = std::string("/tmp/") + data_dir_prefix + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) return false;
  s->data_dir = tmpl;
  auto store = auth::KeyStore::Open(s->data_dir);
  if (!store.ok()) return false;
  auth::NewKey k;
  k.name = "bench";
  k.org_type = auth::OrgType::kResearch;
  k.purpose = "benchmark";
  auto issued = store.value()->Create(k);
  if (!issued.ok()) return false;
  s->key = issued->key.access_key_id;
  s->secret = issued->secret_access_key;
  s->port = FreePort();
  std::vector<std::string> argv = {
      "argus",      "serve",     "--port",      std::to_string(s->port),
      "--data-dir", s->data_dir, "--model-dir", options.model_dir};
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  s->pid = fork();
  if (s->pid == 0) {
    std::vector<char*> cargv;
    for (auto& arg : argv) cargv.push_back(arg.data());
    cargv.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    if (!options.log_file.empty())
      std::freopen((s->data_dir + "/" + options.log_file).c_str(), "w", stderr);
    execv("/proc/self/exe", cargv.data());
    _exit(127);
  }
  for (int i = 0; i < 600; ++i) {
    if (Healthy(*s)) return true;
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      s->pid = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

void StopServer(ServerProcess& s) {
  if (s.pid <= 0) return;
  kill(s.pid, SIGTERM);
  int status;
  waitpid(s.pid, &status, 0);
  s.pid = -1;
  std::error_code ec;
  std::filesystem::remove_all(s.data_dir, ec);
}

httplib::Headers SignedHeaders(const ServerProcess& s, const std::string& op,
                               const std::string& body) {
  auth::HttpRequest r{"POST",
                      "/",
                      {{"Host", s.host + ":" + std::to_string(s.port)},
                       {"X-Amz-Target", "RekognitionService." + op}},
                      body};
  auth::Sign(r, s.key, s.secret, "us-east-1", std::time(nullptr));
  return httplib::Headers(r.headers.begin(), r.headers.end());
}

std::string ErrorType(const httplib::Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  std::string http = "HTTP " + std::to_string(r.status);
  return j.is_object() ? j.value("__type", http) : http;
}

}  // namespace argus::bench
