#include "cli/cmd_vision.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "api/rekognition/router.h"
#include "bench/ops_bench.h"
#include "core/base64.h"
#include "core/image.h"

namespace argus::cli {
namespace {

// The services one command needs, created from the model dir.
struct Loaded {
  ml::Registry registry;
  std::unique_ptr<service::LabelService> labels;
  std::unique_ptr<service::TextService> text;
  std::unique_ptr<service::ModerationService> moderation;
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

// Runs one operation through the router and prints its JSON as the server would answer it.
int RunAndPrint(const char* op, nlohmann::json req, const std::string& path, api::Services& s) {
  if (!PutImage(path, req, "Image")) return 1;
  return HandleAndPrint(op, req, s);
}

bool ParseNumber(const Args& a, const char* flag, nlohmann::json& req, const char* member) {
  if (!a.Has(flag)) return true;
  try {
    size_t used = 0;
    std::string v = a.Get(flag);
    double d = std::stod(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    if (d == double((long long)d) && v.find('.') == std::string::npos)
      req[member] = (long long)d;
    else
      req[member] = d;
    return true;
  } catch (const std::exception&) {
    std::fprintf(stderr, "argus: --%s needs a number\n", flag);
    return false;
  }
}

}  // namespace

int CmdDetectLabels(const Args& a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr,
                 "usage: argus detect-labels IMAGE [--max-labels N] [--min-confidence C]\n"
                 "       [--features GENERAL_LABELS,IMAGE_PROPERTIES]\n");
    return 2;
  }
  ApplyThreads(a);
  Loaded l(ModelDir(a));
  if (!Take(service::LabelService::Create(l.registry), l.labels)) return 1;
  l.services.labels = l.labels.get();
  nlohmann::json req = nlohmann::json::object();
  if (!ParseNumber(a, "max-labels", req, "MaxLabels") ||
      !ParseNumber(a, "min-confidence", req, "MinConfidence"))
    return 2;
  if (a.Has("features")) {
    req["Features"] = nlohmann::json::array();
    std::stringstream ss(a.Get("features"));
    for (std::string f; std::getline(ss, f, ',');)
      if (!f.empty()) req["Features"].push_back(f);
  }
  return RunAndPrint("DetectLabels", req, a.positional[0], l.services);
}

int CmdDetectText(const Args& a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr, "usage: argus detect-text IMAGE [--min-confidence C]\n");
    return 2;
  }
  ApplyThreads(a);
  Loaded l(ModelDir(a));
  if (!Take(service::TextService::Create(l.registry), l.text)) return 1;
  l.services.text = l.text.get();
  nlohmann::json word = nlohmann::json::object();
  if (!ParseNumber(a, "min-confidence", word, "MinConfidence")) return 2;
  nlohmann::json req = nlohmann::json::object();
  if (!word.empty()) req["Filters"] = {{"WordFilter", word}};
  return RunAndPrint("DetectText", req, a.positional[0], l.services);
}

int CmdDetectModerationLabels(const Args& a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr, "usage: argus detect-moderation-labels IMAGE [--min-confidence C]\n");
    return 2;
  }
  ApplyThreads(a);
  Loaded l(ModelDir(a));
  if (!Take(service::ModerationService::Create(l.registry), l.moderation)) return 1;
  l.services.moderation = l.moderation.get();
  nlohmann::json req = nlohmann::json::object();
  if (!ParseNumber(a, "min-confidence", req, "MinConfidence")) return 2;
  return RunAndPrint("DetectModerationLabels", req, a.positional[0], l.services);
}

int CmdBenchOps(const Args& a) {
  ApplyThreads(a);
  bench::OpsBenchOptions o;
  o.iterations = std::max(1, a.GetInt("iterations", 20));
  o.model_dir = ModelDir(a);
  o.image =
      a.Get("image", ml::PackageRoot(o.model_dir, "@vladmandic/face-api") + "/demo/sample1.jpg");
  o.face = FaceConfigFrom(a);
  o.threads = a.GetInt("threads", 2);
  return bench::RunOpsBench(o);
}

}  // namespace argus::cli
