#pragma once
// Pre- and post-processing shared by the face detectors of vision/face (not
// a public interface): letterboxing, NMS, box calibration, side-by-side passes.
#include <functional>
#include <opencv2/core.hpp>
#include <vector>

#include "core/status.h"
#include "vision/face/detector.h"

namespace argus::vision::detail {

// IoU above which NMS drops the lower-scored of two boxes.
inline constexpr float kNmsIoU = 0.4f;

// An SSD box (pixels) moved to the WIDER FACE box convention.
cv::Rect2f CalibrateSsdBox(const cv::Rect2f& b);

// A size x size 8-bit BGR canvas, black, with img scaled by (kx, ky) placed
// at `at` (clipped to the canvas).
cv::Mat Letterbox(const cv::Mat& img, double kx, double ky, cv::Point at, int size);

// Non-maximum suppression: the candidates scored min_score or more that are
// kept, best first.
std::vector<FaceBox> Nms(const std::vector<FaceBox>& cand, float min_score, float iou);

// NMS over candidates, (SSD) box calibration, clip to the image, largest
// first, at most max_faces.
std::vector<FaceBox> Finish(std::vector<FaceBox> cand, cv::Size size, float min_score,
                            int max_faces, bool calibrate = false);

// For a retry when nothing was found: a dim or flat image (mean luma below
// 100 or its spread below 40) with its luma range stretched and brightened
// (percentiles 0.5-99.5 to 0-255, then a gamma bringing the mean to about
// 120), colours kept; empty for an image that is neither.
cv::Mat NormaliseDimImage(const cv::Mat& bgr);

// Independent detector passes, each appending candidates to the vector it
// is given (found[i] for pass i), side by side where ml::SideBySide says so.
// Results do not depend on the order in which passes finish, so the answer
// is that of a sequential run.
using PassFn = std::function<Status(std::vector<FaceBox>*)>;
Status RunSideBySide(const std::vector<PassFn>& passes, std::vector<std::vector<FaceBox>>* found);

// The same, with the candidates appended to *out in the passes' order.
Status RunPasses(const std::vector<PassFn>& passes, std::vector<FaceBox>* out);

}  // namespace argus::vision::detail
