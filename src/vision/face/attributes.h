#pragma once
// Face attributes beyond detection: age and gender, expression, eyes and
// mouth open, smile, gaze. Inputs are the image and the face's 68 landmarks
// in its pixels; outputs are plain numbers (degrees, years, 0..100
// confidences), free of any API shape.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "ml/model.h"
#include "vision/face/face.h"

namespace argus::vision {

// Which attributes to compute (bit mask).
enum AttributeBits : unsigned {
  kAttrAgeRange = 1u << 0,
  kAttrGender = 1u << 1,
  kAttrEmotions = 1u << 2,
  kAttrSmile = 1u << 3,
  kAttrEyesOpen = 1u << 4,
  kAttrMouthOpen = 1u << 5,
  kAttrEyeDirection = 1u << 6,
  kAttrAll = (1u << 7) - 1,
};
using AttributeSet = unsigned;

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
  AttributeSet computed = 0;  // the bits whose fields below are filled
  float age = 0;              // years, the model's point estimate
  int age_low = 0, age_high = 0;
  bool male = false;
  float gender_confidence = 0;        // 50..100
  std::vector<EmotionScore> emotions;  // highest confidence first
  Judgement smile, eyes_open, mouth_open;
  float gaze_yaw = 0, gaze_pitch = 0, gaze_confidence = 0;  // degrees, degrees, 0..100
  // The measurements behind the judgements, for calibration and reports.
  float eye_aspect_ratio = 0, mouth_open_ratio = 0;
};

// --- Pure mappings (no models), unit-tested --------------------------------

// face-api's crop for its 112x112 nets: the landmarks' bounding box grown by
// 20% of its size (10% a side), as FaceLandmarks.align() does.
cv::Rect2f LandmarkCropBox(const std::vector<cv::Point2f>& lm68);

// The crop clipped to the image and padded to a centred square with black
// (face-api's toBatchTensor(112, true)); empty if the box misses the image.
cv::Mat SquareCrop(const cv::Mat& bgr, const cv::Rect2f& box);

// An age range around a point estimate: +-max(2, 15% of the age), rounded
// outwards, never below 0.
void AgeRangeFor(float age, int* low, int* high);

// Rekognition's emotions from face-api's expression probabilities (order
// neutral, happy, sad, angry, fearful, disgusted, surprised): neutral->CALM,
// fearful->FEAR, the rest by name, as percentages sorted highest first.
std::vector<EmotionScore> EmotionsFromExpressions(const std::array<float, 7>& p);

// Eye aspect ratio (Soukupova & Cech 2016) averaged over both eyes:
// (|p2-p6| + |p3-p5|) / (2 |p1-p4|). About 0.25-0.35 open, under 0.15 shut.
float EyeAspectRatio(const std::vector<cv::Point2f>& lm68);
// Inner-lip opening over inner-lip width: mean of |61-67|, |62-66|, |63-65|
// over |60-64|. About 0 with the lips together.
float MouthOpenRatio(const std::vector<cv::Point2f>& lm68);

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

// Gaze of one eye in the head's frame, in degrees (yaw positive towards the
// image's left, pitch positive up, as Pose), from the iris centre relative to
// the centre of the eye corners, on an eyeball of radius 0.45 eye widths.
cv::Point2f EyeInHeadAngles(cv::Point2f iris, cv::Point2f corner_a, cv::Point2f corner_b);

// --- Models ----------------------------------------------------------------

// face-api age/gender and expression nets, MediaPipe iris. Thread-safe
// (models are net pools). Models load on Create.
class FaceAttributeModels {
 public:
  static Result<std::unique_ptr<FaceAttributeModels>> Create(ml::Registry& registry);

  // Fills the attributes in `want` (kAttrAll for all) for a face with 68
  // landmarks; `pose` is the head pose (for the gaze).
  Result<FaceAttributes> Analyze(const cv::Mat& bgr, const std::vector<cv::Point2f>& lm68,
                                 const Pose& pose, AttributeSet want);

  // Iris centre (image pixels) for the eye with corners a, b (68-point
  // indices 36/39 or 42/45); `mirror` feeds the crop flipped.
  Result<cv::Point2f> IrisCentre(const cv::Mat& bgr, cv::Point2f a, cv::Point2f b, bool mirror);

 private:
  std::shared_ptr<ml::Model> age_gender_, expression_, iris_;
};

}  // namespace argus::vision
