// "haar": OpenCV's frontal-face Haar cascade from Debian's opencv-data, an
// evaluation baseline.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "vision/face/detection_common.h"
#include "vision/face/detectors.h"

namespace argus::vision::detail {
namespace {

class HaarDetector : public FaceDetector {
 public:
  explicit HaarDetector(cv::CascadeClassifier c) : cascade_(std::move(c)) {}
  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score, int max_faces) override {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    std::vector<cv::Rect> rects;
    std::vector<int> levels;
    std::vector<double> weights;
    {
      std::lock_guard<std::mutex> lock(mu_);  // CascadeClassifier is not thread-safe
      cascade_.detectMultiScale(gray, rects, levels, weights, 1.1, 3, 0, cv::Size(8, 8), cv::Size(),
                                true);
    }
    std::vector<FaceBox> cand;
    for (size_t i = 0; i < rects.size(); ++i) {
      // Level weights are unbounded; squash to 0..1 for a comparable score.
      float score = float(1.0 / (1.0 + std::exp(-(i < weights.size() ? weights[i] : 0.0))));
      cand.push_back({cv::Rect2f(rects[i]), score});
    }
    return Finish(std::move(cand), bgr.size(), std::min(min_score, 0.01f), max_faces);
  }

 private:
  std::mutex mu_;
  cv::CascadeClassifier cascade_;
};

}  // namespace

Result<std::unique_ptr<FaceDetector>> NewHaarDetector() {
  cv::CascadeClassifier c;
  const char* path = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
  if (!c.load(path)) {
    return Status(Code::kServiceUnavailable,
                  std::string("haar detector needs Debian's opencv-data: cannot load ") + path);
  }
  return std::unique_ptr<FaceDetector>(new HaarDetector(std::move(c)));
}

}  // namespace argus::vision::detail
