// `argus bench memory` (server_bench.h): resident memory (VmRSS, and VmHWM:
// the peak) of a real `argus serve`, from /proc/PID/status, before, during
// and after bursts of concurrent large-image requests.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "bench/bench_util.h"
#include "bench/server_bench.h"
#include "bench/server_process.h"
#include "core/base64.h"
#include "core/image.h"

namespace argus::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

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

// `clients` requests at once, each on its own connection; while they run,
// the server's RSS is sampled every 20 ms. Returns answers by type.
std::map<std::string, int> Burst(const ServerProcess& s, const std::string& op,
                                 const std::string& body, int clients, double* max_rss,
                                 double* seconds) {
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
      auto r = cli.Post("/", SignedHeaders(s, op, body), body, "application/x-amz-json-1.1");
      std::string kind = "connection error";
      if (r && r->status == 200) {
        kind = "200";
      } else if (r) {
        kind = ErrorType(*r);
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

int RunMemoryBench(const MemoryBenchOptions& o) {
  int clients = std::max(1, o.clients);
  int rounds = std::max(1, o.rounds);
  double megapixels = std::clamp(o.megapixels, 1.0, 50.0);
  const std::string& op = o.op;
  std::string photo_path =
      o.image.empty() ? o.model_dir + "/packages/face-api/package/demo/sample1.jpg" : o.image;
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
  ServerProcess s;
  ServeOptions serve;
  serve.model_dir = o.model_dir;
  serve.extra_args = {"--policy", "open"};
  serve.log_file = "serve.log";
  const std::pair<const char*, const std::string*> flags[] = {
      {"--workers", &o.workers},
      {"--threads", &o.threads},
      {"--queue", &o.queue},
      {"--image-memory-mb", &o.image_memory_mb}};
  for (const auto& [flag, value] : flags) {
    if (!value->empty()) serve.extra_args.insert(serve.extra_args.end(), {flag, *value});
  }
  if (!StartServer(serve, "argus-bench-memory", &s)) {
    std::fprintf(stderr, "argus bench memory: could not start argus serve (log: %s/serve.log)\n",
                 s.data_dir.c_str());
    return 1;
  }
  std::printf(
      "%s, %d concurrent requests per burst, %d bursts; one %.0f MP JPEG of %.1f MB; "
      "server: --workers %s --threads %s%s\n",
      op.c_str(), clients, rounds, megapixels, double(jpeg.size()) / 1e6,
      o.workers.empty() ? "2" : o.workers.c_str(), o.threads.empty() ? "2" : o.threads.c_str(),
      o.image_memory_mb.empty() ? "" : (" --image-memory-mb " + o.image_memory_mb).c_str());
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
  StopServer(s);
  return errors ? 1 : 0;
}

}  // namespace argus::bench
