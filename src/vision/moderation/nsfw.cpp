#include "vision/moderation/moderation.h"

namespace argus::vision {

Result<std::unique_ptr<NsfwClassifier>> NsfwClassifier::Create(ml::Registry& registry) {
  auto m = registry.Get("nsfwjs_mobilenet_v2_mid");
  if (!m.ok()) return m.status();
  auto c = std::unique_ptr<NsfwClassifier>(new NsfwClassifier());
  c->model_ = m.value();
  return c;
}

Result<NsfwScores> NsfwClassifier::Classify(const cv::Mat& bgr) {
  auto outs = model_->Run(model_->BlobResized(bgr));
  if (!outs.ok()) return outs.status();
  const cv::Mat& probs = outs.value()[0];
  if (probs.total() != NsfwScores::kCount) return Internal("nsfwjs: unexpected output shape");
  NsfwScores s;
  for (int i = 0; i < NsfwScores::kCount; ++i) s.p[i] = probs.ptr<float>()[i];
  return s;
}

}  // namespace argus::vision
