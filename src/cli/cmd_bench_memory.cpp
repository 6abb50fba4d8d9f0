// `argus bench memory`: starts a real `argus serve`, sends bursts of
// concurrent large-image requests and prints the server's resident memory
// (VmRSS, and VmHWM: the peak) from /proc/PID/status before, during and after
// each burst. Prints figures; passes or fails on nothing but errors.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "auth/key_store.h"
#include "auth/sigv4.h"
#include "cli/args.h"
#include "core/base64.h"
#include "core/image.h"

namespace argus::cli {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Server {
  int port = 0;
  std::string key, secret, data_dir;
  pid_t pid = -1;
};

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

bool Healthy(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1);
  auto r = c.Get("/healthz");
  return r && r->status == 200;
}

// `argus serve` on a free port with a fresh data dir, a key, and the
// --workers/--threads/--queue/--image-memory-mb given to the bench.
bool Start(const Args& a, Server* s) {
  char tmpl[] = "/tmp/argus-bench-memory-XXXXXX";
  if (!mkdtemp(tmpl)) return false;
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
      "--data-dir", s->data_dir, "--model-dir", ModelDir(a),
      "--policy",   "open"};
  for (const char* flag : {"workers", "threads", "queue", "image-memory-mb"}) {
    if (a.Has(flag)) argv.insert(argv.end(), {std::string("--") + flag, a.Get(flag)});
  }
  s->pid = fork();
  if (s->pid == 0) {
    std::vector<char*> cargv;
    for (auto& arg : argv) cargv.push_back(arg.data());
    cargv.push_back(nullptr);
    std::freopen("/dev/null", "w", stdout);
    std::freopen((s->data_dir + "/serve.log").c_str(), "w", stderr);
    execv("/proc/self/exe", cargv.data());
    _exit(127);
  }
  for (int i = 0; i < 600; ++i) {
    if (Healthy(s->port)) return true;
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// VmRSS and VmHWM of `pid` in MiB (-1 when unreadable).
struct Rss {
  double rss = -1, hwm = -1;
};

Rss ReadRss(pid_t pid) {
  Rss out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    long kb = 0;
    if (std::sscanf(line.c_str(), "VmRSS: %ld kB", &kb) == 1) out.rss = double(kb) / 1024;
    if (std::sscanf(line.c_str(), "VmHWM: %ld kB", &kb) == 1) out.hwm = double(kb) / 1024;
  }
  return out;
}

// A JPEG of about `megapixels` (3:2) within Rekognition's 5 MB, made from
// `photo` scaled up (so that it has faces and texture to analyse).
std::string LargeJpeg(const cv::Mat& photo, double megapixels) {
  int w = int(std::sqrt(megapixels * 1e6 * 1.5)), h = int(megapixels * 1e6 / w);
  cv::Mat big;
  cv::resize(photo, big, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  std::vector<uchar> buf;
  for (int q = 90; q >= 10; q -= 10) {
    cv::imencode(".jpg", big, buf, {cv::IMWRITE_JPEG_QUALITY, q});
    if (buf.size() <= kMaxImageBytes) break;
  }
  return std::string(buf.begin(), buf.end());
}

httplib::Headers Signed(const Server& s, const std::string& op, const std::string& body) {
  auth::HttpRequest r{"POST",
                      "/",
                      {{"Host", "127.0.0.1:" + std::to_string(s.port)},
                       {"X-Amz-Target", "RekognitionService." + op}},
                      body};
  auth::Sign(r, s.key, s.secret, "us-east-1", std::time(nullptr));
  return httplib::Headers(r.headers.begin(), r.headers.end());
}

// `clients` requests at once, each on its own connection; while they run,
// the server's RSS is sampled every 20 ms. Returns answers by type.
std::map<std::string, int> Burst(const Server& s, const std::string& op, const std::string& body,
                                 int clients, double* max_rss, double* seconds) {
  std::map<std::string, int> answers;
  std::mutex mu;
  std::atomic<int> left{clients};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", s.port);
      cli.set_read_timeout(600);
      cli.set_write_timeout(60);
      auto r = cli.Post("/", Signed(s, op, body), body, "application/x-amz-json-1.1");
      std::string kind = "connection error";
      if (r && r->status == 200) {
        kind = "200";
      } else if (r) {
        auto j = json::parse(r->body, nullptr, false);
        kind = j.is_object() ? j.value("__type", "HTTP " + std::to_string(r->status))
                             : "HTTP " + std::to_string(r->status);
      }
      std::lock_guard lock(mu);
      answers[kind]++;
      --left;
    });
  }
  *max_rss = 0;
  while (left > 0) {
    *max_rss = std::max(*max_rss, ReadRss(s.pid).rss);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& t : threads) t.join();
  *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return answers;
}

}  // namespace

