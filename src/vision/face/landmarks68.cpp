#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "vision/face/face.h"

namespace argus::vision {

Result<std::unique_ptr<Landmarker68>> Landmarker68::Create(ml::Registry& registry) {
  auto m = registry.Get("faceapi_landmark68");
  if (!m.ok()) return m.status();
  auto l = std::make_unique<Landmarker68>();
  l->model_ = m.value();
  return l;
}

// As face-api: the box is cropped (clipped to the image), padded to a centred
// square with black, resized to the net input; the net gives 68 (x,y) pairs
// relative to that square.
Result<std::vector<cv::Point2f>> Landmarker68::Run(const cv::Mat& bgr, const cv::Rect2f& box) {
  cv::Rect r =
      cv::Rect(cv::Point(int(std::floor(box.x)), int(std::floor(box.y))),
               cv::Point(int(std::ceil(box.x + box.width)), int(std::ceil(box.y + box.height)))) &
      cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (r.width < 2 || r.height < 2) return InvalidParameter("face box outside the image");
  int side = std::max(r.width, r.height);
  int px = (side - r.width) / 2, py = (side - r.height) / 2;
  cv::Mat square(side, side, CV_8UC3, cv::Scalar(0, 0, 0));
  bgr(r).copyTo(square(cv::Rect(px, py, r.width, r.height)));
  auto outs = model_->Run(model_->BlobResized(square));
  if (!outs.ok()) return outs.status();
  const cv::Mat& o = outs.value()[0];
  if (o.total() != 136) return Internal("landmark68: unexpected output size");
  const float* v = o.ptr<float>();
  std::vector<cv::Point2f> pts(68);
  for (int i = 0; i < 68; ++i) {
    pts[i].x = r.x - px + v[2 * i] * side;
    pts[i].y = r.y - py + v[2 * i + 1] * side;
  }
  return pts;
}

}  // namespace argus::vision
