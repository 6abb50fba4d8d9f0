#include <algorithm>
#include <cstdio>

#include "cli/args.h"

namespace argus::cli {

// Builds the same request the API receives and runs it through the same
// router, so the printed JSON is exactly what the server answers.
int CmdDetectFaces(const Args& a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr,
                 "usage: argus detect-faces IMAGE [--attributes ALL|DEFAULT|NAME,NAME...]\n");
    return 2;
  }
  ApplyThreads(a);
  nlohmann::json req = nlohmann::json::object();
  if (!PutImage(a.positional[0], req, "Image")) return 1;
  ml::Registry registry(ModelDir(a));
  auto faces = MakeFaceService(a, registry);
  if (!faces) return 1;
  api::Services services;
  services.faces = faces.get();
  if (a.Has("attributes")) {  // one name or a comma-separated list
    req["Attributes"] = nlohmann::json::array();
    std::string list = a.Get("attributes");
    for (size_t start = 0; start <= list.size();) {
      size_t end = std::min(list.find(',', start), list.size());
      req["Attributes"].push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  return HandleAndPrint("DetectFaces", req, services);
}

}  // namespace argus::cli
