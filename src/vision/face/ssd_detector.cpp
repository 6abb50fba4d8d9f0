#include <algorithm>
#include <cmath>
#include <functional>
#include <mutex>
#include <optional>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "vision/face/face.h"

namespace argus::vision {

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

namespace {

constexpr float kNmsIoU = 0.4f;
constexpr float kCloseUpScore = 0.5f;

// The SSD's boxes against the WIDER FACE box convention (hairline to chin,
// ear to ear), by the box's height in pixels: small boxes come out about 12%
// too large, large ones too short and slightly high. Medians of matched
// ground-truth/detection ratios on wider-dev, linearly interpolated.
cv::Rect2f CalibrateSsdBox(const cv::Rect2f& b) {
  static constexpr float kH[] = {8, 20, 45, 100};
  static constexpr float kW[] = {0.88f, 0.94f, 0.99f, 1.0f};   // width factor
  static constexpr float kHt[] = {0.90f, 0.99f, 1.06f, 1.18f}; // height factor
  static constexpr float kDy[] = {0, 0.025f, 0.05f, 0};       // centre shift / height
  auto interp = [&](const float* v) {
    if (b.height <= kH[0]) return v[0];
    for (int i = 1; i < 4; ++i)
      if (b.height <= kH[i]) {
        float t = (b.height - kH[i - 1]) / (kH[i] - kH[i - 1]);
        return v[i - 1] + t * (v[i] - v[i - 1]);
      }
    return v[3];
  };
  const float cx = b.x + b.width / 2, cy = b.y + b.height / 2 + interp(kDy) * b.height;
  const float w = b.width * interp(kW), h = b.height * interp(kHt);
  return {cx - w / 2, cy - h / 2, w, h};
}

// What a net with a size x size input sees of img scaled by (kx, ky) and
// placed at `at` on a black canvas (face-api and human pad to a square at the
// top left, then resize): the scaled image is made first, so a large photo
// never gets a canvas of its own size.
cv::Mat Letterbox(const cv::Mat& img, double kx, double ky, cv::Point at, int size) {
  cv::Mat canvas(size, size, CV_8UC3, cv::Scalar(0, 0, 0));
  const int w = std::clamp(int(std::lround(img.cols * kx)), 1, size - at.x);
  const int h = std::clamp(int(std::lround(img.rows * ky)), 1, size - at.y);
  cv::Mat scaled;
  cv::resize(img, scaled, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
  scaled.copyTo(canvas(cv::Rect(at.x, at.y, w, h)));
  return canvas;
}

// Non-maximum suppression: the candidates kept, best first.
std::vector<FaceBox> Nms(const std::vector<FaceBox>& cand, float min_score, float iou) {
  std::vector<cv::Rect2d> rects;
  std::vector<float> scores;
  for (const auto& c : cand) rects.emplace_back(c.box), scores.push_back(c.score);
  std::vector<int> keep;
  cv::dnn::NMSBoxes(rects, scores, min_score, iou, keep);
  std::vector<FaceBox> kept;
  for (int i : keep) kept.push_back(cand[i]);
  return kept;
}

// NMS over candidates, (SSD) box calibration, clip to the image, largest
// first, at most max_faces.
std::vector<FaceBox> Finish(std::vector<FaceBox> cand, cv::Size size, float min_score,
                            int max_faces, bool calibrate = false) {
  std::vector<FaceBox> faces;
  for (const auto& c : Nms(cand, min_score, kNmsIoU)) {
    cv::Rect2f r = (calibrate ? CalibrateSsdBox(c.box) : c.box) &
                   cv::Rect2f(0, 0, size.width, size.height);
    if (r.width < 1 || r.height < 1) continue;
    faces.push_back({r, c.score});
  }
  std::stable_sort(faces.begin(), faces.end(), [](const FaceBox& a, const FaceBox& b) {
    return a.box.area() > b.box.area();
  });
  if (max_faces > 0 && int(faces.size()) > max_faces) faces.resize(max_faces);
  return faces;
}

// Independent detector passes, each appending candidates to the vector it
// is given (found[i] for pass i), side by side where ml::SideBySide says so.
// Results do not depend on the order in which passes finish, so the answer
// is that of a sequential run.
using PassFn = std::function<Status(std::vector<FaceBox>*)>;
Status RunSideBySide(const std::vector<PassFn>& passes, std::vector<std::vector<FaceBox>>* found) {
  found->assign(passes.size(), {});
  return ml::AllSideBySide(passes.size(), [&](size_t i) { return passes[i](&(*found)[i]); });
}

// The same, with the candidates appended to *out in the passes' order.
Status RunPasses(const std::vector<PassFn>& passes, std::vector<FaceBox>* out) {
  std::vector<std::vector<FaceBox>> found;
  ARGUS_RETURN_IF_ERROR(RunSideBySide(passes, &found));
  for (const auto& f : found) out->insert(out->end(), f.begin(), f.end());
  return Status::Ok();
}

// outputs: boxes [1,N,4] as (ymin, xmin, ymax, xmax) relative to the padded
// square input; scores [1,N] face probability (models/faceapi.json).
//
// `window` is the same net at a quarter of the input (faceapi_ssd_mobilenetv1_window):
// on a crop of the full net's input whose origin is on the 64-pixel grid it
// gives the full net's boxes and scores for the faces well inside the crop,
// at a quarter of the cost. The passes that look for faces in a known part of
// the input (around the faces BlazeFace found, and the zoomed-out image
// where it holds such a face) run it there.
class SsdDetector : public FaceDetector {
 public:
  SsdDetector(std::shared_ptr<ml::Model> m, std::shared_ptr<ml::Model> window,
              std::vector<int> grids, float stretch)
      : model_(std::move(m)), window_(std::move(window)), grids_(std::move(grids)),
        stretch_(stretch) {}

  // One pass over the whole image: candidates before NMS, appended to *out.
  Status Pass(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out) {
    return RunOn(bgr, cv::Rect(0, 0, bgr.cols, bgr.rows), min_score, out);
  }

  // The whole pass where it can find the faces in `near` (image pixels): a
  // window around them when together they sit well inside one (their extent
  // at most half the window's side), the whole image otherwise. Faces far
  // from them are not looked for.
  Status PassNear(const cv::Mat& bgr, const std::vector<cv::Rect2f>& near, float min_score,
                  std::vector<FaceBox>* out) {
    if (near.empty()) return Pass(bgr, min_score, out);
    const double k = Input() / std::max(bgr.cols, bgr.rows);
    cv::Rect2f u = near[0];
    for (const auto& r : near) u |= r;
    const auto window = WindowAround(
        cv::Rect2f(float(u.x * k), float(u.y * k), float(u.width * k), float(u.height * k)), 0.5f);
    if (!window) return Pass(bgr, min_score, out);
    return RunScaled(bgr, k, k, {0, 0}, min_score, out, window);
  }

  // One pass with the image in the middle third of a black canvas three
  // times its size: faces that fill the frame, and blurred faces, which
  // these weights find when they are small. The image takes a third of the
  // input's side, so with `in_window` the window around it sees all of it:
  // for a face inside the image, not for one that fills it (its edges are
  // then the window's, where the window's own zero padding changes the
  // scores: one utkface-dev face of 2930 went from 51.2 to below 50).
  Status ZoomedOutPass(const cv::Mat& bgr, float min_score, bool in_window,
                       std::vector<FaceBox>* out) {
    const double k = Input() / (3.0 * std::max(bgr.cols, bgr.rows));
    const cv::Point at(int(std::lround(bgr.cols * k)), int(std::lround(bgr.rows * k)));
    const cv::Rect2f image(float(at.x), float(at.y), float(bgr.cols * k), float(bgr.rows * k));
    return RunScaled(bgr, k, k, at, min_score, out,
                     in_window ? WindowAround(image, 1.f) : std::nullopt);
  }

  // These weights score narrow faces (tight portraits, squeezed photos) low:
  // a pass over the image widened by stretch_ finds them; its boxes are
  // mapped back to the image. The stretch is a resize of its own before the
  // net's (on wider-dev, one combined resize loses 0.006-0.011 AP), of the
  // image shrunk first to kWideWork pixels when larger, which bounds the
  // memory.
  Status WidePass(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out) {
    const double pre = std::min(1.0, kWideWork / std::max(bgr.cols, bgr.rows));
    cv::Mat src = bgr, wide;
    if (pre < 1)
      cv::resize(bgr, src, cv::Size(std::max(1, int(std::lround(bgr.cols * pre))),
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

  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score,
                                      int max_faces) override {
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
        for (int i = 0; i < n; ++i) s.push_back(int(std::lround(double(extent - tile) * i / (n - 1))));
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

 private:
  static constexpr double kWideWork = 1024;
  static constexpr int kWindowGrid = 64;
  double Input() const { return model_->spec().input.width(); }

  // The window's origin in the full net's input for a region `r` of it: the
  // window centred on r, its origin on the 64-pixel grid and inside the
  // input. None when r is larger than `most` of the window's side.
  std::optional<cv::Point> WindowAround(const cv::Rect2f& r, float most) const {
    const int in = int(Input()), side = window_->spec().input.width();
    if (r.width > most * side || r.height > most * side) return std::nullopt;
    auto origin = [&](float centre) {
      const int o = int(std::lround((centre - side / 2.f) / kWindowGrid)) * kWindowGrid;
      return std::clamp(o, 0, in - side);
    };
    return cv::Point(origin(r.x + r.width / 2), origin(r.y + r.height / 2));
  }

  // Runs the net on img scaled by (kx, ky) at `at` of its black input
  // canvas and appends the boxes scored min_score or more, in img pixels.
  // With a window origin, the window net runs on that crop of the canvas.
  Status RunScaled(const cv::Mat& img, double kx, double ky, cv::Point at, float min_score,
                   std::vector<FaceBox>* out, std::optional<cv::Point> window = std::nullopt) {
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

  // Runs the net on bgr(roi) padded to a square at the bottom/right (as
  // face-api does) and appends boxes in image pixels. Boxes touching a tile's
  // inner edge are dropped: the neighbouring tile or the whole image has them.
  Status RunOn(const cv::Mat& bgr, cv::Rect roi, float min_score, std::vector<FaceBox>* out) {
    const double k = Input() / std::max(roi.width, roi.height);
    std::vector<FaceBox> found;
    ARGUS_RETURN_IF_ERROR(RunScaled(bgr(roi), k, k, {0, 0}, min_score, &found));
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

  std::shared_ptr<ml::Model> model_, window_;
  std::vector<int> grids_;
  float stretch_ = 1.f;
};

// BlazeFace ("back" variant, models/human.json) on the whole image padded to a
// square at 256x256: 896 anchors on a 16x16 (2 per cell) and an 8x8 (6 per
// cell) grid; each regresses a box centre offset and size in input pixels.
// Its boxes are mapped to the SSD's (uncalibrated) box convention, so that
// CalibrateSsdBox applies and the landmark net gets the same crops from both
// detectors.
class BlazePass {
 public:
  explicit BlazePass(std::shared_ptr<ml::Model> m) : model_(std::move(m)) {
    for (auto [stride, per_cell] : {std::pair{16, 2}, std::pair{32, 6}}) {
      const int g = kInput / stride;
      for (int gy = 0; gy < g; ++gy)
        for (int gx = 0; gx < g; ++gx)
          for (int k = 0; k < per_cell; ++k)
            anchors_.emplace_back(stride * (gx + 0.5f), stride * (gy + 0.5f));
    }
  }

  Status Run(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out) {
    const int side = std::max(bgr.cols, bgr.rows);
    const double k = double(kInput) / side;
    auto outs = model_->Run(model_->Blob(Letterbox(bgr, k, k, {0, 0}, kInput)));
    if (!outs.ok()) return outs.status();
    const auto& o = outs.value();  // classificators_1, _2, regressors_1, _2
    if (o.size() != 4 || o[0].total() + o[1].total() != anchors_.size() ||
        o[2].total() + o[3].total() != anchors_.size() * 16)
      return Internal("blazeface: unexpected output shapes");
    const float f = float(side) / kInput;
    for (size_t i = 0; i < anchors_.size(); ++i) {
      const bool first = i < o[0].total();
      const size_t j = first ? i : i - o[0].total();
      const float logit = (first ? o[0] : o[1]).ptr<float>()[j];
      const float score = 1.f / (1.f + std::exp(-std::clamp(logit, -50.f, 50.f)));
      if (score < min_score) continue;
      const float* r = (first ? o[2] : o[3]).ptr<float>() + j * 16;
      if (r[2] <= 0 || r[3] <= 0) continue;
      // SSD convention: medians of matched SSD/BlazeFace box ratios on
      // wider-dev, celeba-dev and utkface-dev faces.
      const float w = r[2] * kToSsdW, h = r[3] * kToSsdH;
      const float cx = anchors_[i].x + r[0] + kToSsdDx * r[2];
      const float cy = anchors_[i].y + r[1] + kToSsdDy * r[3];
      out->push_back({cv::Rect2f((cx - w / 2) * f, (cy - h / 2) * f, w * f, h * f), score});
    }
    return Status::Ok();
  }

 private:
  static constexpr int kInput = 256;
  static constexpr float kToSsdW = 0.883f, kToSsdH = 1.107f, kToSsdDx = -0.011f,
                         kToSsdDy = -0.060f;
  std::shared_ptr<ml::Model> model_;
  std::vector<cv::Point2f> anchors_;
};

// BlazeFace first; when it finds a confident close-up face (a portrait, a
// selfie, an ID photo: a fifth of the image high or more) its answer stands
// and the SSD never runs. When it finds likely faces of some size (a sixth of
// the image high or more) and no hint of others, one SSD pass (over the
// window around BlazeFace's faces where they fit in it, else over the whole
// image; and a zoomed-out one for a likely face that pass is not sure of)
// joins them and settles it: the SSD's wide and tiled passes look for narrow
// and small faces that BlazeFace gave no hint of. Otherwise (groups, crowds,
// small or no faces) the tiled SSD decides. Only for "cascade" and
// "blaze" (the latter alone, for evaluation).
class CascadeDetector : public FaceDetector {
 public:
  CascadeDetector(std::shared_ptr<ml::Model> blaze, std::unique_ptr<SsdDetector> fallback)
      : blaze_(std::move(blaze)), fallback_(std::move(fallback)) {}

  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score,
                                      int max_faces) override {
    std::vector<FaceBox> cand;
    ARGUS_RETURN_IF_ERROR(blaze_.Run(bgr, std::min(min_score, kUnsure), &cand));
    cand = Nms(cand, 0.f, kBlazeNmsIoU);
    if (!fallback_ || Settled(cand, bgr.rows, kSure, kCloseUp)) {
      return Finish(std::move(cand), bgr.size(), min_score, max_faces, /*calibrate=*/true);
    }
    if (Settled(cand, bgr.rows, kLikely, kNear)) {
      auto likely = [&](const FaceBox& f) {
        return f.score >= kLikely && f.box.height >= kNear * bgr.rows;
      };
      // A likely face the whole pass does not find with confidence (blurred
      // ones mostly) gets one zoomed-out pass. When BlazeFace itself is
      // unsure of one (below kSure), that is the usual outcome, so where two
      // passes run side by side both are started at once and the zoomed-out
      // one is kept only where the rule asks for it: the answer is that of
      // running them in turn.
      const bool speculate = ml::SideBySide(2) && std::any_of(cand.begin(), cand.end(),
                                                       [&](const FaceBox& f) {
                                                         return likely(f) && f.score < kSure;
                                                       });
      // The whole pass looks where BlazeFace found faces, likely or not.
      std::vector<cv::Rect2f> near;
      for (const auto& f : cand)
        if (f.score >= kUnsure) near.push_back(f.box);
      const PassFn whole = [&](std::vector<FaceBox>* out) {
        return fallback_->PassNear(bgr, near, min_score, out);
      };
      const PassFn zoom = [&](std::vector<FaceBox>* out) {
        return fallback_->ZoomedOutPass(bgr, min_score, /*in_window=*/true, out);
      };
      std::vector<std::vector<FaceBox>> found;
      ARGUS_RETURN_IF_ERROR(RunSideBySide(speculate ? std::vector<PassFn>{whole, zoom}
                                                 : std::vector<PassFn>{whole},
                                          &found));
      std::vector<FaceBox> ssd = std::move(found[0]);
      const bool missed = std::any_of(cand.begin(), cand.end(), [&](const FaceBox& f) {
        return likely(f) && std::none_of(ssd.begin(), ssd.end(), [&](const FaceBox& s) {
                 return s.score >= kSure && IoU(s.box, f.box) >= 0.4f;
               });
      });
      if (missed && speculate) ssd.insert(ssd.end(), found[1].begin(), found[1].end());
      if (missed && !speculate) ARGUS_RETURN_IF_ERROR(zoom(&ssd));
      cand.insert(cand.end(), ssd.begin(), ssd.end());
      return Finish(std::move(cand), bgr.size(), min_score, max_faces, /*calibrate=*/true);
    }
    return fallback_->Detect(bgr, min_score, max_faces);
  }

 private:
  // Settled: a face scored `sure` or more and at least `high` of the image
  // high, and no unsure candidate elsewhere (one that is not mostly inside
  // such a face) that would hint at more, smaller faces for the SSD to find.
  static bool Settled(const std::vector<FaceBox>& cand, int rows, float sure, float high) {
    std::vector<cv::Rect2f> found;
    for (const auto& f : cand)
      if (f.score >= sure && f.box.height >= high * rows) found.push_back(f.box);
    if (found.empty()) return false;
    return std::none_of(cand.begin(), cand.end(), [&](const FaceBox& f) {
      if (f.score < kUnsure || f.score >= sure) return false;
      float covered = 0;
      for (const auto& r : found) covered = std::max(covered, (r & f.box).area() / f.box.area());
      return covered < 0.3f;
    });
  }

  // Chosen on wider-dev so that the cascade's AP equals ssd-tiled's while
  // most portraits (celeba-dev, utkface-dev) never reach the SSD.
  static constexpr float kSure = 0.75f, kUnsure = 0.3f, kCloseUp = 0.2f;
  // Set by hand (the detector's default score threshold, a sixth of the
  // image); with them the cascade is 0.0014-0.0030 AP below ssd-tiled on
  // wider-dev (0.0006-0.0016 before they were added).
  static constexpr float kLikely = 0.5f, kNear = 0.15f;
  static constexpr float kBlazeNmsIoU = 0.3f;
  BlazePass blaze_;
  std::unique_ptr<SsdDetector> fallback_;
};

class HaarDetector : public FaceDetector {
 public:
  explicit HaarDetector(cv::CascadeClassifier c) : cascade_(std::move(c)) {}
  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score,
                                      int max_faces) override {
    cv::Mat gray;
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
    std::vector<cv::Rect> rects;
    std::vector<int> levels;
    std::vector<double> weights;
    {
      std::lock_guard<std::mutex> lock(mu_);  // CascadeClassifier is not thread-safe
      cascade_.detectMultiScale(gray, rects, levels, weights, 1.1, 3, 0, cv::Size(8, 8),
                                cv::Size(), true);
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

Result<std::unique_ptr<FaceDetector>> FaceDetector::Create(const std::string& name,
                                                           ml::Registry& registry) {
  if (name == "haar") {
    cv::CascadeClassifier c;
    const char* path = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
    if (!c.load(path)) {
      return Status(Code::kServiceUnavailable,
                    std::string("haar detector needs Debian's opencv-data: cannot load ") + path);
    }
    return std::unique_ptr<FaceDetector>(new HaarDetector(std::move(c)));
  }
  const bool cascade = name == "cascade";
  const std::string ssd_name = cascade ? "ssd-tiled" : name;
  std::unique_ptr<SsdDetector> ssd;
  if (name != "blaze") {
    std::vector<int> grids;
    float stretch = 1.f;
    if (ssd_name == "ssd-tiled") {
      grids = {2};
      stretch = 1.4f;
    } else if (ssd_name == "ssd-wide") {
      stretch = 1.4f;
    } else if (ssd_name != "ssd") {
      return InvalidParameter("unknown face detector '" + name +
                              "' (cascade, ssd-tiled, ssd-wide, ssd, blaze, haar)");
    }
    auto m = registry.Get("faceapi_ssd_mobilenetv1");
    if (!m.ok()) return m.status();
    auto w = registry.Get("faceapi_ssd_mobilenetv1_window");
    if (!w.ok()) return w.status();
    ssd.reset(new SsdDetector(m.value(), w.value(), grids, stretch));
    if (!cascade) return std::unique_ptr<FaceDetector>(std::move(ssd));
  }
  auto b = registry.Get("human_blazeface");
  if (!b.ok()) return b.status();
  return std::unique_ptr<FaceDetector>(new CascadeDetector(b.value(), std::move(ssd)));
}

}  // namespace argus::vision
