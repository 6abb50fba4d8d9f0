// `argus bench ops`: p50/p90 latency of DetectFaces, CompareFaces,
// DetectLabels, DetectText and DetectModerationLabels through the API router
// on 640x480 images made from one photo.
#include "bench/ops_bench.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "api/rekognition/router.h"
#include "core/base64.h"
#include "service/labels.h"
#include "service/moderation.h"
#include "service/text.h"

namespace argus::bench {
namespace {

// The services the operations need, created from the model dir.
struct Loaded {
  ml::Registry registry;
  std::unique_ptr<service::LabelService> labels;
  std::unique_ptr<service::TextService> text;
  std::unique_ptr<service::ModerationService> moderation;
  std::unique_ptr<service::FaceService> faces;
  api::Services services;
  explicit Loaded(const std::string& dir) : registry(dir) {}
};

template <typename T>
bool Take(Result<std::unique_ptr<T>> r, std::unique_ptr<T>& slot) {
  if (!r.ok()) {
    std::fprintf(stderr, "argus: %s\n", r.status().message().c_str());
    return false;
  }
  slot = std::move(r.value());
  return true;
}

}  // namespace

const std::vector<std::string>& OpsTextLines() {
  static const std::vector<std::string> lines = {
      "Opening hours 9am to 6pm",  "Platform 4 departures",     "Fresh coffee and pastries",
      "Exit via the north stairs", "Tickets must be validated", "Free wifi in the lobby",
      "Please keep your distance", "Next train in 3 minutes",   "Lost property office open",
      "Thank you for visiting"};
  return lines;
}

cv::Mat OpsTextImage(const cv::Mat& photo) {
  cv::Mat text = photo.clone();
  const auto& lines = OpsTextLines();
  for (int i = 0; i < int(lines.size()); ++i) {
    int y = 40 + i * 44;
    cv::rectangle(text, cv::Rect(20, y - 28, 420, 38), cv::Scalar(235, 235, 235), cv::FILLED);
    cv::putText(text, lines[i], cv::Point(28, y), cv::FONT_HERSHEY_SIMPLEX, 0.8,
                cv::Scalar(20, 20, 20), 2, cv::LINE_AA);
  }
  return text;
}

int RunOpsBench(const OpsBenchOptions& o) {
  const int iterations = std::max(1, o.iterations);
  const std::string& path = o.image;
  cv::Mat photo = cv::imread(path, cv::IMREAD_COLOR);
  if (photo.empty()) {
    std::fprintf(stderr, "argus bench ops: cannot read %s (use --image PATH)\n", path.c_str());
    return 1;
  }
  cv::resize(photo, photo, cv::Size(640, 480), 0, 0, cv::INTER_AREA);
  cv::Mat text = OpsTextImage(photo);
  // The one-face image: the right-hand woman of the default photo (its right
  // 38%, top 43%) at 640x480.
  cv::Mat original = cv::imread(path, cv::IMREAD_COLOR), one_face;
  cv::resize(original(cv::Rect(int(original.cols * 0.62), 0, int(original.cols * 0.38),
                               int(original.rows * 0.43))),
             one_face, cv::Size(640, 480), 0, 0, cv::INTER_AREA);
  std::vector<uchar> photo_jpg, text_jpg, face_jpg, mirror_jpg;
  cv::imencode(".jpg", one_face, face_jpg, {cv::IMWRITE_JPEG_QUALITY, 92});
  cv::Mat mirror;
  cv::flip(one_face, mirror, 1);
  cv::imencode(".jpg", mirror, mirror_jpg, {cv::IMWRITE_JPEG_QUALITY, 92});
  cv::imencode(".jpg", photo, photo_jpg, {cv::IMWRITE_JPEG_QUALITY, 92});
  cv::imencode(".jpg", text, text_jpg, {cv::IMWRITE_JPEG_QUALITY, 92});
  auto b64 = [](const std::vector<uchar>& v) {
    return Base64Encode(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
  };

  Loaded l(o.model_dir);
  if (!Take(service::LabelService::Create(l.registry), l.labels) ||
      !Take(service::TextService::Create(l.registry), l.text) ||
      !Take(service::ModerationService::Create(l.registry), l.moderation) ||
      !Take(service::FaceService::Create(l.registry, o.face), l.faces))
    return 1;
  l.services.faces = l.faces.get();
  l.services.labels = l.labels.get();
  l.services.text = l.text.get();
  l.services.moderation = l.moderation.get();

  struct Op {
    const char* name;
    std::string body;
    const char* what;
  };
  nlohmann::json photo_img = {{"Bytes", b64(photo_jpg)}}, text_img = {{"Bytes", b64(text_jpg)}};
  nlohmann::json face_img = {{"Bytes", b64(face_jpg)}};
  nlohmann::json face_mirror_img = {{"Bytes", b64(mirror_jpg)}};
  std::vector<Op> ops = {
      {"DetectFaces", nlohmann::json{{"Image", face_img}}.dump(), "one face"},
      {"DetectFaces", nlohmann::json{{"Image", face_img}, {"Attributes", {"ALL"}}}.dump(),
       "one face, Attributes ALL"},
      {"CompareFaces",
       nlohmann::json{{"SourceImage", face_img}, {"TargetImage", face_mirror_img}}.dump(),
       "one face each (mirrored)"},
      {"DetectLabels", nlohmann::json{{"Image", photo_img}}.dump(), "photo"},
      {"DetectLabels",
       nlohmann::json{{"Image", photo_img}, {"Features", {"GENERAL_LABELS", "IMAGE_PROPERTIES"}}}
           .dump(),
       "photo, +IMAGE_PROPERTIES"},
      {"DetectText", nlohmann::json{{"Image", text_img}}.dump(), "photo + 10 text lines"},
      {"DetectModerationLabels", nlohmann::json{{"Image", photo_img}}.dump(), "photo"},
  };
  std::printf("%-24s %-28s %8s %8s %8s %7s   (640x480, %d runs after 2 warm-up, %d threads)\n",
              "OPERATION", "IMAGE", "p50 ms", "p90 ms", "min ms", "items", iterations, o.threads);
  int failures = 0;
  for (const auto& op : ops) {
    std::vector<double> ms;
    size_t items = 0;
    for (int i = 0; i < iterations + 2; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      api::Response r =
          api::Handle(std::string("RekognitionService.") + op.name, op.body, l.services);
      auto t1 = std::chrono::steady_clock::now();
      if (r.http_status != 200) {
        std::printf("%-24s %s\n", op.name, r.body.c_str());
        ++failures;
        break;
      }
      if (i == 0) {
        auto j = nlohmann::json::parse(r.body);
        for (const char* k :
             {"Labels", "TextDetections", "ModerationLabels", "FaceDetails", "FaceMatches"})
          if (j.contains(k)) items = j[k].size();
      }
      if (i >= 2) ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    if (ms.empty()) continue;
    std::sort(ms.begin(), ms.end());
    std::printf("%-24s %-28s %8.1f %8.1f %8.1f %7zu\n", op.name, op.what, ms[ms.size() / 2],
                ms[std::min(ms.size() - 1, ms.size() * 9 / 10)], ms.front(), items);
  }
  return failures ? 1 : 0;
}

}  // namespace argus::bench
