#include <cstdio>

#include "api/rekognition/router.h"
#include "cli/args.h"
#include "core/base64.h"
#include "core/image.h"

namespace argus::cli {

// The CompareFaces request the API receives, through the same router.
int CmdCompareFaces(const Args& a) {
  if (a.positional.size() != 2) {
    std::fprintf(stderr,
                 "usage: argus compare-faces SOURCE TARGET [--similarity-threshold N] "
                 "[--quality-filter NONE|AUTO|LOW|MEDIUM|HIGH]\n");
    return 2;
  }
  ApplyThreads(a);
  nlohmann::json req = nlohmann::json::object();
  const char* members[] = {"SourceImage", "TargetImage"};
  for (int i = 0; i < 2; ++i) {
    auto bytes = ReadFile(a.positional[i]);
    if (!bytes.ok()) {
      std::fprintf(stderr, "argus: %s\n", bytes.status().message().c_str());
      return 1;
    }
    req[members[i]] = {{"Bytes", Base64Encode(bytes.value())}};
  }
  if (a.Has("similarity-threshold")) {
    try {
      req["SimilarityThreshold"] = std::stod(a.Get("similarity-threshold"));
    } catch (const std::exception&) {
      std::fprintf(stderr, "argus: --similarity-threshold must be a number\n");
      return 2;
    }
  }
  if (a.Has("quality-filter")) req["QualityFilter"] = a.Get("quality-filter");
  ml::Registry registry(ModelDir(a));
  auto faces = service::FaceService::Create(registry, FaceConfigFrom(a));
  if (!faces.ok()) {
    std::fprintf(stderr, "argus: %s\n", faces.status().message().c_str());
    return 1;
  }
  api::Services services;
  services.faces = faces.value().get();
  api::Response r = api::Handle("RekognitionService.CompareFaces", req.dump(), services);
  if (r.http_status != 200) {
    std::fprintf(stderr, "%s\n", r.body.c_str());
    return 1;
  }
  std::printf("%s\n", nlohmann::json::parse(r.body).dump(2).c_str());
  return 0;
}

}  // namespace argus::cli
