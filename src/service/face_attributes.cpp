// Rekognition's face attributes from vision's estimates, and
// FaceService::Analyze, which computes them.
#include "service/face_attributes.h"

#include <algorithm>
#include <cmath>

#include "core/log.h"
#include "service/faces.h"

namespace argus::service {

void AgeRangeFor(float age, int* low, int* high) {
  const float half = std::max(2.f, 0.15f * age);
  *low = std::max(0, int(std::floor(age - half)));
  *high = std::max(*low + 1, int(std::ceil(age + half)));
}

std::vector<EmotionScore> EmotionsFromExpressions(const std::array<float, 7>& p) {
  static const char* kNames[7] = {"CALM", "HAPPY",     "SAD",      "ANGRY",
                                  "FEAR", "DISGUSTED", "SURPRISED"};
  double sum = 0;
  for (float v : p) sum += std::max(0.f, v);
  std::vector<EmotionScore> out;
  for (int i = 0; i < 7; ++i)
    out.push_back({kNames[i], sum > 0 ? float(100.0 * std::max(0.f, p[i]) / sum) : 0.f});
  std::stable_sort(out.begin(), out.end(), [](const EmotionScore& a, const EmotionScore& b) {
    return a.confidence > b.confidence;
  });
  return out;
}

Judgement Logistic(float x, float threshold, float scale) {
  const float prob = 1.f / (1.f + std::exp(-(x - threshold) / scale));
  return {prob >= 0.5f, 100.f * std::max(prob, 1.f - prob)};
}

Judgement EyesOpenFromEar(float ear) { return Logistic(ear, kEyesOpenEar, kEyesOpenScale); }
Judgement MouthOpenFromRatio(float r) { return Logistic(r, kMouthOpenRatio, kMouthOpenScale); }
Judgement SmileFromHappy(float p) {
  p = std::clamp(p, 0.f, 1.f);
  return {p >= 0.5f, 100.f * std::max(p, 1.f - p)};
}

FaceAttributes AttributesFromEstimates(const vision::FaceAttributeEstimates& e) {
  FaceAttributes fa;
  fa.computed = e.computed;
  fa.eye_aspect_ratio = e.eye_aspect_ratio;
  fa.mouth_open_ratio = e.mouth_open_ratio;
  if (e.computed & (vision::kAttrAgeRange | vision::kAttrGender)) {
    fa.age = e.age;
    AgeRangeFor(fa.age, &fa.age_low, &fa.age_high);
    fa.male = e.p_male > 0.5f;
    fa.gender_confidence = 100.f * std::max(e.p_male, 1.f - e.p_male);
  }
  if (e.computed & (vision::kAttrEmotions | vision::kAttrSmile)) {
    fa.emotions = EmotionsFromExpressions(e.expressions);
    fa.smile = SmileFromHappy(e.expressions[1]);  // "happy"
  }
  if (e.computed & vision::kAttrEyesOpen) fa.eyes_open = EyesOpenFromEar(fa.eye_aspect_ratio);
  if (e.computed & vision::kAttrMouthOpen) fa.mouth_open = MouthOpenFromRatio(fa.mouth_open_ratio);
  if (e.computed & vision::kAttrEyeDirection) {
    fa.gaze_yaw = e.gaze_yaw;
    fa.gaze_pitch = e.gaze_pitch;
    // Confidence falls as the eyes close and as the two eyes disagree.
    const float open =
        1.f / (1.f + std::exp(-(fa.eye_aspect_ratio - kEyesOpenEar) / kEyesOpenScale));
    fa.gaze_confidence = 100.f * open * std::clamp(1.f - e.eye_disagreement / 60.f, 0.f, 1.f);
  }
  return fa;
}

Status FaceService::Analyze(const Image& image, FaceDetail& face, vision::AttributeSet want) {
  if (want == 0) return Status();
  if (face.landmarks68.size() != 68) return InvalidParameter("face has no landmarks");
  vision::FaceAttributeModels* models;
  {
    std::lock_guard<std::mutex> lock(attributes_mu_);
    if (!attributes_) {
      if (!registry_) return Internal("face attributes: no model registry");
      auto m = vision::FaceAttributeModels::Create(*registry_);
      if (!m.ok()) return m.status();
      attributes_ = std::move(m.value());
    }
    models = attributes_.get();
  }
  auto a = models->Analyze(image.bgr, face.landmarks68, face.pose, want);
  if (!a.ok()) return a.status();
  face.attributes = AttributesFromEstimates(a.value());
  return Status();
}

void FaceService::AnalyzeOrOmit(const Image& image, FaceDetail& face, vision::AttributeSet want,
                                const char* operation) {
  if (!want || face.landmarks68.size() != 68) return;
  if (Status s = Analyze(image, face, want); !s.ok()) {
    face.attributes.reset();
    log::Warn(std::string(operation) + ": face attributes left out: " + s.message());
  }
}

Status FaceService::AnalyzeAll(const Image& image, const std::vector<FaceDetail*>& faces,
                               vision::AttributeSet want) {
  return ml::AllSideBySide(faces.size(), [&](size_t i) { return Analyze(image, *faces[i], want); });
}

}  // namespace argus::service