int CmdBenchMemory(const Args& a) {
  int clients = std::max(1, a.GetInt("concurrency", 4));
  int rounds = std::max(1, a.GetInt("rounds", 2));
  double megapixels = std::clamp(double(a.GetInt("megapixels", 50)), 1.0, 50.0);
  std::string op = a.Get("op", "DetectFaces");
  std::string photo_path =
      a.Get("image", ModelDir(a) + "/packages/face-api/package/demo/sample1.jpg");
  cv::Mat photo = cv::imread(photo_path, cv::IMREAD_COLOR);
  if (photo.empty()) {
    std::fprintf(stderr, "argus bench memory: cannot read %s\n", photo_path.c_str());
    return 1;
  }
  std::string jpeg = LargeJpeg(photo, megapixels);
  std::string body;
  if (op == "CompareFaces") {
    body = json{{"SourceImage", {{"Bytes", Base64Encode(jpeg)}}},
                {"TargetImage", {{"Bytes", Base64Encode(jpeg)}}}}
               .dump();
  } else {
    body = json{{"Image", {{"Bytes", Base64Encode(jpeg)}}}}.dump();
  }
  Server s;
  if (!Start(a, &s)) {
    std::fprintf(stderr, "argus bench memory: could not start argus serve (log: %s/serve.log)\n",
                 s.data_dir.c_str());
    return 1;
  }
  std::printf(
      "%s, %d concurrent requests per burst, %d bursts; one %.0f MP JPEG of %.1f MB; "
      "server: --workers %s --threads %s%s\n",
      op.c_str(), clients, rounds, megapixels, double(jpeg.size()) / 1e6,
      a.Get("workers", "2").c_str(), a.Get("threads", "2").c_str(),
      a.Has("image-memory-mb") ? (" --image-memory-mb " + a.Get("image-memory-mb")).c_str() : "");
  Rss idle = ReadRss(s.pid);
  std::printf("  idle                        VmRSS %7.0f MiB   VmHWM %7.0f MiB\n", idle.rss,
              idle.hwm);
  int errors = 0;
  for (int round = 1; round <= rounds; ++round) {
    double max_rss = 0, seconds = 0;
    auto answers = Burst(s, op, body, clients, &max_rss, &seconds);
    Rss after = ReadRss(s.pid);
    std::this_thread::sleep_for(std::chrono::seconds(2));
    Rss settled = ReadRss(s.pid);
    std::printf(
        "  burst %d (%5.1f s)            max VmRSS %6.0f MiB   VmHWM %7.0f MiB   "
        "VmRSS at end %6.0f MiB, 2 s later %6.0f MiB   answers:",
        round, seconds, max_rss, after.hwm, after.rss, settled.rss);
    for (auto& [kind, n] : answers) {
      std::printf(" %d %s", n, kind.c_str());
      if (kind == "connection error") errors += n;
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  kill(s.pid, SIGTERM);
  int status;
  waitpid(s.pid, &status, 0);
  std::error_code ec;
  std::filesystem::remove_all(s.data_dir, ec);
  return errors ? 1 : 0;
}

}  // namespace argus::cli
