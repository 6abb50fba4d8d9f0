// `argus bench faces`: argus's face pipeline (DetectFaces + a descriptor per
// face, in process) against the same face-api weights through their original
// JavaScript runtime (@vladmandic/face-api on @tensorflow/tfjs with the WASM
// backend, on node), on the same decoded pixels, in one invocation. The peer
// (bench/peer: package.json, package-lock.json, faces.js) is installed with
// `npm ci` into a cache folder outside the source tree and run as a child
// process. Prints per-image latencies of both and their ratio; never passes
// or fails on time.
#include "bench/faces_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/npm_peer.h"
#include "core/geometry.h"
#include "core/image.h"
#include "ml/manifest.h"

#ifndef ARGUS_BENCH_PEER_DIR
#define ARGUS_BENCH_PEER_DIR ""
#endif

namespace argus::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Sample {
  std::string name;
  Image image;
};

struct Timing {
  std::vector<double> ms;  // timed runs
  int faces = 0;
  std::vector<cv::Rect2f> boxes;
  std::vector<std::vector<float>> descriptors;  // unit length
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double Mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

std::vector<double> All(const std::vector<Timing>& t) {
  std::vector<double> all;
  for (const auto& x : t) all.insert(all.end(), x.ms.begin(), x.ms.end());
  return all;
}

// The image paths: positionals after "faces", else every JPEG/PNG of
// --images DIR, else face-api's demo samples.
std::vector<std::string> ImagePaths(const FacesBenchOptions& o, std::string* error) {
  std::vector<std::string> paths = o.images;
  if (!paths.empty()) return paths;
  fs::path dir;
  if (!o.images_dir.empty()) {
    dir = o.images_dir;
  } else {
    dir = ml::PackageRoot(o.model_dir, "@vladmandic/face-api") + "/demo";
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string stem = e.path().filename().string();
    if (!e.is_regular_file() || !IsImageFile(e.path())) continue;
    if (o.images_dir.empty() && stem.rfind("sample", 0) != 0) continue;
    paths.push_back(e.path().string());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty())
    *error =
        "no JPEG or PNG images in " + dir.string() +
        (!o.images_dir.empty() ? "" : " (run `make models`, or give --images DIR or image files)");
  return paths;
}

// DetectFaces + Describe of every face, `warmup` untimed and `n` timed runs.
bool TimeArgus(const std::vector<Sample>& samples, const std::string& detector,
               const FacesBenchOptions& o, int warmup, int n, std::vector<Timing>* out) {
  ml::Registry registry(o.model_dir);
  service::FaceConfig config = o.face;
  config.detector = detector;
  auto created = service::FaceService::Create(registry, config);
  if (!created.ok()) {
    std::fprintf(stderr, "argus bench faces: %s\n", created.status().message().c_str());
    return false;
  }
  service::FaceService& faces = *created.value();
  for (const auto& s : samples) {
    Timing t;
    for (int i = 0; i < warmup + n; ++i) {
      auto t0 = Clock::now();
      auto found = faces.DetectFaces(s.image);
      if (!found.ok()) {
        std::fprintf(stderr, "argus bench faces: %s: %s\n", s.name.c_str(),
                     found.status().message().c_str());
        return false;
      }
      std::vector<const service::FaceDetail*> each;
      for (const auto& f : found.value()) each.push_back(&f);
      std::vector<std::vector<float>> descriptors;
      for (auto& d : faces.DescribeAll(s.image, each)) {
        if (d.ok())
          descriptors.push_back(std::move(d.value()));
        else
          descriptors.emplace_back();  // no landmarks: no descriptor
      }
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (i >= warmup) t.ms.push_back(ms);
      if (i == 0) {
        t.faces = int(found.value().size());
        for (const auto& f : found.value()) t.boxes.push_back(f.box);
        t.descriptors = std::move(descriptors);
      }
    }
    out->push_back(std::move(t));
  }
  return true;
}

// Checks the weights and prepares the peer (bench/npm_peer.h); *dir is the
// bench folder and *weights face-api's model folder.
bool PreparePeer(const FacesBenchOptions& o, fs::path* dir, fs::path* weights) {
  const std::string model_root = ml::PackageRoot(o.model_dir, "@vladmandic/face-api");
  *weights = model_root + "/model";
  if (!fs::exists(*weights / "ssd_mobilenetv1_model-weights_manifest.json")) {
    std::fprintf(stderr,
                 "argus bench faces: face-api's weights are not in %s (run `make models`)\n",
                 weights->c_str());
    return false;
  }
  *dir = o.peer_dir.empty() ? CacheHome() + "/argus/bench/faces-peer" : o.peer_dir;
  const ml::PackageSpec* pinned = ml::Manifest::Embedded().FindPackage("@vladmandic/face-api");
  NpmPeer peer{.tool = "argus bench faces",
               .what = "the face-api peer",
               .src = o.peer_src.empty() ? std::string(ARGUS_BENCH_PEER_DIR) : o.peer_src,
               .dir = *dir,
               .files = {"faces.js"},
               .package = "@vladmandic/face-api",
               .version = pinned ? pinned->version : "",
               .without = "--no-peer times argus alone"};
  return PrepareNpmPeer(peer);
}

// Runs the installed peer on the samples' pixels; fills *out and *info.
bool TimePeer(const std::vector<Sample>& samples, const fs::path& dir, const fs::path& weights,
              int warmup, int n, int threads, std::vector<Timing>* out, json* info) {
  // The pixels argus decoded (EXIF orientation applied), as RGB.
  char tmpl[] = "/tmp/argus-bench-faces-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("argus bench faces: mkdtemp");
    return false;
  }
  const fs::path work = tmpl;
  json job = {{"model", weights.string()},
              {"threads", threads},
              {"warmup", warmup},
              {"repeat", n},
              {"images", json::array()}};
  for (size_t i = 0; i < samples.size(); ++i) {
    cv::Mat rgb;
    cv::cvtColor(samples[i].image.bgr, rgb, cv::COLOR_BGR2RGB);
    fs::path f = work / (std::to_string(i) + ".rgb");
    std::ofstream(f, std::ios::binary)
        .write(reinterpret_cast<const char*>(rgb.data), std::streamsize(rgb.total() * 3));
    job["images"].push_back({{"name", samples[i].name},
                             {"rgb", f.string()},
                             {"width", rgb.cols},
                             {"height", rgb.rows}});
  }
  std::ofstream(work / "job.json") << job.dump();
  std::string stdout_text;
  int rc = RunProcess({"node", (dir / "faces.js").string(), (work / "job.json").string()},
                      dir.string(), &stdout_text);
  std::error_code ec;
  fs::remove_all(work, ec);
  if (rc != 0) {
    std::fprintf(stderr, "argus bench faces: the face-api peer failed (exit %d)\n", rc);
    return false;
  }
  try {
    json r = json::parse(stdout_text);
    for (const auto& img : r.at("images")) {
      Timing t;
      t.ms = img.at("ms").get<std::vector<double>>();
      t.faces = int(img.at("faces").size());
      for (const auto& f : img.at("faces")) {
        auto b = f.at("box").get<std::vector<float>>();
        t.boxes.emplace_back(b[0], b[1], b[2], b[3]);
        auto d = f.at("descriptor").get<std::vector<float>>();
        L2Normalize(d);
        t.descriptors.push_back(std::move(d));
      }
      out->push_back(std::move(t));
    }
    r.erase("images");
    *info = r;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "argus bench faces: cannot read the peer's output: %s\n", e.what());
    return false;
  }
  if (out->size() != samples.size()) {
    std::fprintf(stderr, "argus bench faces: the peer answered for %zu of %zu images\n",
                 out->size(), samples.size());
    return false;
  }
  return true;
}

