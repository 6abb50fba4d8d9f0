#include "vision/face/embedder.h"

#include <opencv2/imgproc.hpp>

#include "core/geometry.h"
#include "vision/face/face.h"

namespace argus::vision {

const cv::Point2f kArcFaceTemplate112[5] = {{38.2946f, 51.6963f},
                                            {73.5318f, 51.5014f},
                                            {56.0252f, 71.7366f},
                                            {41.5493f, 92.3655f},
                                            {70.7299f, 92.2041f}};

std::vector<cv::Point2f> FivePointsFrom68(const std::vector<cv::Point2f>& lm) {
  if (lm.size() != 68) return {};
  auto centre = [&](int from) {
    cv::Point2f c(0, 0);
    for (int i = from; i < from + 6; ++i) c += lm[i];
    return c * (1.f / 6);
  };
  return {centre(36), centre(42), lm[30], lm[48], lm[54]};
}

namespace {

class ModelEmbedder : public FaceEmbedder {
 public:
  ModelEmbedder(std::shared_ptr<ml::Model> model, ml::EmbedderSpec spec, int dimension)
      : model_(std::move(model)), spec_(std::move(spec)), dimension_(dimension) {}

  cv::Mat Align(const cv::Mat& bgr, const std::vector<cv::Point2f>& lm68) const override {
    const int w = model_->spec().input.width(), h = model_->spec().input.height();
    if (spec_.alignment == "arcface5") {
      std::vector<cv::Point2f> to;
      for (const auto& p : kArcFaceTemplate112) to.emplace_back(p.x * w / 112.f, p.y * h / 112.f);
      return AlignByTemplate(bgr, FivePointsFrom68(lm68), to, cv::Size(w, h));
    }
    return AlignFaceChip(bgr, lm68, w, spec_.padding);
  }

  Result<std::vector<float>> Embed(const cv::Mat& bgr,
                                   const std::vector<cv::Point2f>& lm68) override {
    if (lm68.size() != 68) return InvalidParameter("face has no landmarks");
    cv::Mat chip = Align(bgr, lm68);
    auto out = spec_.output.empty() ? model_->Run(model_->Blob(chip))
                                    : model_->Run(model_->Blob(chip), {spec_.output});
    if (!out.ok()) return out.status();
    const cv::Mat& d = out.value()[0];
    if (int(d.total()) != dimension_ || d.depth() != CV_32F)
      return Internal("embedder " + model_->spec().name + ": descriptor of " +
                      std::to_string(d.total()) + " values, manifest says " +
                      std::to_string(dimension_));
    std::vector<float> v(d.ptr<float>(), d.ptr<float>() + d.total());
    L2Normalize(v);
    return v;
  }

  int dimension() const override { return dimension_; }
  const std::string& model_version() const override { return spec_.model_version; }
  const std::string& model_name() const override { return model_->spec().name; }

 private:
  std::shared_ptr<ml::Model> model_;
  ml::EmbedderSpec spec_;
  int dimension_;
};

}  // namespace

Result<std::unique_ptr<FaceEmbedder>> FaceEmbedder::Create(const std::string& model_name,
                                                           ml::Registry& registry) {
  const ml::ModelSpec* spec = model_name.empty() ? registry.manifest().DefaultEmbedder()
                                                 : registry.manifest().FindModel(model_name);
  if (!spec) {
    return InvalidParameter(model_name.empty()
                                ? std::string("the model manifest names no single default "
                                              "face embedder (\"embedder\": {\"default\": true})")
                                : "no model '" + model_name + "' in the model manifest");
  }
  if (!spec->embedder)
    return InvalidParameter("model '" + spec->name + "' has no embedder entry in the manifest");
  const ml::EmbedderSpec& e = *spec->embedder;
  if (e.alignment != "dlib68" && e.alignment != "arcface5")
    return InvalidParameter("embedder '" + spec->name + "': unknown alignment '" + e.alignment +
                            "' (dlib68, arcface5)");
  const ml::OutputSpec* out = nullptr;
  for (const auto& o : spec->outputs)
    if (e.output.empty() ? &o == &spec->outputs.front() : o.name == e.output) out = &o;
  if (!out || out->shape.empty())
    return InvalidParameter("embedder '" + spec->name + "': no shaped output '" + e.output + "'");
  int dim = 1;
  for (int d : out->shape) dim *= d;
  if (dim <= 0) return InvalidParameter("embedder '" + spec->name + "': empty output shape");
  auto model = registry.Get(spec->name);
  if (!model.ok()) return model.status();
  return std::unique_ptr<FaceEmbedder>(new ModelEmbedder(model.value(), e, dim));
}

}  // namespace argus::vision
