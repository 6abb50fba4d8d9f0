#pragma once
// `argus bench ops`: per-operation latency through the API router, as the
// server runs each request, on 640x480 images made from one photo. Prints
// figures; never passes or fails on time.
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "service/faces.h"

namespace argus::bench {

struct OpsBenchOptions {
  std::string image;  // the photo (JPEG or PNG)
  std::string model_dir;
  service::FaceConfig face;
  int iterations = 20;  // timed runs per operation, after 2 warm-up runs
  int threads = 2;      // inference threads in effect (printed)
};

// The DetectText image: the 640x480 photo with 10 lines of printed text
// (OpsTextLines, top to bottom) on light bands.
cv::Mat OpsTextImage(const cv::Mat& photo);
const std::vector<std::string>& OpsTextLines();

// Runs every operation and prints a table; 0, or 1 when the photo cannot be
// read, a service cannot be made or an operation fails.
int RunOpsBench(const OpsBenchOptions& options);

}  // namespace argus::bench
