// `argus eval labels`: DetectLabels instances against hand-drawn boxes:
// per-class instance recall and precision at IoU >= 0.5.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cmd_vision.h"
#include "core/image.h"
#include "ml/model.h"
#include "service/labels.h"
#include "vision/face/face.h"

namespace argus::cli {
namespace {

using nlohmann::json;

cv::Rect2f Ltrb(const json& j) {
  return {j[0].get<float>(), j[1].get<float>(), j[2].get<float>() - j[0].get<float>(),
          j[3].get<float>() - j[1].get<float>()};
}

struct ClassScore {
  int truth = 0, found = 0;         // annotated instances, those matched
  int detections = 0, correct = 0;  // counted detections, those matched
};

}  // namespace

int CmdEvalLabels(const Args& a) {
  const std::string file = a.Get("annotations", "");
  if (file.empty()) {
    std::fprintf(stderr,
                 "usage: argus eval labels --annotations FILE [--images DIR] "
                 "[--min-confidence C] [--json]\n"
                 "  FILE: tests/data/labels/annotations.json format (image, classes, objects\n"
                 "  with class and [left, top, right, bottom] pixel boxes); --images DIR looks\n"
                 "  every image up by its file name in DIR instead of the file's roots\n");
    return 2;
  }
  auto text = ReadFile(file);
  if (!text.ok()) {
    std::fprintf(stderr, "argus eval labels: cannot read %s\n", file.c_str());
    return 1;
  }
  json ann = json::parse(text.value(), nullptr, false);
  if (ann.is_discarded() || !ann.contains("images")) {
    std::fprintf(stderr, "argus eval labels: %s is not an annotation file\n", file.c_str());
    return 1;
  }
  const std::string model_dir = ModelDir(a), images_dir = a.Get("images", "");
  auto resolve = [&](const std::string& image) {
    if (!images_dir.empty())
      return images_dir + "/" + std::filesystem::path(image).filename().string();
    const auto slash = image.find('/');
    if (slash != std::string::npos && ann.contains("roots") &&
        ann["roots"].contains(image.substr(0, slash))) {
      std::string root = ann["roots"][image.substr(0, slash)];
      if (auto p = root.find("{model_dir}"); p != std::string::npos) root.replace(p, 11, model_dir);
      return root + image.substr(slash);
    }
    return image;
  };

  ml::Registry registry(model_dir);
  auto service = service::LabelService::Create(registry);
  if (!service.ok()) {
    std::fprintf(stderr, "argus eval labels: %s\n", service.status().message().c_str());
    return 1;
  }
  service::LabelOptions opts;
  if (a.Has("min-confidence")) {
    try {
      opts.min_confidence = std::stof(a.Get("min-confidence"));
    } catch (const std::exception&) {
      std::fprintf(stderr, "argus eval labels: --min-confidence wants a number\n");
      return 2;
    }
  }

  std::map<std::string, ClassScore> scores;
  json per_image = json::array();
  int images = 0, missing = 0;
  for (const auto& item : ann["images"]) {
    const std::string path = resolve(item.value("image", ""));
    auto bytes = ReadFile(path);
    auto img = bytes.ok() ? DecodeImage(bytes.value()) : Result<Image>(bytes.status());
    if (!img.ok()) {
      std::fprintf(stderr, "argus eval labels: skipping %s (%s)\n", path.c_str(),
                   img.status().message().c_str());
      ++missing;
      continue;
    }
    auto result = service.value()->DetectLabels(img.value(), opts);
    if (!result.ok()) {
      std::fprintf(stderr, "argus eval labels: %s: %s\n", path.c_str(),
                   result.status().message().c_str());
      return 1;
    }
    ++images;
    std::vector<std::string> classes = item.value("classes", std::vector<std::string>{});
    std::vector<cv::Rect2f> crowd;
    for (const auto& c : item.value("crowd", json::array())) crowd.push_back(Ltrb(c));
    json row = {{"image", item.value("image", "")}};
    for (const auto& cls : classes) {
      std::vector<cv::Rect2f> truth;
      for (const auto& o : item.value("objects", json::array()))
        if (o.value("class", "") == cls) truth.push_back(Ltrb(o["box"]));
      std::vector<service::LabelInstance> dets;
      for (const auto& l : result.value().labels)
        if (l.name == cls) dets = l.instances;
      std::sort(dets.begin(), dets.end(),
                [](const auto& x, const auto& y) { return x.confidence > y.confidence; });
      // Greedy matching in descending confidence, each box matched once.
      std::vector<bool> used(truth.size(), false);
      ClassScore& s = scores[cls];
      int found = 0, counted = 0, correct = 0;
      for (const auto& d : dets) {
        int best = -1;
        float best_iou = 0.5f;
        for (size_t t = 0; t < truth.size(); ++t) {
          const float iou = vision::IoU(d.box, truth[t]);
          if (!used[t] && iou >= best_iou) best = int(t), best_iou = iou;
        }
        if (best >= 0) {
          used[best] = true;
          ++found, ++counted, ++correct;
          continue;
        }
        // Unmatched and mostly inside a crowd region: neither right nor wrong.
        bool in_crowd = false;
        for (const auto& c : crowd)
          if ((d.box & c).area() >= 0.5f * d.box.area()) in_crowd = true;
        if (!in_crowd) ++counted;
      }
      s.truth += int(truth.size());
      s.found += found;
      s.detections += counted;
      s.correct += correct;
      row[cls] = {{"truth", truth.size()}, {"found", found}, {"detections", counted}};
    }
    per_image.push_back(row);
  }
  if (images == 0) {
    std::fprintf(stderr, "argus eval labels: no image could be read\n");
    return 1;
  }

  json report = {{"annotations", file},
                 {"images", images},
                 {"missing_images", missing},
                 {"iou_threshold", 0.5},
                 {"min_confidence", opts.min_confidence},
                 {"classes", json::object()},
                 {"per_image", per_image}};
  for (const auto& [cls, s] : scores) {
    report["classes"][cls] = {
        {"instances", s.truth},
        {"found", s.found},
        {"detections", s.detections},
        {"recall", s.truth ? json(double(s.found) / s.truth) : json(nullptr)},
        {"precision", s.detections ? json(double(s.correct) / s.detections) : json(nullptr)}};
  }
  if (a.Has("json")) {
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  std::printf("DetectLabels instances, IoU >= 0.5, MinConfidence %.0f (%s, %d images)\n",
              opts.min_confidence, file.c_str(), images);
  std::printf("  %-12s %9s %7s %10s %8s %10s\n", "class", "instances", "found", "detections",
              "recall", "precision");
  for (const auto& [cls, s] : scores) {
    std::printf("  %-12s %9d %7d %10d", cls.c_str(), s.truth, s.found, s.detections);
    if (s.truth)
      std::printf(" %8.3f", double(s.found) / s.truth);
    else
      std::printf(" %8s", "-");
    if (s.detections)
      std::printf(" %10.3f\n", double(s.correct) / s.detections);
    else
      std::printf(" %10s\n", "-");
  }
  if (!scores.count("Dog")) std::printf("  (no Dog instances annotated)\n");
  return 0;
}

}  // namespace argus::cli
