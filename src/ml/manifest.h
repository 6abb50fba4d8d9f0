#pragma once
// The model pack manifest (models/*.json, embedded at build time): which npm
// packages, which converted ONNX files with which sha256, and each model's
// input contract. See models/README.md for the format.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace argus::ml {

struct PackageSpec {
  std::string name, version, integrity, license, dir;
};

struct AssetSpec {
  std::string name, package, source, file, sha256, license;
};

struct InputSpec {
  std::string name;
  std::vector<int> shape;  // NCHW, static
  std::string color = "RGB";
  std::array<float, 3> mean{0, 0, 0};
  float scale = 1.f;  // tensor = (pixel - mean) * scale
  int channels() const { return shape.size() == 4 ? shape[1] : 0; }
  int height() const { return shape.size() == 4 ? shape[2] : 0; }
  int width() const { return shape.size() == 4 ? shape[3] : 0; }
};

struct OutputSpec {
  std::string name;
  std::vector<int> shape;
  std::string meaning;
};

// How a face descriptor model ("task": "face_descriptor") is used as a face
// embedder (models/README.md, "embedder").
struct EmbedderSpec {
  std::string alignment = "dlib68";  // "dlib68" or "arcface5"
  float padding = 0.25f;             // dlib68: margin around the face, fraction of it
  std::string output;                // descriptor output name ("": the first output)
  std::string model_version;         // the collections' FaceModelVersion
  bool is_default = false;           // the deployment's embedder
};

struct ModelSpec {
  std::string name, package, source, converter, license, task, description, file, sha256;
  InputSpec input;
  std::vector<OutputSpec> outputs;
  std::optional<EmbedderSpec> embedder;
  // Inference runtime (models/README.md, "runtime"): "onednn" (default) or
  // "opencv". A model the oneDNN runtime cannot run falls back to OpenCV.
  std::string runtime = "onednn";
  // models/README.md, "threads": 1 runs every pass of the model on one
  // thread (the oneDNN runtime); 0, the default, lets the runtime choose.
  int threads = 0;
};

class Manifest {
 public:
  // The manifest compiled into this binary.
  static const Manifest& Embedded();
  static Result<Manifest> Parse(const std::vector<std::string_view>& parts);

  const ModelSpec* FindModel(std::string_view name) const;
  // The model whose embedder entry says "default": true; null when none
  // does or several do.
  const ModelSpec* DefaultEmbedder() const;
  const AssetSpec* FindAsset(std::string_view name) const;
  const PackageSpec* FindPackage(std::string_view name) const;
  const std::vector<ModelSpec>& models() const { return models_; }
  const std::vector<AssetSpec>& assets() const { return assets_; }
  const std::vector<PackageSpec>& packages() const { return packages_; }

 private:
  std::vector<PackageSpec> packages_;
  std::vector<AssetSpec> assets_;
  std::vector<ModelSpec> models_;
};

// $ARGUS_MODEL_DIR, or ~/.cache/argus/models.
std::string DefaultModelDir();

// Root of an unpacked npm package in the model cache ("" if not in the manifest).
std::string PackageRoot(const std::string& model_dir, std::string_view package_name);

}  // namespace argus::ml
