#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "vision/text/text.h"

namespace argus::vision {

Quad OrientedQuad(const cv::RotatedRect& r) {
  cv::Point2f p[4];
  r.points(p);
  cv::Point2f a = p[1] - p[0], b = p[2] - p[1];
  float la = std::hypot(a.x, a.y), lb = std::hypot(b.x, b.y);
  cv::Point2f d;
  float len, height;
  const float lo = std::min(la, lb), hi = std::max(la, lb);
  bool take_a;
  if (lo <= 0 || hi / lo >= 1.3f) {
    take_a = la >= lb;  // clearly elongated: the long side is the reading direction
  } else {
    take_a = std::abs(a.x) / std::max(la, 1e-6f) >= std::abs(b.x) / std::max(lb, 1e-6f);
  }
  if (take_a) {
    d = a;
    len = la;
    height = lb;
  } else {
    d = b;
    len = lb;
    height = la;
  }
  if (len <= 0) return {r.center, r.center, r.center, r.center};
  if (d.x < -1e-4f * len || (std::abs(d.x) <= 1e-4f * len && d.y < 0)) d = -d;
  const cv::Point2f u = d * (1.f / len), n(-u.y, u.x);  // n points "down" for the text
  const cv::Point2f c = r.center, hu = u * (len / 2), hn = n * (height / 2);
  return {c - hu - hn, c + hu - hn, c + hu + hn, c - hu + hn};
}

cv::Point2f QuadPoint(const Quad& q, float u, float v) {
  cv::Point2f top = q[0] + (q[1] - q[0]) * u;
  cv::Point2f bottom = q[3] + (q[2] - q[3]) * u;
  return top + (bottom - top) * v;
}

namespace {

// Mean of `prob` inside the polygon (PaddleOCR box_score_fast).
float BoxScore(const cv::Mat& prob, const cv::Point2f pts[4]) {
  float xmin = pts[0].x, xmax = pts[0].x, ymin = pts[0].y, ymax = pts[0].y;
  for (int i = 1; i < 4; ++i) {
    xmin = std::min(xmin, pts[i].x), xmax = std::max(xmax, pts[i].x);
    ymin = std::min(ymin, pts[i].y), ymax = std::max(ymax, pts[i].y);
  }
  int x0 = std::clamp(int(std::floor(xmin)), 0, prob.cols - 1);
  int x1 = std::clamp(int(std::ceil(xmax)), 0, prob.cols - 1);
  int y0 = std::clamp(int(std::floor(ymin)), 0, prob.rows - 1);
  int y1 = std::clamp(int(std::ceil(ymax)), 0, prob.rows - 1);
  cv::Mat mask = cv::Mat::zeros(y1 - y0 + 1, x1 - x0 + 1, CV_8U);
  std::vector<cv::Point> poly(4);
  for (int i = 0; i < 4; ++i)
    poly[i] = cv::Point(int(std::lround(pts[i].x)) - x0, int(std::lround(pts[i].y)) - y0);
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(1));
  return float(cv::mean(prob(cv::Rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1)), mask)[0]);
}

}  // namespace

std::vector<TextBox> DbPostprocess(const cv::Mat& prob, const DbParams& p, float scale) {
  std::vector<TextBox> out;
  if (prob.empty() || prob.type() != CV_32F) return out;
  cv::Mat bitmap = prob > p.thresh;
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(bitmap, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
  const int n = std::min<int>(int(contours.size()), p.max_candidates);
  for (int i = 0; i < n; ++i) {
    if (contours[i].size() < 2) continue;
    cv::RotatedRect r = cv::minAreaRect(contours[i]);
    if (std::min(r.size.width, r.size.height) < p.min_size) continue;
    cv::Point2f pts[4];
    r.points(pts);
    float score = BoxScore(prob, pts);
    if (score < p.box_thresh) continue;
    // Unclip: offsetting a rectangle outward by d (round joins) and taking
    // the minimum-area rectangle of the result grows each side by 2d.
    float w = r.size.width, h = r.size.height;
    float d = w * h * p.unclip_ratio / (2.f * (w + h));
    cv::RotatedRect grown(r.center, cv::Size2f(w + 2 * d, h + 2 * d), r.angle);
    if (std::min(grown.size.width, grown.size.height) < p.min_size + 2) continue;
    cv::RotatedRect img(grown.center * scale, grown.size * scale, grown.angle);
    out.push_back({OrientedQuad(img), score});
  }
  return out;
}

}  // namespace argus::vision
