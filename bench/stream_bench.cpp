#include "bench/stream_bench.h"

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "bench/video_bench.h"
#include "core/image.h"
#include "server/notify.h"
#include "service/collections.h"
#include "stream/processor.h"

namespace argus::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

void PrintLatency(const char* what, const std::vector<double>& v) {
  std::printf("  %-34s n=%-5zu p50 %7.1f ms  p95 %7.1f ms  max %7.1f ms\n", what, v.size(),
              Pct(v, 0.5), Pct(v, 0.95), v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
}

// DetectFaces on `img`, `n` times; the latencies in ms.
std::vector<double> TimeDetect(service::FaceService& faces, const Image& img, int n) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    (void)faces.DetectFaces(img);
    out.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return out;
}

}  // namespace

int RunStreamBench(const StreamBenchOptions& o) {
  const std::string clip = o.data_dir + "/video/hamilton_clip.mp4";
  const std::string lin = o.data_dir + "/faces-misc/lin-manuel-miranda.png";
  const std::string alex = o.data_dir + "/faces-misc/alex-lacamoire.png";
  for (const auto& f : {clip, lin, alex})
    if (!fs::exists(f)) {
      std::fprintf(stderr, "argus bench stream: %s is missing (--data DIR)\n", f.c_str());
      return 1;
    }
  const fs::path tmp =
      fs::temp_directory_path() / ("argus_bench_stream_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  std::string source = o.source;
  if (source.empty()) {
    source = (tmp / "hamilton_720p.mp4").string();
    if (!Make720p(clip, source, 1 + int(o.seconds / 7))) {
      std::fprintf(stderr, "argus bench stream: cannot write the 720p clip\n");
      return 1;
    }
  }
  ml::Registry registry(o.model_dir);
  auto faces = service::FaceService::Create(registry, o.face);
  if (!faces.ok()) {
    std::fprintf(stderr, "argus bench stream: %s\n", faces.status().message().c_str());
    return 1;
  }
  Image portrait;
  auto svc = CastCollection(o.data_dir, (tmp / "data").string(), **faces, &portrait);
  if (!svc.ok()) {
    std::fprintf(stderr, "argus bench stream: %s\n", svc.status().message().c_str());
    return 1;
  }

  // The webhook receiver.
  std::mutex mu;
  std::vector<double> to_hook;
  int64_t matched_records = 0;
  httplib::Server hook;
  hook.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    const int64_t now = UnixMs();
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_object()) {
      std::lock_guard lock(mu);
      to_hook.push_back(double(now - j.value("captured_unix_ms", int64_t(0))));
      if (j.value("matches", 0) > 0) ++matched_records;
    }
    res.status = 200;
  });
  const int port = hook.bind_to_any_port("127.0.0.1");
  std::thread hook_thread([&] { hook.listen_after_bind(); });
  server::WebhookSender sender({});
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hook";

  std::printf("stream face search: %s, %.1f analysed frames/s, %.0f s, collection of 2 portraits\n",
              o.source.empty()
                  ? "hamilton_clip.mp4 upscaled to 1280x720 (looped), replayed in real time"
                  : source.c_str(),
              o.fps, o.seconds);
  stream::Services ss;
  ss.faces = faces->get();
  ss.collections = svc->get();
  stream::Manager manager(ss);
  stream::Settings settings;
  settings.source = source;
  settings.fps = o.fps;
  settings.collection = "cast";
  settings.face_match_threshold = 80;
  std::vector<double> to_result;
  int64_t first_frame_ms = -1;  // steady clock, the first analysed frame
  stream::Events ev;
  ev.on_result = [&](const stream::FrameResult& r) {
    {
      std::lock_guard lock(mu);
      if (first_frame_ms < 0) first_frame_ms = r.frame.captured_steady_ms;
    }
    int64_t matches = 0;
    for (const auto& f : r.faces) matches += int64_t(f.matches.size());
    {
      std::lock_guard lock(mu);
      to_result.push_back(double(r.analysed_steady_ms - r.frame.captured_steady_ms));
    }
    nlohmann::json rec = {{"captured_unix_ms", r.frame.captured_unix_ms},
                          {"faces", r.faces.size()},
                          {"matches", matches}};
    sender.Post(url, rec.dump(), "a bench record");
  };
  const auto t0 = Clock::now();
  if (Status st = manager.Start("bench", settings, ev); !st.ok()) {
    std::fprintf(stderr, "argus bench stream: %s\n", st.message().c_str());
    return 1;
  }
  while (std::chrono::duration<double>(Clock::now() - t0).count() < o.seconds) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!manager.Running("bench")) break;
  }
  const double ran = std::chrono::duration<double>(Clock::now() - t0).count();
  const double since_first = first_frame_ms < 0
                                 ? ran
                                 : double(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              Clock::now().time_since_epoch())
                                              .count() -
                                          first_frame_ms) /
                                       1000.0;
  auto stats = manager.StatsOf("bench");
  manager.Stop("bench");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // last deliveries
  if (stats) {
    std::printf("  source: %lld frames decoded (%.1f/s), %lld offered, %lld skipped unanalysed\n",
                (long long)stats->source.decoded, double(stats->source.decoded) / ran,
                (long long)stats->source.offered, (long long)stats->source.skipped);
    std::printf(
        "  analysed %lld frames in %.1f s (%.1f s after the first arrived): %.2f frames/s "
        "(asked %.1f); %lld with faces, %lld records with a match\n",
        (long long)stats->analysed, ran, since_first, double(stats->analysed) / since_first, o.fps,
        (long long)stats->results, (long long)matched_records);
  }
  {
    std::lock_guard lock(mu);
    PrintLatency("frame decoded -> analysed", to_result);
    PrintLatency("frame decoded -> webhook received", to_hook);
  }

  // Image requests while a source is unreachable.
  std::printf("\nimage requests while a stream source is unreachable (DetectFaces, portrait)\n");
  PrintLatency("no stream processor", TimeDetect(**faces, portrait, 10));
  stream::Settings dead = settings;
  dead.source = "http://127.0.0.1:9/unreachable.mjpg";
  dead.live.first_backoff_ms = 100;
  dead.live.max_backoff_ms = 400;
  std::atomic<int> drops{0};
  stream::Events dev;
  dev.on_source = [&](video::LiveEvent e, const std::string&) {
    if (e == video::LiveEvent::kDropped) ++drops;
  };
  (void)manager.Start("dead", dead, dev);
  PrintLatency("processor reconnecting meanwhile", TimeDetect(**faces, portrait, 10));
  manager.Stop("dead");
  std::printf("  (%d failed connection attempts during those requests)\n", drops.load());
  hook.stop();
  hook_thread.join();
  (*svc)->Close();
  fs::remove_all(tmp);
  return 0;
}

}  // namespace argus::bench