// Faces of argus and the peer paired by box IoU >= 0.5 (greedy, best first),
// and the cosine of their descriptors: the two runtimes on the same weights
// should agree closely.
void Agreement(const std::vector<Timing>& ours, const std::vector<Timing>& peer, int* paired,
               int* total, std::vector<double>* cosines) {
  for (size_t i = 0; i < ours.size() && i < peer.size(); ++i) {
    *total += std::max(ours[i].faces, peer[i].faces);
    std::vector<bool> used(peer[i].boxes.size(), false);
    for (size_t j = 0; j < ours[i].boxes.size(); ++j) {
      int best = -1;
      double best_iou = 0.5;
      for (size_t k = 0; k < peer[i].boxes.size(); ++k) {
        if (used[k]) continue;
        const cv::Rect2f &p = ours[i].boxes[j], &q = peer[i].boxes[k];
        double inter = (p & q).area(), uni = p.area() + q.area() - inter;
        double iou = uni > 0 ? inter / uni : 0;
        if (iou >= best_iou) best_iou = iou, best = int(k);
      }
      if (best < 0) continue;
      used[size_t(best)] = true;
      ++*paired;
      const auto &x = ours[i].descriptors[j], &y = peer[i].descriptors[size_t(best)];
      if (x.size() != y.size() || x.empty()) continue;
      double dot = 0;
      for (size_t d = 0; d < x.size(); ++d) dot += double(x[d]) * y[d];
      cosines->push_back(dot);
    }
  }
}

}  // namespace

