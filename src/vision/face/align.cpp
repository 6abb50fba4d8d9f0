#include <opencv2/imgproc.hpp>

#include "vision/face/face.h"

namespace argus::vision {
namespace {

// dlib's mean face shape for landmarks 17..67 (get_face_chip_details), in
// 0..1 units of the inner face.
const double kMeanX[51] = {
    0.000213256, 0.0752622, 0.18113,  0.29077,  0.393397, 0.586856, 0.689483, 0.799124, 0.904991,
    0.98004,     0.490127,  0.490127, 0.490127, 0.490127, 0.36688,  0.426036, 0.490127, 0.554217,
    0.613373,    0.121737,  0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428,
    0.793132,    0.858516,  0.79751,  0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395,
    0.639268,    0.726104,  0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096,
    0.490127,    0.552157,  0.689874, 0.553364, 0.490127, 0.42689};
const double kMeanY[51] = {
    0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915,
    0.106454, 0.203352, 0.307009,  0.409805,  0.515625,  0.587326,  0.609345,  0.628106,  0.609345,
    0.587326, 0.216423, 0.178758,  0.179852,  0.231733,  0.245099,  0.244077,  0.231733,  0.179852,
    0.178758, 0.216423, 0.244077,  0.245099,  0.780233,  0.745405,  0.727388,  0.742578,  0.727388,
    0.745405, 0.780233, 0.864805,  0.902192,  0.909281,  0.902192,  0.864805,  0.784792,  0.778746,
    0.785343, 0.778746, 0.784792,  0.824182,  0.831803,  0.824182};

// Least-squares similarity transform (rotation, uniform scale, translation;
// Umeyama) mapping src onto dst, as a 2x3 matrix.
cv::Mat SimilarityTransform(const std::vector<cv::Point2d>& src,
                            const std::vector<cv::Point2d>& dst) {
  const size_t n = src.size();
  cv::Point2d ms(0, 0), md(0, 0);
  for (size_t i = 0; i < n; ++i) ms += src[i], md += dst[i];
  ms *= 1.0 / n;
  md *= 1.0 / n;
  double sxx = 0, a = 0, b = 0;  // a = sum(s.d), b = sum(s x d)
  for (size_t i = 0; i < n; ++i) {
    cv::Point2d s = src[i] - ms, d = dst[i] - md;
    sxx += s.dot(s);
    a += s.x * d.x + s.y * d.y;
    b += s.x * d.y - s.y * d.x;
  }
  double c = sxx > 0 ? a / sxx : 1, s = sxx > 0 ? b / sxx : 0;  // scale*cos, scale*sin
  cv::Mat m = (cv::Mat_<double>(2, 3) << c, -s, 0, s, c, 0);
  m.at<double>(0, 2) = md.x - (c * ms.x - s * ms.y);
  m.at<double>(1, 2) = md.y - (s * ms.x + c * ms.y);
  return m;
}

}  // namespace

cv::Mat AlignFaceChip(const cv::Mat& bgr, const std::vector<cv::Point2f>& lm68, int size,
                      double padding) {
  std::vector<cv::Point2d> from, to;
  for (int i = 0; i < 51; ++i) {
    from.emplace_back(lm68[17 + i]);
    to.emplace_back((kMeanX[i] + padding) / (2 * padding + 1) * size,
                    (kMeanY[i] + padding) / (2 * padding + 1) * size);
  }
  cv::Mat chip;
  cv::warpAffine(bgr, chip, SimilarityTransform(from, to), cv::Size(size, size), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  return chip;
}

cv::Mat AlignByTemplate(const cv::Mat& bgr, const std::vector<cv::Point2f>& points,
                        const std::vector<cv::Point2f>& to, cv::Size size) {
  std::vector<cv::Point2d> from(points.begin(), points.end()), dst(to.begin(), to.end());
  cv::Mat chip;
  cv::warpAffine(bgr, chip, SimilarityTransform(from, dst), size, cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  return chip;
}

}  // namespace argus::vision
