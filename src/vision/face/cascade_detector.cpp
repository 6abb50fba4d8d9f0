#include <algorithm>
#include <optional>

#include "core/geometry.h"
#include "vision/face/blazeface_detector.h"
#include "vision/face/detection_common.h"
#include "vision/face/detectors.h"
#include "vision/face/ssd_detector.h"

namespace argus::vision::detail {
namespace {

// BlazeFace first; when it finds a confident close-up face (a portrait, a
// selfie, an ID photo: a fifth of the image high or more) its answer stands
// and the SSD never runs. When it finds likely faces of some size (a sixth of
// the image high or more) and no hint of others, one SSD pass (over the
// window around BlazeFace's faces where they fit in it, else over the whole
// image; and a zoomed-out one for a likely face that pass is not sure of)
// joins them and settles it: the SSD's wide and tiled passes look for narrow
// and small faces that BlazeFace gave no hint of. Otherwise (groups, crowds,
// small or no faces) the tiled SSD decides.
class CascadeDetector : public FaceDetector {
 public:
  CascadeDetector(std::shared_ptr<ml::Model> blaze, std::unique_ptr<SsdDetector> fallback)
      : blaze_(std::move(blaze)), fallback_(std::move(fallback)) {}

  // Nothing found in a dim or flat image (a dark, low-contrast, greyscale
  // portrait): once more on the image with its range stretched.
  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score, int max_faces) override {
    auto found = DetectOnce(bgr, min_score, max_faces);
    if (!found.ok() || !found->empty()) return found;
    const cv::Mat normalised = NormaliseDimImage(bgr);
    if (normalised.empty()) return found;
    return DetectOnce(normalised, min_score, max_faces);
  }

  Result<std::vector<FaceBox>> DetectFrame(const cv::Mat& bgr, float min_score,
                                           int max_faces) override {
    return DetectOnce(bgr, min_score, max_faces);
  }

  // BlazeFace over the whole frame, and the SSD's window net around each
  // known face BlazeFace does not find with confidence (kSure; a square
  // three times the face's side, faces of about one size close together
  // sharing one). A face BlazeFace finds (kLikely or more) that is not one
  // of the known faces means a new face: nullopt, as for more than
  // kMaxWindows windows. A frame BlazeFace settles as DetectFrame does
  // (a confident close-up and no hint of others) is settled so here too.
  // A BlazeFace candidate is a known face when its centre is inside the
  // known box grown by half its size on each side and its height is within
  // a factor of two of it.
  Result<std::optional<std::vector<FaceBox>>> DetectNear(const cv::Mat& bgr,
                                                         const std::vector<cv::Rect2f>& known,
                                                         float min_score, int max_faces) override {
    using Found = std::optional<std::vector<FaceBox>>;
    std::vector<FaceBox> cand;
    ARGUS_RETURN_IF_ERROR(blaze_.Run(bgr, std::min(min_score, kUnsure), &cand));
    cand = Nms(cand, 0.f, kBlazeNmsIoU);
    if (Settled(cand, bgr.rows, kSure, kCloseUp))
      return Found(Finish(std::move(cand), bgr.size(), min_score, max_faces, /*calibrate=*/true));
    auto same = [](const FaceBox& c, const cv::Rect2f& k) {
      const cv::Point2f centre(c.box.x + c.box.width / 2, c.box.y + c.box.height / 2);
      const cv::Rect2f grown(k.x - k.width / 2, k.y - k.height / 2, 2 * k.width, 2 * k.height);
      const float ratio = c.box.height / std::max(1.f, k.height);
      return grown.contains(centre) && ratio >= 0.5f && ratio <= 2.f;
    };
    for (const auto& c : cand)
      if (c.score >= kLikely &&
          std::none_of(known.begin(), known.end(), [&](const auto& k) { return same(c, k); }))
        return Found();
    std::vector<cv::Rect> windows;
    for (const auto& k : known) {
      if (std::any_of(cand.begin(), cand.end(),
                      [&](const FaceBox& c) { return c.score >= kSure && same(c, k); }))
        continue;
      const float side = 3 * std::max(k.width, k.height);
      const cv::Rect r(int(k.x + k.width / 2 - side / 2), int(k.y + k.height / 2 - side / 2),
                       int(side), int(side));
      // One window for faces whose squares together are at most a quarter
      // larger than the larger of them: faces of about one size, close.
      auto joined = std::find_if(windows.begin(), windows.end(), [&](const cv::Rect& w) {
        const cv::Rect u = w | r;
        return std::max(u.width, u.height) <=
               1.25 * std::max({w.width, w.height, r.width, r.height});
      });
      if (joined != windows.end())
        *joined |= r;
      else
        windows.push_back(r);
    }
    if (windows.size() > kMaxWindows) return Found();
    std::vector<PassFn> passes;
    for (const auto& w : windows)
      passes.push_back([&, w](std::vector<FaceBox>* out) {
        return fallback_->WindowPass(bgr, w, min_score, out);
      });
    ARGUS_RETURN_IF_ERROR(RunPasses(passes, &cand));
    return Found(Finish(std::move(cand), bgr.size(), min_score, max_faces, /*calibrate=*/true));
  }

 private:
  Result<std::vector<FaceBox>> DetectOnce(const cv::Mat& bgr, float min_score, int max_faces) {
    std::vector<FaceBox> cand;
    ARGUS_RETURN_IF_ERROR(blaze_.Run(bgr, std::min(min_score, kUnsure), &cand));
    cand = Nms(cand, 0.f, kBlazeNmsIoU);
    if (Settled(cand, bgr.rows, kSure, kCloseUp)) {
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
      const bool speculate =
          ml::SideBySide(2) && std::any_of(cand.begin(), cand.end(), [&](const FaceBox& f) {
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
      ARGUS_RETURN_IF_ERROR(RunSideBySide(
          speculate ? std::vector<PassFn>{whole, zoom} : std::vector<PassFn>{whole}, &found));
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
  static constexpr float kSure = 0.75f, kUnsure = kBlazeUnsure, kCloseUp = 0.2f;
  // Set by hand (the detector's default score threshold, a sixth of the
  // image); with them the cascade is 0.0014-0.0030 AP below ssd-tiled on
  // wider-dev (0.0006-0.0016 before they were added).
  static constexpr float kLikely = 0.5f, kNear = 0.15f;
  // DetectNear's windows cost about a quarter of a whole SSD pass each
  // (`argus bench models`: 16 against 59 ms on one thread); past this many,
  // they near the cost of DetectFrame's tiled passes (four whole passes on
  // a 16:9 frame), and a frame of that many faces is better served by it.
  static constexpr size_t kMaxWindows = 6;
  BlazeFacePass blaze_;
  std::unique_ptr<SsdDetector> fallback_;
};

}  // namespace

Result<std::unique_ptr<FaceDetector>> NewCascadeDetector(ml::Registry& registry) {
  auto ssd = SsdDetector::Create("ssd-tiled", registry);
  if (!ssd.ok()) return ssd.status();
  auto b = registry.Get("human_blazeface");
  if (!b.ok()) return b.status();
  return std::unique_ptr<FaceDetector>(new CascadeDetector(b.value(), std::move(ssd.value())));
}

}  // namespace argus::vision::detail