int RunFacesBench(const FacesBenchOptions& o) {
  const int n = o.n, warmup = o.warmup, threads = o.threads;
  if (n < 1 || warmup < 0 || threads < 1) {
    std::fprintf(stderr, "argus bench faces: --n and --threads must be >= 1, --warmup >= 0\n");
    return 2;
  }
  ml::SetInferenceThreads(threads);
  std::string error;
  std::vector<std::string> paths = ImagePaths(o, &error);
  if (paths.empty()) {
    std::fprintf(stderr, "argus bench faces: %s\n", error.c_str());
    return 1;
  }
  std::vector<Sample> samples;
  for (const auto& p : paths) {
    auto bytes = ReadFile(p);
    auto image = bytes.ok() ? DecodeImage(bytes.value()) : Result<Image>(bytes.status());
    if (!image.ok()) {
      std::fprintf(stderr, "argus bench faces: skipping %s: %s\n", p.c_str(),
                   image.status().message().c_str());
      continue;
    }
    samples.push_back({fs::path(p).filename().string(), std::move(image.value())});
  }
  if (samples.empty()) {
    std::fprintf(stderr, "argus bench faces: no readable image\n");
    return 1;
  }

  const bool with_peer = o.peer;
  fs::path peer_dir, peer_weights;
  if (with_peer && !PreparePeer(o, &peer_dir, &peer_weights)) return 1;

  // argus with the configured detector, and the single-pass "ssd" as well
  // when another one is configured.
  std::vector<std::string> detectors = {o.face.detector};
  if (detectors[0] != "ssd") detectors.push_back("ssd");
  std::map<std::string, std::vector<Timing>> argus;
  for (const auto& d : detectors)
    if (!TimeArgus(samples, d, o, warmup, n, &argus[d])) return 1;

  std::vector<Timing> peer;
  json peer_info;
  if (with_peer &&
      !TimePeer(samples, peer_dir, peer_weights, warmup, n, threads, &peer, &peer_info))
    return 1;

  const std::vector<Timing>& main_run = argus[detectors[0]];
  json result = {{"images", json::array()},
                 {"runs_per_image", n},
                 {"warmup", warmup},
                 {"threads", threads},
                 {"argus", json::object()}};
  for (const auto& d : detectors) {
    auto all = All(argus[d]);
    int faces = 0;
    for (const auto& t : argus[d]) faces += t.faces;
    result["argus"][d] = {{"p50_ms", Median(all)}, {"mean_ms", Mean(all)}, {"faces", faces}};
  }
  if (with_peer) {
    auto all = All(peer);
    int faces = 0;
    for (const auto& t : peer) faces += t.faces;
    result["peer"] = peer_info;
    result["peer"]["runtime"] = "@vladmandic/face-api on @tensorflow/tfjs-backend-wasm (node)";
    result["peer"]["p50_ms"] = Median(all);
    result["peer"]["mean_ms"] = Mean(all);
    result["peer"]["faces"] = faces;
    for (const auto& d : detectors) {
      auto ours = All(argus[d]);
      result["ratio"][d] = {{"p50", Median(all) / std::max(1e-9, Median(ours))},
                            {"mean", Mean(all) / std::max(1e-9, Mean(ours))}};
    }
    int paired = 0, total = 0;
    std::vector<double> cosines;
    Agreement(main_run, peer, &paired, &total, &cosines);
    result["agreement"] = {
        {"faces_paired", paired},
        {"faces_either", total},
        {"descriptor_cosine_mean", Mean(cosines)},
        {"descriptor_cosine_min",
         cosines.empty() ? 0 : *std::min_element(cosines.begin(), cosines.end())}};
  }
  for (size_t i = 0; i < samples.size(); ++i) {
    json img = {{"name", samples[i].name},
                {"width", samples[i].image.width()},
                {"height", samples[i].image.height()}};
    for (const auto& d : detectors)
      img["argus"][d] = {{"p50_ms", Median(argus[d][i].ms)},
                         {"mean_ms", Mean(argus[d][i].ms)},
                         {"faces", argus[d][i].faces}};
    if (with_peer)
      img["peer"] = {
          {"p50_ms", Median(peer[i].ms)}, {"mean_ms", Mean(peer[i].ms)}, {"faces", peer[i].faces}};
    result["images"].push_back(img);
  }

  if (o.json) {
    std::printf("%s\n", result.dump(2).c_str());
    return 0;
  }
  std::printf(
      "argus bench faces: %zu images x %d runs after %d warm-up; DetectFaces + a "
      "descriptor per face; %d inference thread%s\n",
      samples.size(), n, warmup, threads, threads == 1 ? "" : "s");
  if (with_peer)
    std::printf(
        "peer: @vladmandic/face-api %s, tfjs-core %s, tfjs-backend-wasm %s (SIMD %s, "
        "%d thread%s), node %s; detectAllFaces(SsdMobilenetv1Options)"
        ".withFaceLandmarks().withFaceDescriptors()\n",
        peer_info["versions"].value("face-api", "?").c_str(),
        peer_info["versions"].value("tfjs-core", "?").c_str(),
        peer_info["versions"].value("tfjs-backend-wasm", "?").c_str(),
        peer_info.value("simd", false) ? "on" : "off", peer_info.value("threads", 0),
        peer_info.value("threads", 0) == 1 ? "" : "s",
        peer_info["versions"].value("node", "?").c_str());
  std::printf("\n%-22s %11s", "IMAGE", "SIZE");
  for (const auto& d : detectors) std::printf(" %11s %5s", ("argus " + d).c_str(), "faces");
  if (with_peer) std::printf(" %11s %5s %8s", "face-api", "faces", "ratio");
  std::printf("   (p50 ms per image)\n");
  for (size_t i = 0; i < samples.size(); ++i) {
    std::string size =
        std::to_string(samples[i].image.width()) + "x" + std::to_string(samples[i].image.height());
    std::printf("%-22.22s %11s", samples[i].name.c_str(), size.c_str());
    for (const auto& d : detectors)
      std::printf(" %11.1f %5d", Median(argus[d][i].ms), argus[d][i].faces);
    if (with_peer)
      std::printf(" %11.1f %5d %7.1fx", Median(peer[i].ms), peer[i].faces,
                  Median(peer[i].ms) / std::max(1e-9, Median(main_run[i].ms)));
    std::printf("\n");
  }
  std::printf("\n%-32s %9s %9s %7s\n", "ALL RUNS", "p50 ms", "mean ms", "faces");
  for (const auto& d : detectors) {
    const json& s = result["argus"][d];
    std::printf("%-32s %9.1f %9.1f %7d\n", ("argus (" + d + ")").c_str(), s["p50_ms"].get<double>(),
                s["mean_ms"].get<double>(), s["faces"].get<int>());
  }
  if (with_peer) {
    const json& s = result["peer"];
    std::printf("%-32s %9.1f %9.1f %7d\n", "face-api (tfjs wasm, node)", s["p50_ms"].get<double>(),
                s["mean_ms"].get<double>(), s["faces"].get<int>());
    for (const auto& d : detectors)
      std::printf("ratio face-api / argus (%s): %.1fx at p50, %.1fx on the mean\n", d.c_str(),
                  result["ratio"][d]["p50"].get<double>(),
                  result["ratio"][d]["mean"].get<double>());
    const json& g = result["agreement"];
    std::printf(
        "agreement (argus %s vs face-api): %d of %d faces paired at IoU >= 0.5; "
        "descriptor cosine mean %.4f, min %.4f\n",
        detectors[0].c_str(), g["faces_paired"].get<int>(), g["faces_either"].get<int>(),
        g["descriptor_cosine_mean"].get<double>(), g["descriptor_cosine_min"].get<double>());
  }
  return 0;
}

}  // namespace argus::bench
