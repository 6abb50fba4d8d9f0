#pragma once
// Constructors of the face detectors FaceDetector::Create chooses between;
// internal to vision/face.
#include <memory>

#include "ml/model.h"
#include "vision/face/detector.h"

namespace argus::vision::detail {

// "cascade": BlazeFace first, "ssd-tiled" where it does not settle the image.
Result<std::unique_ptr<FaceDetector>> NewCascadeDetector(ml::Registry& registry);
// "haar": OpenCV's Haar cascade; ServiceUnavailable without opencv-data.
Result<std::unique_ptr<FaceDetector>> NewHaarDetector();

}  // namespace argus::vision::detail
