#pragma once
// Passive face liveness free of HTTP and JSON: a short sequence of frames of
// one person in front of a camera → a confidence 0..100 that the person was
// live, a reference image and audit images. It combines the two liveness
// models (vision/face/liveness.h) with checks on the sequence: exactly one
// face, framed and big enough, and natural (non-rigid) motion between frames.
// What it cannot stop is in docs/MODEL_CARD.md#face-liveness. Thread-safe.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/faces.h"
#include "vision/face/liveness.h"

namespace argus::service {

// Confidence at or above which a sequence is judged live (the default
// decision threshold of `argus eval liveness` and docs/MODEL_CARD.md).
inline constexpr float kLivenessThreshold = 50;
// Frames analysed at most (a video is sampled at kLivenessVideoFps and cut there).
inline constexpr int kLivenessMaxFrames = 24;
inline constexpr double kLivenessVideoFps = 8;
// Rekognition's AuditImagesLimit range.
inline constexpr int kMaxAuditImages = 4;

// What one frame shows, as the checks read it.
struct LivenessFrame {
  cv::Size size;         // frame size, pixels
  int faces = 0;         // faces at detector confidence >= 70
  cv::Rect2f box;        // the largest face, pixels (when faces > 0)
  float detector = 0;    // its detector confidence, 0..100
  float sharpness = 0;   // its Quality.Sharpness, 0..100
  float brightness = 0;  // its Quality.Brightness, 0..100
  float antispoof = 0;   // human_antispoof "real" score, 0..1
  float live = 0;        // human_liveness "live" score, 0..1
  bool scored = false;   // the models ran on this face
  // Motion from the previous frame with a face (both with one face; -1 when
  // not measured): the mean optical-flow magnitude over the face box and
  // the median of what is left of it after a robust affine fit (a flat photo
  // moved rigidly in front of the camera leaves little), both in percent of
  // the box's side; and the mean absolute grey difference of the crops.
  float flow = -1, nonrigid = -1, difference = -1;
};

// The checks and the confidence they give (JudgeLiveness).
struct LivenessChecks {
  int frames = 0;  // frames given
  int framed = 0;  // frames with exactly one face, centred and big enough
  bool multiple_faces = false;
  float model = 0;   // mean model score over the framed frames, 0..1
  float motion = 0;  // natural-motion score, 0..1 (0: static or rigid)
  float median_nonrigid = 0, median_flow = 0, median_difference = 0;  // of the measured pairs
  float confidence = 0;                                               // 0..100
  std::vector<std::string> reasons;  // why the confidence was capped, if it was
};

// Whether a face box is roughly centred in, and big enough for, a frame of
// `size`: its centre in the middle 70% each way, its width >= 12% of the
// frame's shorter side.
bool WellFramed(const cv::Rect2f& box, cv::Size size);
// The checks alone (no models; unit-tested). Confidence = 100 x (0.5 model +
// 0.5 motion), capped at 10 when any frame shows more than one face, when
// fewer than 2 frames (or under 60% of them) hold one well-framed face, or
// when the sequence does not move (a photo held still).
LivenessChecks JudgeLiveness(const std::vector<LivenessFrame>& frames);

// A frame kept as evidence: JPEG bytes (at most 480 pixels a side, under
// 200 KiB: Rekognition's LivenessImageBlob) and the face box in its pixels.
struct LivenessImage {
  int frame = 0;  // index in the sequence
  std::string jpeg;
  cv::Size size;
  cv::Rect2f box;
};

struct LivenessResult {
  LivenessChecks checks;
  std::vector<LivenessFrame> frames;
  std::optional<LivenessImage> reference;  // the sharpest well-framed face
  std::vector<LivenessImage> audit;        // spread over the sequence
};

class LivenessService {
 public:
  // `faces` finds the faces and must outlive the service; `crop_scale` is
  // the models' face crop (vision::LivenessCropBox).
  static Result<std::unique_ptr<LivenessService>> Create(
      ml::Registry& registry, FaceService* faces, float crop_scale = vision::kLivenessCropScale);
  // Judges `frames` (8-bit BGR, in capture order; 2..kLivenessMaxFrames) and
  // picks a reference image and up to `audit_images` (0..4) audit images.
  // InvalidParameter for fewer than 2 frames or more than kLivenessMaxFrames.
  Result<LivenessResult> Analyze(const std::vector<cv::Mat>& frames, int audit_images);

  // The per-frame evidence of one frame (no motion), for tools.
  Result<LivenessFrame> Observe(const cv::Mat& bgr);

 private:
  FaceService* faces_ = nullptr;
  float crop_scale_ = vision::kLivenessCropScale;
  std::unique_ptr<vision::LivenessModels> models_;
};

// Optical-flow motion between two face crops (the same square box cut from
// two frames): fills flow, nonrigid and difference of `cur`.
void MeasureMotion(const cv::Mat& prev_bgr, const cv::Mat& cur_bgr, const cv::Rect2f& box,
                   LivenessFrame& cur);

}  // namespace argus::service
