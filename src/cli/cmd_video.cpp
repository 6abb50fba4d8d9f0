// `argus video analyse`: one stored-video analysis run in-process, printed as
// the Get* operation answers it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/rekognition/errors.h"
#include "api/rekognition/video_results.h"
#include "cli/args.h"
#include "cli/collections_cli.h"
#include "cli/jobs_cli.h"
#include "eval/progress.h"
#include "video/video.h"

namespace argus::cli {
namespace {

const char* kVideoUsage =
    "usage: argus video analyse --op faces|search|persons|labels|moderation|text|segments FILE\n"
    "       [--collection C] [--threshold T] [--attributes DEFAULT|ALL]\n"
    "       [--min-confidence X] [--aggregate-by TIMESTAMPS|SEGMENTS]\n"
    "       [--model-dir M] [--data-dir D] [--threads N]\n";

// The Start API of an --op.
const char* StartApi(const std::string& op) {
  if (op == "faces") return "StartFaceDetection";
  if (op == "search") return "StartFaceSearch";
  if (op == "persons") return "StartPersonTracking";
  if (op == "labels") return "StartLabelDetection";
  if (op == "moderation") return "StartContentModeration";
  if (op == "text") return "StartTextDetection";
  if (op == "segments") return "StartSegmentDetection";
  return nullptr;
}

bool Number(const Args& a, const char* flag, double& out) {
  if (!a.Has(flag)) return true;
  try {
    size_t used = 0;
    std::string v = a.Get(flag);
    out = std::stod(v, &used);
    if (used == v.size() && std::isfinite(out)) return true;
  } catch (const std::exception&) {
  }
  std::fprintf(stderr, "argus: --%s needs a number\n", flag);
  return false;
}

// The Start request the flags describe (without Video: the file is given).
bool BuildRequest(const Args& a, const std::string& op, nlohmann::json& req) {
  req = nlohmann::json::object();
  double min_conf = -1, threshold = -1;
  if (!Number(a, "min-confidence", min_conf) || !Number(a, "threshold", threshold)) return false;
  if (op == "faces") {
    if (a.Has("attributes")) req["FaceAttributes"] = a.Get("attributes");
  } else if (op == "search") {
    if (!a.Has("collection")) {
      std::fprintf(stderr, "argus: --op search needs --collection C\n");
      return false;
    }
    req["CollectionId"] = a.Get("collection");
    if (threshold >= 0) req["FaceMatchThreshold"] = threshold;
  } else if (op == "labels" || op == "moderation") {
    if (min_conf >= 0) req["MinConfidence"] = min_conf;
    if (a.Has("aggregate-by")) req["AggregateBy"] = a.Get("aggregate-by");
  } else if (op == "text") {
    if (min_conf >= 0) req["Filters"] = {{"WordFilter", {{"MinConfidence", min_conf}}}};
  } else if (op == "segments") {
    req["SegmentTypes"] = {"TECHNICAL_CUE", "SHOT"};
  }
  return true;
}

}  // namespace

int CmdVideo(const Args& a) {
  if (a.positional.size() != 2 || a.positional[0] != "analyse" || !a.Has("op")) {
    std::fputs(kVideoUsage, stderr);
    return 2;
  }
  const std::string op = a.Get("op");
  const char* api = StartApi(op);
  if (!api) {
    std::fprintf(stderr, "argus: unknown --op '%s'\n%s", op.c_str(), kVideoUsage);
    return 2;
  }
  nlohmann::json request;
  if (!BuildRequest(a, op, request)) return 2;
  auto rates = VideoRates(a);
  if (!rates.ok()) {
    std::fprintf(stderr, "argus: %s\n", rates.status().message().c_str());
    return 2;
  }
  ApplyThreads(a);
  // The image services this analysis calls, as `argus detect-*` makes them;
  // a model that cannot be loaded leaves its service null (the analysis
  // then names it).
  ml::Registry registry(ModelDir(a));
  std::unique_ptr<service::FaceService> faces;
  std::unique_ptr<service::LabelService> labels;
  std::unique_ptr<service::ModerationService> moderation;
  std::unique_ptr<service::TextService> text;
  std::shared_ptr<store::Store> store;
  std::unique_ptr<service::CollectionService> collections;
  video::Services services;
  if (op == "faces" || op == "search" || op == "persons") {
    faces = MakeFaceService(a, registry);
    if (!faces) return 1;
    services.faces = faces.get();
  }
  if (op == "labels" || op == "persons" || op == "search") {
    auto l = service::LabelService::Create(registry);
    if (l.ok()) {
      labels = std::move(l.value());
      services.labels = labels.get();
    } else if (op == "labels") {
      std::fprintf(stderr, "argus: %s\n", l.status().message().c_str());
      return 1;
    }
  }
  if (op == "moderation") {
    auto m = service::ModerationService::Create(registry);
    if (!m.ok()) {
      std::fprintf(stderr, "argus: %s\n", m.status().message().c_str());
      return 1;
    }
    moderation = std::move(m.value());
    services.moderation = moderation.get();
  }
  if (op == "text") {
    auto t = service::TextService::Create(registry);
    if (!t.ok()) {
      std::fprintf(stderr, "argus: %s\n", t.status().message().c_str());
      return 1;
    }
    text = std::move(t.value());
    services.text = text.get();
  }
  if (op == "search") {
    std::string data_dir = a.Get("data-dir", "./argus-data");
    auto s = OpenDataDir(data_dir);
    if (!s.ok()) {
      std::fprintf(stderr, "argus: %s\n", s.status().message().c_str());
      return 1;
    }
    store = s.value();
    auto c = OpenCollections(a, data_dir, faces.get(), store);
    if (!c.ok()) {
      std::fprintf(stderr, "argus: %s\n", c.status().message().c_str());
      return 1;
    }
    collections = std::move(c.value());
    services.collections = collections.get();
  }
  constexpr size_t kSteps = 1000;
  eval::Progress bar(std::string("video ") + op, kSteps);
  size_t drawn = 0;
  auto progress = [&](double fraction) {
    size_t at = size_t(std::lround(std::clamp(fraction, 0.0, 1.0) * double(kSteps)));
    if (at > drawn) {
      bar.Tick(at - drawn);
      drawn = at;
    }
    return true;
  };
  auto answer =
      api::RunVideoAnalysis(api, request, a.positional[1], services, rates.value(), progress);
  bar.Done();
  if (!answer.ok()) {
    std::fprintf(stderr, "%s\n", api::ErrorBody(answer.status()).c_str());
    return 1;
  }
  std::printf("%s\n",
              answer.value().dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace argus::cli
