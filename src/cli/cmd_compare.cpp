#include <cstdio>

#include "cli/args.h"

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
  for (int i = 0; i < 2; ++i)
    if (!PutImage(a.positional[i], req, members[i])) return 1;
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
  auto faces = MakeFaceService(a, registry);
  if (!faces) return 1;
  api::Services services;
  services.faces = faces.get();
  return HandleAndPrint("CompareFaces", req, services);
}

}  // namespace argus::cli
