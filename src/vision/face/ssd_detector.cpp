#include "vision/face/ssd_detector.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "vision/face/detection_common.h"

namespace argus::vision::detail {
namespace {

// A confident face (this score or more) a quarter of the image high or more
// skips the tiles.
constexpr float kCloseUpScore = 0.5f;

}  // namespace

Result<std::unique_ptr<SsdDetector>> SsdDetector::Create(const std::string& name,
                                                         ml::Registry& registry) {
  std::vector<int> grids;
  float stretch = 1.f;
  if (name == "ssd-tiled") {
    grids = {2};
    stretch = 1.4f;
  } else if (name == "ssd-wide") {
    stretch = 1.4f;
  } else if (name != "ssd") {
    return InvalidParameter("unknown face detector '" + name +
                            "' (cascade, ssd-tiled, ssd-wide, ssd, blaze, haar)");
  }
  auto m = registry.Get("faceapi_ssd_mobilenetv1");
  if (!m.ok()) return m.status();
  auto w = registry.Get("faceapi_ssd_mobilenetv1_window");
  if (!w.ok()) return w.status();
  return std::make_unique<SsdDetector>(m.value(), w.value(), grids, stretch);
}

Status SsdDetector::Pass(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out) {
  return RunOn(bgr, cv::Rect(0, 0, bgr.cols, bgr.rows), min_score, out);
}

Status SsdDetector::PassNear(const cv::Mat& bgr, const std::vector<cv::Rect2f>& near,
                             float min_score, std::vector<FaceBox>* out) {
  if (near.empty()) return Pass(bgr, min_score, out);
  const double k = Input() / std::max(bgr.cols, bgr.rows);
  cv::Rect2f u = near[0];
  for (const auto& r : near) u |= r;
  const auto window = WindowAround(
      cv::Rect2f(float(u.x * k), float(u.y * k), float(u.width * k), float(u.height * k)), 0.5f);
  if (!window) return Pass(bgr, min_score, out);
  return RunScaled(bgr, k, k, {0, 0}, min_score, out, window);
}

// Without in_window for a face that fills the image: with it, one
// utkface-dev face of 2930 went from 51.2 to below 50.
Status SsdDetector::ZoomedOutPass(const cv::Mat& bgr, float min_score, bool in_window,
                                  std::vector<FaceBox>* out) {
  const double k = Input() / (3.0 * std::max(bgr.cols, bgr.rows));
  const cv::Point at(int(std::lround(bgr.cols * k)), int(std::lround(bgr.rows * k)));
  const cv::Rect2f image(float(at.x), float(at.y), float(bgr.cols * k), float(bgr.rows * k));
  return RunScaled(bgr, k, k, at, min_score, out,
                   in_window ? WindowAround(image, 1.f) : std::nullopt);
}

// The stretch is a resize of its own: on wider-dev, one combined resize
// loses 0.006-0.011 AP.
Status SsdDetector::WidePass(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out) {
  const double pre = std::min(1.0, kWideWork / std::max(bgr.cols, bgr.rows));
  cv::Mat src = bgr, wide;
  if (pre < 1)
    cv::resize(bgr, src,
               cv::Size(std::max(1, int(std::lround(bgr.cols * pre))),
                        std::max(1, int(std::lround(bgr.rows * pre)))),
               0, 0, cv::INTER_AREA);
  cv::resize(src, wide, cv::Size(int(std::lround(src.cols * stretch_)), src.rows), 0, 0,
             cv::INTER_LINEAR);
  std::vector<FaceBox> more;
  ARGUS_RETURN_IF_ERROR(RunOn(wide, cv::Rect(0, 0, wide.cols, wide.rows), min_score, &more));
  const float sx = float(bgr.cols) / wide.cols, sy = float(bgr.rows) / wide.rows;
  for (auto& f : more) {
    f.box = cv::Rect2f(f.box.x * sx, f.box.y * sy, f.box.width * sx, f.box.height * sy);
    out->push_back(f);
  }
  return Status::Ok();
}

Result<std::vector<FaceBox>> SsdDetector::Detect(const cv::Mat& bgr, float min_score,
                                                 int max_faces) {
  std::vector<FaceBox> cand;
  std::vector<PassFn> first = {
      [&](std::vector<FaceBox>* out) { return Pass(bgr, min_score, out); }};
  if (stretch_ > 1.f)
    first.push_back([&](std::vector<FaceBox>* out) { return WidePass(bgr, min_score, out); });
  ARGUS_RETURN_IF_ERROR(RunPasses(first, &cand));
  // Tiles: a g x g grid of overlapping squares over the image, each given
  // the full network resolution, so small faces become large enough. They
  // pay in group and crowd photos; a confident face a quarter of the image
  // high or more (a portrait, a selfie, an ID photo) skips them.
  const int side = std::max(bgr.cols, bgr.rows);
  const bool close_up = std::any_of(cand.begin(), cand.end(), [&](const FaceBox& f) {
    return f.score >= kCloseUpScore && f.box.height >= 0.25f * bgr.rows;
  });
  std::vector<PassFn> tiles;
  for (int g : close_up ? std::vector<int>{} : grids_) {
    const int tile = std::min(side, int(std::ceil(side / double(g) * 1.3)));
    auto starts = [&](int extent) {
      std::vector<int> s;
      if (extent <= tile) return std::vector<int>{0};
      int n = int(std::ceil(double(extent - tile) / (tile * 0.7))) + 1;
      for (int i = 0; i < n; ++i)
        s.push_back(int(std::lround(double(extent - tile) * i / (n - 1))));
      return s;
    };
    for (int y : starts(bgr.rows))
      for (int x : starts(bgr.cols)) {
        cv::Rect r = cv::Rect(x, y, tile, tile) & cv::Rect(0, 0, bgr.cols, bgr.rows);
        tiles.push_back(
            [&, r](std::vector<FaceBox>* out) { return RunOn(bgr, r, min_score, out); });
      }
  }
  ARGUS_RETURN_IF_ERROR(RunPasses(tiles, &cand));
  // Nothing found: the face may fill the frame (tight, aligned portraits),
  // larger than these weights' anchors.
  if (cand.empty())
    ARGUS_RETURN_IF_ERROR(ZoomedOutPass(bgr, min_score, /*in_window=*/false, &cand));
  return Finish(std::move(cand), bgr.size(), min_score, max_faces, /*calibrate=*/true);
}

std::optional<cv::Point> SsdDetector::WindowAround(const cv::Rect2f& r, float most) const {
  const int in = int(Input()), side = WindowSide();
  if (r.width > most * side || r.height > most * side) return std::nullopt;
  auto origin = [&](float centre) {
    const int o = int(std::lround((centre - side / 2.f) / kWindowGrid)) * kWindowGrid;
    return std::clamp(o, 0, in - side);
  };
  return cv::Point(origin(r.x + r.width / 2), origin(r.y + r.height / 2));
}

Status SsdDetector::RunScaled(const cv::Mat& img, double kx, double ky, cv::Point at,
                              float min_score, std::vector<FaceBox>* out,
                              std::optional<cv::Point> window) {
  cv::Mat canvas = Letterbox(img, kx, ky, at, int(Input()));
  ml::Model* net = model_.get();
  cv::Point origin(0, 0);
  if (window) {
    net = window_.get();
    origin = *window;
    const int side = net->spec().input.width();
    canvas = canvas(cv::Rect(origin.x, origin.y, side, side));
  }
  const int in = net->spec().input.width();
  auto outs = net->Run(net->Blob(canvas));
  if (!outs.ok()) return outs.status();
  const cv::Mat& boxes = outs.value()[0];
  const cv::Mat& scores = outs.value()[1];
  const int n = int(scores.total());
  if (boxes.total() != size_t(n) * 4) return Internal("ssd: unexpected output shapes");
  const float* b = boxes.ptr<float>();
  const float* s = scores.ptr<float>();
  for (int i = 0; i < n; ++i) {
    if (s[i] < min_score) continue;
    // (ymin, xmin, ymax, xmax) relative to the net's input.
    const float y0 = float((b[4 * i] * in + origin.y - at.y) / ky);
    const float x0 = float((b[4 * i + 1] * in + origin.x - at.x) / kx);
    const float y1 = float((b[4 * i + 2] * in + origin.y - at.y) / ky);
    const float x1 = float((b[4 * i + 3] * in + origin.x - at.x) / kx);
    if (x1 <= x0 || y1 <= y0) continue;
    out->push_back({cv::Rect2f(x0, y0, x1 - x0, y1 - y0), s[i]});
  }
  return Status::Ok();
}

Status SsdDetector::WindowPass(const cv::Mat& bgr, cv::Rect roi, float min_score,
                               std::vector<FaceBox>* out) {
  roi &= cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (roi.empty()) return Status::Ok();
  return RunOn(bgr, roi, min_score, out, /*window=*/true);
}

Status SsdDetector::RunOn(const cv::Mat& bgr, cv::Rect roi, float min_score,
                          std::vector<FaceBox>* out, bool window) {
  const int longest = std::max(roi.width, roi.height);
  const double k =
      window ? std::min(kWindowUpscale, double(WindowSide()) / longest) : Input() / longest;
  std::vector<FaceBox> found;
  ARGUS_RETURN_IF_ERROR(
      RunScaled(bgr(roi), k, k, {0, 0}, min_score, &found,
                window ? std::optional<cv::Point>(cv::Point(0, 0)) : std::nullopt));
  const bool whole = roi.width == bgr.cols && roi.height == bgr.rows;
  const float margin = 2.f;
  for (auto& f : found) {
    const cv::Rect2f& r = f.box;
    if (!whole) {
      bool cut = (r.x < margin && roi.x > 0) || (r.y < margin && roi.y > 0) ||
                 (r.x + r.width > roi.width - margin && roi.x + roi.width < bgr.cols) ||
                 (r.y + r.height > roi.height - margin && roi.y + roi.height < bgr.rows);
      if (cut) continue;
    }
    f.box.x += roi.x;
    f.box.y += roi.y;
    out->push_back(f);
  }
  return Status::Ok();
}

}  // namespace argus::vision::detail
