#include "ml/manifest.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace argus::ml {

extern const std::vector<std::string_view> kManifestParts;

namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<int> Shape(const json& j) {
  std::vector<int> s;
  if (j.contains("shape") && j["shape"].is_array())
    for (const auto& d : j["shape"]) s.push_back(d.get<int>());
  return s;
}

}  // namespace

Result<Manifest> Manifest::Parse(const std::vector<std::string_view>& parts) {
  Manifest m;
  for (auto text : parts) {
    json part;
    try {
      part = json::parse(text);
      for (const auto& p : part.value("packages", json::array())) {
        m.packages_.push_back({Str(p, "name"), Str(p, "version"), Str(p, "integrity"),
                               Str(p, "license"), Str(p, "dir")});
      }
      for (const auto& a : part.value("assets", json::array())) {
        m.assets_.push_back({Str(a, "name"), Str(a, "package"), Str(a, "source"), Str(a, "file"),
                             Str(a, "sha256"), Str(a, "license")});
      }
      for (const auto& j : part.value("models", json::array())) {
        ModelSpec s{Str(j, "name"),
                    Str(j, "package"),
                    Str(j, "source"),
                    Str(j, "converter"),
                    Str(j, "license"),
                    Str(j, "task"),
                    Str(j, "description"),
                    Str(j, "file"),
                    Str(j, "sha256"),
                    {},
                    {},
                    {}};
        const json& in = j.at("input");
        s.input.name = Str(in, "name");
        s.input.shape = Shape(in);
        if (in.contains("color")) s.input.color = Str(in, "color");
        if (in.contains("mean")) {
          const json& mean = in["mean"];
          for (int c = 0; c < 3; ++c)
            s.input.mean[c] = mean.is_array() ? mean.at(mean.size() == 1 ? 0 : c).get<float>()
                                              : mean.get<float>();
        }
        s.input.scale = in.value("scale", 1.0f);
        for (const auto& o : j.value("outputs", json::array()))
          s.outputs.push_back({Str(o, "name"), Shape(o), Str(o, "meaning")});
        if (j.contains("embedder")) {
          const json& e = j["embedder"];
          EmbedderSpec es;
          if (e.contains("alignment")) es.alignment = Str(e, "alignment");
          es.padding = e.value("padding", es.padding);
          es.output = Str(e, "output");
          es.model_version = Str(e, "model_version");
          es.is_default = e.value("default", false);
          if (es.model_version.empty())
            return Internal("manifest: embedder entry of " + s.name + " needs a model_version");
          s.embedder = es;
        }
        s.runtime = j.value("runtime", s.runtime);
        if (s.runtime != "onednn" && s.runtime != "opencv")
          return Internal("manifest: runtime of " + s.name + " is \"" + s.runtime +
                          "\", expected \"onednn\" or \"opencv\"");
        s.threads = j.value("threads", 0);
        if (s.threads != 0 && s.threads != 1)
          return Internal("manifest: threads of " + s.name + " is " + std::to_string(s.threads) +
                          ", expected 1 (or no threads entry)");
        if (s.name.empty() || s.file.empty() || s.input.shape.size() != 4)
          return Internal("manifest: model entry needs name, file and a 4-d input shape");
        m.models_.push_back(std::move(s));
      }
    } catch (const json::exception& e) {
      return Internal(std::string("manifest: ") + e.what());
    }
  }
  return m;
}

const Manifest& Manifest::Embedded() {
  static const Manifest manifest = [] {
    auto r = Parse(kManifestParts);
    if (!r.ok()) {
      // The manifest is compiled in; a broken one is a build defect.
      std::fprintf(stderr, "fatal: %s\n", r.status().ToString().c_str());
      std::abort();
    }
    return std::move(r).value();
  }();
  return manifest;
}

const ModelSpec* Manifest::FindModel(std::string_view name) const {
  for (const auto& m : models_)
    if (m.name == name) return &m;
  return nullptr;
}

const ModelSpec* Manifest::DefaultEmbedder() const {
  const ModelSpec* found = nullptr;
  for (const auto& m : models_) {
    if (!m.embedder || !m.embedder->is_default) continue;
    if (found) return nullptr;
    found = &m;
  }
  return found;
}

const AssetSpec* Manifest::FindAsset(std::string_view name) const {
  for (const auto& a : assets_)
    if (a.name == name) return &a;
  return nullptr;
}

const PackageSpec* Manifest::FindPackage(std::string_view name) const {
  for (const auto& p : packages_)
    if (p.name == name) return &p;
  return nullptr;
}

std::string DefaultModelDir() {
  if (const char* d = std::getenv("ARGUS_MODEL_DIR"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/argus/models";
}

std::string PackageRoot(const std::string& model_dir, std::string_view package_name) {
  const PackageSpec* p = Manifest::Embedded().FindPackage(package_name);
  return p ? model_dir + "/packages/" + p->dir + "/package" : std::string();
}

}  // namespace argus::ml
