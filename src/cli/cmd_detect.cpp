#include <algorithm>
#include <cstdio>

#include "api/rekognition/router.h"
#include "cli/args.h"
#include "core/base64.h"
#include "core/image.h"

namespace argus::cli {

// Builds the same request the API receives and runs it through the same
// router, so the printed JSON is exactly what the server answers.
int CmdDetectFaces(const Args& a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr, "usage: argus detect-faces IMAGE [--attributes ALL|DEFAULT|NAME,NAME...]\n");
    return 2;
  }
  ApplyThreads(a);
  auto bytes = ReadFile(a.positional[0]);
  if (!bytes.ok()) {
    std::fprintf(stderr, "argus: %s\n", bytes.status().message().c_str());
    return 1;
  }
  ml::Registry registry(ModelDir(a));
  auto faces = service::FaceService::Create(registry, FaceConfigFrom(a));
  if (!faces.ok()) {
    std::fprintf(stderr, "argus: %s\n", faces.status().message().c_str());
    return 1;
  }
  api::Services services;
  services.faces = faces.value().get();
  nlohmann::json req = {{"Image", {{"Bytes", Base64Encode(bytes.value())}}}};
  if (a.Has("attributes")) {  // one name or a comma-separated list
    req["Attributes"] = nlohmann::json::array();
    std::string list = a.Get("attributes");
    for (size_t start = 0; start <= list.size();) {
      size_t end = std::min(list.find(',', start), list.size());
      req["Attributes"].push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  api::Response r = api::Handle("RekognitionService.DetectFaces", req.dump(), services);
  if (r.http_status != 200) {
    std::fprintf(stderr, "%s\n", r.body.c_str());
    return 1;
  }
  std::printf("%s\n", nlohmann::json::parse(r.body).dump(2).c_str());
  return 0;
}

}  // namespace argus::cli
