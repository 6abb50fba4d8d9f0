#pragma once
// Rekognition's face attributes (AgeRange, Gender, Emotions, Smile, EyesOpen,
// MouthOpen, EyeDirection) from the vision estimates of
// vision/face/attributes.h: the vocabulary, ranges and calibrated thresholds.
#include <array>
#include <string>
#include <vector>

#include "vision/face/attributes.h"

namespace argus::service {

// The attribute bits of a request, as the service's callers name them.
using AttributeSet = vision::AttributeSet;
using vision::kAttrAgeRange, vision::kAttrGender, vision::kAttrEmotions, vision::kAttrSmile,
    vision::kAttrEyesOpen, vision::kAttrMouthOpen, vision::kAttrEyeDirection, vision::kAttrAll;

// A yes/no judgement with its confidence in the answer given, 50..100.
struct Judgement {
  bool value = false;
  float confidence = 0;
};

// Emotion vocabulary of the output (Rekognition's names). CONFUSED has no
// source in the expression model and is never produced.
struct EmotionScore {
  std::string type;  // HAPPY, SAD, ANGRY, DISGUSTED, SURPRISED, CALM, FEAR
  float confidence;  // 0..100; the scores of one face sum to 100
};

struct FaceAttributes {
  vision::AttributeSet computed = 0;  // the bits whose fields below are filled
  float age = 0;                      // years, the model's point estimate
  int age_low = 0, age_high = 0;
  bool male = false;
  float gender_confidence = 0;         // 50..100
  std::vector<EmotionScore> emotions;  // highest confidence first
  Judgement smile, eyes_open, mouth_open;
  float gaze_yaw = 0, gaze_pitch = 0, gaze_confidence = 0;  // degrees, degrees, 0..100
  // The measurements behind the judgements, for calibration and reports.
  float eye_aspect_ratio = 0, mouth_open_ratio = 0;
};

// Rekognition's attributes from the estimates (the bits they computed).
FaceAttributes AttributesFromEstimates(const vision::FaceAttributeEstimates& e);

// An age range around a point estimate: +-max(2, 15% of the age), rounded
// outwards, never below 0.
void AgeRangeFor(float age, int* low, int* high);

// Rekognition's emotions from face-api's expression probabilities (order
// vision::kExpressionClasses: neutral, happy, sad, angry, fearful, disgusted,
// surprised): neutral->CALM, fearful->FEAR, the rest by name, as percentages
// sorted highest first.
std::vector<EmotionScore> EmotionsFromExpressions(const std::array<float, 7>& p);

// A logistic judgement: P(yes) = 1 / (1 + exp(-(x - threshold) / scale));
// value = P >= 0.5, confidence = 100 * max(P, 1 - P).
Judgement Logistic(float x, float threshold, float scale);

// The calibrated thresholds (docs/API.md lists them).
inline constexpr float kEyesOpenEar = 0.19f, kEyesOpenScale = 0.025f;
inline constexpr float kMouthOpenRatio = 0.12f, kMouthOpenScale = 0.03f;
Judgement EyesOpenFromEar(float ear);
Judgement MouthOpenFromRatio(float ratio);
// Smile from the expression model's "happy" probability (0..1).
Judgement SmileFromHappy(float p_happy);

}  // namespace argus::service
