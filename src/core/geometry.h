#pragma once
// Geometry on boxes and vectors shared by vision, service and index: boxes
// are cv::Rect2f in pixels (x, y, width, height) unless a caller says ratios.
#include <opencv2/core.hpp>
#include <vector>

namespace argus {

// Intersection over union of two boxes; 0 when both are empty.
float IoU(const cv::Rect2f& a, const cv::Rect2f& b);

// The part of `box` inside a width x height image (empty when it misses it).
cv::Rect2f ClampBox(const cv::Rect2f& box, cv::Size image);

// Scales v in place to unit euclidean length (left as it is when all zero).
void L2Normalize(std::vector<float>& v);

// Inner product of the common prefix of a and b, summed in double.
float Dot(const std::vector<float>& a, const std::vector<float>& b);

// Euclidean distance over the common prefix of a and b, summed in double.
float EuclideanDistance(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace argus
