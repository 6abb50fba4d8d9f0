#pragma once
// Face attribute estimates beyond detection: age, gender and expression
// probabilities, eye and mouth opening ratios, gaze. Inputs are the image and
// the face's 68 landmarks in its pixels; outputs are the models' own numbers
// (years, probabilities, ratios, degrees); service/face_attributes.h turns
// them into Rekognition's attributes.
#include <array>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

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

// The expression model's classes, in its output order (face-api's
// FaceExpressionNet).
inline constexpr const char* kExpressionClasses[7] = {"neutral", "happy",     "sad",      "angry",
                                                      "fearful", "disgusted", "surprised"};

// What the attribute models and landmark geometry estimate for one face, in
// the models' own terms.
struct FaceAttributeEstimates {
  AttributeSet computed = 0;           // the requested bits whose estimates below are filled
  float age = 0;                       // years, the age model's point estimate, >= 0
  float p_male = 0;                    // the gender model's probability of male, 0..1
  std::array<float, 7> expressions{};  // probabilities in kExpressionClasses order
  float eye_aspect_ratio = 0;          // EyeAspectRatio of the landmarks
  float mouth_open_ratio = 0;          // MouthOpenRatio of the landmarks
  // Gaze in the camera's frame (head pose plus the eyes' turn in the head),
  // degrees as Pose; and how far the two eyes' own angles disagree, degrees.
  float gaze_yaw = 0, gaze_pitch = 0, eye_disagreement = 0;
};

// --- Pure mappings (no models), unit-tested --------------------------------

// face-api's crop for its 112x112 nets: the landmarks' bounding box grown by
// 20% of its size (10% a side), as FaceLandmarks.align() does.
cv::Rect2f LandmarkCropBox(const std::vector<cv::Point2f>& lm68);

// The crop clipped to the image and padded to a centred square with black
// (face-api's toBatchTensor(112, true)); empty if the box misses the image.
cv::Mat SquareCrop(const cv::Mat& bgr, const cv::Rect2f& box);

// Eye aspect ratio (Soukupova & Cech 2016) averaged over both eyes:
// (|p2-p6| + |p3-p5|) / (2 |p1-p4|). About 0.25-0.35 open, under 0.15 shut.
float EyeAspectRatio(const std::vector<cv::Point2f>& lm68);
// Inner-lip opening over inner-lip width: mean of |61-67|, |62-66|, |63-65|
// over |60-64|. About 0 with the lips together.
float MouthOpenRatio(const std::vector<cv::Point2f>& lm68);

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

  // Estimates the attributes in `want` (kAttrAll for all) for a face with 68
  // landmarks; `pose` is the head pose (for the gaze).
  Result<FaceAttributeEstimates> Analyze(const cv::Mat& bgr, const std::vector<cv::Point2f>& lm68,
                                         const Pose& pose, AttributeSet want);

  // Iris centre (image pixels) for the eye with corners a, b (68-point
  // indices 36/39 or 42/45); `mirror` feeds the crop flipped.
  Result<cv::Point2f> IrisCentre(const cv::Mat& bgr, cv::Point2f a, cv::Point2f b, bool mirror);

 private:
  std::shared_ptr<ml::Model> age_gender_, expression_, iris_;
};

}  // namespace argus::vision
