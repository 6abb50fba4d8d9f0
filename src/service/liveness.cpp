#include "service/liveness.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

namespace argus::service {
namespace {

// A face counts when the detector is at least this sure (0..100).
constexpr float kFaceConfidence = 70;
// Motion crops: the face box squared and enlarged this much, cut to this side.
constexpr float kMotionCropScale = 1.0f;
constexpr int kMotionSide = 96;
// Natural motion: the median non-rigid flow (percent of the crop side) at
// which the motion score starts to grow and where it reaches 1.
constexpr float kNonrigidLow = 0.5f, kNonrigidHigh = 1.5f;
// A sequence whose median flow and grey difference are under these does not
// move: a photo held still, or the same image sent again.
constexpr float kStaticFlow = 0.05f, kStaticDifference = 0.5f;
// Caps of the confidence when a check fails.
constexpr float kCap = 10;

float Median(std::vector<float> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

cv::Mat GreyCrop(const cv::Mat& bgr, const cv::Rect2f& box) {
  cv::Mat crop = vision::CropResized(bgr, box, kMotionSide), grey;
  cv::cvtColor(crop, grey, cv::COLOR_BGR2GRAY);
  cv::GaussianBlur(grey, grey, cv::Size(3, 3), 0);
  return grey;
}

// The frame at most 480 pixels a side as JPEG under Rekognition's 200 KiB.
LivenessImage Evidence(const cv::Mat& bgr, int index, const cv::Rect2f& box) {
  LivenessImage im;
  im.frame = index;
  const double s = std::min(1.0, 480.0 / std::max(bgr.cols, bgr.rows));
  cv::Mat small = bgr;
  if (s < 1) cv::resize(bgr, small, cv::Size(), s, s, cv::INTER_AREA);
  im.size = small.size();
  im.box =
      cv::Rect2f(box.x * float(s), box.y * float(s), box.width * float(s), box.height * float(s));
  std::vector<uchar> buf;
  for (int q = 85; q >= 25; q -= 15) {
    cv::imencode(".jpg", small, buf, {cv::IMWRITE_JPEG_QUALITY, q});
    if (buf.size() <= 200 * 1024) break;
  }
  im.jpeg.assign(buf.begin(), buf.end());
  return im;
}

}  // namespace

bool WellFramed(const cv::Rect2f& box, cv::Size size) {
  if (size.width <= 0 || size.height <= 0) return false;
  const float cx = (box.x + box.width / 2) / size.width;
  const float cy = (box.y + box.height / 2) / size.height;
  return cx >= 0.15f && cx <= 0.85f && cy >= 0.15f && cy <= 0.85f &&
         box.width >= 0.12f * std::min(size.width, size.height);
}

LivenessChecks JudgeLiveness(const std::vector<LivenessFrame>& frames) {
  LivenessChecks c;
  c.frames = int(frames.size());
  std::vector<float> nonrigid, flow, difference;
  float model = 0;
  for (const auto& f : frames) {
    if (f.faces > 1) c.multiple_faces = true;
    if (f.faces == 1 && WellFramed(f.box, f.size)) {
      ++c.framed;
      if (f.scored) model += 0.5f * (f.antispoof + f.live);
    }
    if (f.nonrigid >= 0) {
      nonrigid.push_back(f.nonrigid);
      flow.push_back(f.flow);
      difference.push_back(f.difference);
    }
  }
  c.model = c.framed > 0 ? model / c.framed : 0;
  c.median_nonrigid = Median(nonrigid);
  c.median_flow = Median(flow);
  c.median_difference = Median(difference);
  c.motion =
      std::clamp((c.median_nonrigid - kNonrigidLow) / (kNonrigidHigh - kNonrigidLow), 0.f, 1.f);
  c.confidence = 100 * std::clamp(0.5f * c.model + 0.5f * c.motion, 0.f, 1.f);
  auto cap = [&](const char* why) {
    c.confidence = std::min(c.confidence, kCap);
    c.reasons.push_back(why);
  };
  if (c.multiple_faces) cap("more than one face");
  if (c.framed < 2 || c.framed * 10 < c.frames * 6)
    cap("no single, centred, large enough face in most frames");
  if (nonrigid.empty() || (c.median_flow < kStaticFlow && c.median_difference < kStaticDifference))
    cap("no motion between frames");
  return c;
}

void MeasureMotion(const cv::Mat& prev_bgr, const cv::Mat& cur_bgr, const cv::Rect2f& box,
                   LivenessFrame& cur) {
  const cv::Rect2f crop = vision::LivenessCropBox(box, kMotionCropScale);
  const cv::Mat a = GreyCrop(prev_bgr, crop), b = GreyCrop(cur_bgr, crop);
  if (a.empty() || b.empty()) return;
  cv::Mat flow;
  cv::calcOpticalFlowFarneback(a, b, flow, 0.5, 3, 15, 3, 5, 1.1, 0);
  // Affine fit of the flow over the inner crop (u and v each c0 + c1 x +
  // c2 y), refitted on the 70% of points it fits best so that the edges of
  // the face (background, occlusions) do not drag it; the median of what it
  // leaves is motion no flat picture moved rigidly makes.
  const int m = kMotionSide / 10, side = kMotionSide - 2 * m, n = side * side;
  cv::Mat A(n, 3, CV_32F), U(n, 1, CV_32F), V(n, 1, CV_32F);
  double magnitude = 0;
  for (int y = 0, i = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x, ++i) {
      const cv::Point2f f = flow.at<cv::Point2f>(y + m, x + m);
      A.at<float>(i, 0) = 1, A.at<float>(i, 1) = float(x), A.at<float>(i, 2) = float(y);
      U.at<float>(i) = f.x, V.at<float>(i) = f.y;
      magnitude += std::hypot(f.x, f.y);
    }
  }
  // The residual magnitude at every point of the fit on `rows`.
  auto residuals = [&](const std::vector<int>& rows) {
    cv::Mat Ar, Ur, Vr, cu, cv_;
    for (int i : rows) {
      Ar.push_back(A.row(i));
      Ur.push_back(U.row(i));
      Vr.push_back(V.row(i));
    }
    cv::solve(Ar, Ur, cu, cv::DECOMP_QR);
    cv::solve(Ar, Vr, cv_, cv::DECOMP_QR);
    cv::Mat ru = U - A * cu, rv = V - A * cv_, r;
    cv::magnitude(ru, rv, r);
    return std::vector<float>(r.begin<float>(), r.end<float>());
  };
  std::vector<int> all(size_t(n), 0);
  for (int i = 0; i < n; ++i) all[size_t(i)] = i;
  const std::vector<float> r = residuals(all);
  std::vector<float> sorted = r;
  std::nth_element(sorted.begin(), sorted.begin() + n * 7 / 10, sorted.end());
  const float p70 = sorted[size_t(n * 7 / 10)];
  std::vector<int> best;
  for (int i = 0; i < n; ++i)
    if (r[size_t(i)] <= p70) best.push_back(i);
  const float pct = 100.f / kMotionSide;
  cur.flow = float(magnitude / n) * pct;
  cur.nonrigid = Median(residuals(best)) * pct;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cur.difference = float(cv::mean(diff)[0]);
}

Result<std::unique_ptr<LivenessService>> LivenessService::Create(ml::Registry& registry,
                                                                 FaceService* faces,
                                                                 float crop_scale) {
  if (!faces) return Internal("liveness: no face service");
  auto models = vision::LivenessModels::Create(registry);
  if (!models.ok()) return models.status();
  auto s = std::unique_ptr<LivenessService>(new LivenessService());
  s->faces_ = faces;
  s->crop_scale_ = crop_scale;
  s->models_ = std::move(models.value());
  return s;
}

Result<LivenessFrame> LivenessService::Observe(const cv::Mat& bgr) {
  LivenessFrame f;
  f.size = bgr.size();
  Image image;
  image.bgr = bgr;
  DetectOptions opts;
  opts.min_confidence = 0.5f;
  opts.max_faces = 5;
  opts.video_frame = true;
  auto faces = faces_->DetectFaces(image, opts);
  if (!faces.ok()) return faces.status();
  for (const auto& d : faces.value()) f.faces += d.confidence >= kFaceConfidence ? 1 : 0;
  if (f.faces == 0) return f;
  const FaceDetail& d = faces.value().front();  // largest first
  f.box = d.box;
  f.detector = d.confidence;
  f.sharpness = d.quality.sharpness;
  f.brightness = d.quality.brightness;
  auto scores = models_->Score(bgr, d.box, crop_scale_);
  if (scores.ok()) {
    f.antispoof = scores.value().antispoof;
    f.live = scores.value().live;
    f.scored = true;
  }
  return f;
}

Result<LivenessResult> LivenessService::Analyze(const std::vector<cv::Mat>& frames,
                                                int audit_images) {
  if (frames.size() < 2)
    return InvalidParameter("Face liveness needs at least 2 frames; got " +
                            std::to_string(frames.size()) + ".");
  if (frames.size() > size_t(kLivenessMaxFrames))
    return InvalidParameter("Face liveness takes at most " + std::to_string(kLivenessMaxFrames) +
                            " frames; got " + std::to_string(frames.size()) + ".");
  for (const auto& f : frames)
    if (f.empty() || f.type() != CV_8UC3) return InvalidParameter("liveness: not a BGR frame");
  LivenessResult r;
  r.frames.resize(frames.size());
  Status st = ml::AllSideBySide(frames.size(), [&](size_t i) -> Status {
    auto f = Observe(frames[i]);
    if (!f.ok()) return f.status();
    r.frames[i] = f.value();
    return Status();
  });
  if (!st.ok()) return st;
  // Motion between consecutive frames that both hold one face.
  int prev = -1;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (r.frames[i].faces != 1) continue;
    if (prev >= 0 && frames[size_t(prev)].size() == frames[i].size())
      MeasureMotion(frames[size_t(prev)], frames[i], r.frames[size_t(prev)].box, r.frames[i]);
    prev = int(i);
  }
  r.checks = JudgeLiveness(r.frames);
  // Reference: the sharpest well-framed single face; audit images spread
  // evenly over the other frames with a face.
  auto rank = [&](int j) {
    const auto& g = r.frames[size_t(j)];
    return (g.faces == 1 && WellFramed(g.box, g.size) ? 1000.f : 0.f) + g.sharpness;
  };
  std::vector<int> usable;
  int best = -1;
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto& f = r.frames[i];
    if (f.faces < 1) continue;
    usable.push_back(int(i));
    if (best < 0 || rank(int(i)) > rank(best)) best = int(i);
  }
  if (best >= 0) r.reference = Evidence(frames[size_t(best)], best, r.frames[size_t(best)].box);
  std::erase(usable, best);
  const int n = std::min<int>(std::clamp(audit_images, 0, kMaxAuditImages), int(usable.size()));
  for (int k = 0; k < n; ++k) {
    const int i = usable[size_t((2 * k + 1) * int(usable.size()) / (2 * n))];
    r.audit.push_back(Evidence(frames[size_t(i)], i, r.frames[size_t(i)].box));
  }
  return r;
}

}  // namespace argus::service
