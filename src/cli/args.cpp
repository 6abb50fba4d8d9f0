#include "cli/args.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "core/base64.h"
#include "core/image.h"

namespace argus::cli {

std::string Args::Get(const std::string& f, const std::string& def) const {
  auto it = flags.find(f);
  return it == flags.end() ? def : it->second;
}

int Args::GetInt(const std::string& f, int def) const {
  auto it = flags.find(f);
  if (it == flags.end()) return def;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  return end && *end == '\0' ? int(v) : def;
}

std::string ModelDir(const Args& a) { return a.Get("model-dir", ml::DefaultModelDir()); }

service::FaceConfig FaceConfigFrom(const Args& a) {
  service::FaceConfig c;
  c.detector = a.Get("face-detector", c.detector);
  return c;
}

void ApplyThreads(const Args& a) { ml::SetInferenceThreads(a.GetInt("threads", 2)); }

std::unique_ptr<service::FaceService> MakeFaceService(const Args& a, ml::Registry& registry) {
  auto faces = service::FaceService::Create(registry, FaceConfigFrom(a));
  if (!faces.ok()) {
    std::fprintf(stderr, "argus: %s\n", faces.status().message().c_str());
    return nullptr;
  }
  return std::move(faces.value());
}

bool IsImageFile(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return e == ".jpg" || e == ".jpeg" || e == ".png";
}

bool PutImage(const std::string& path, nlohmann::json& req, const char* member) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) {
    std::fprintf(stderr, "argus: %s\n", bytes.status().message().c_str());
    return false;
  }
  req[member] = {{"Bytes", Base64Encode(bytes.value())}};
  return true;
}

int HandleAndPrint(const char* op, const nlohmann::json& req, api::Services& services) {
  api::Response r = api::Handle(std::string("RekognitionService.") + op, req.dump(), services);
  if (r.http_status != 200) {
    std::fprintf(stderr, "%s\n", r.body.c_str());
    return 1;
  }
  std::printf("%s\n", nlohmann::json::parse(r.body).dump(2).c_str());
  return 0;
}

}  // namespace argus::cli
