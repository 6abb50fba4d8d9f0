#pragma once
// face-api's SSD MobileNetV1 face detector and its passes ("ssd", "ssd-wide",
// "ssd-tiled"); internal to vision/face, where the cascade reuses its passes.
// Boxes are image pixels; a pass appends candidates before NMS.
#include <memory>
#include <optional>
#include <vector>

#include "ml/model.h"
#include "vision/face/detector.h"

namespace argus::vision::detail {

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
  // `grids`: the tile grids (g x g) of the tiled pass; `stretch` > 1 adds a
  // pass over the image widened that much.
  SsdDetector(std::shared_ptr<ml::Model> m, std::shared_ptr<ml::Model> window,
              std::vector<int> grids, float stretch)
      : model_(std::move(m)),
        window_(std::move(window)),
        grids_(std::move(grids)),
        stretch_(stretch) {}

  // "ssd", "ssd-wide" or "ssd-tiled"; InvalidParameter for other names.
  static Result<std::unique_ptr<SsdDetector>> Create(const std::string& name,
                                                     ml::Registry& registry);

  // One pass over the whole image.
  Status Pass(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out);

  // The whole pass where it can find the faces in `near` (image pixels): a
  // window around them when together they sit well inside one (their extent
  // at most half the window's side), the whole image otherwise. Faces far
  // from them are not looked for.
  Status PassNear(const cv::Mat& bgr, const std::vector<cv::Rect2f>& near, float min_score,
                  std::vector<FaceBox>* out);

  // One pass with the image in the middle third of a black canvas three
  // times its size: faces that fill the frame, and blurred faces, which
  // these weights find when they are small. The image takes a third of the
  // input's side, so with `in_window` the window around it sees all of it:
  // for a face inside the image, not for one that fills it (its edges are
  // then the window's, where the window's own zero padding changes the
  // scores).
  Status ZoomedOutPass(const cv::Mat& bgr, float min_score, bool in_window,
                       std::vector<FaceBox>* out);

  // These weights score narrow faces (tight portraits, squeezed photos) low:
  // a pass over the image widened by stretch_ finds them; its boxes are
  // mapped back to the image. The stretch is a resize of its own before the
  // net's, of the image shrunk first to kWideWork pixels when larger, which
  // bounds the memory.
  Status WidePass(const cv::Mat& bgr, float min_score, std::vector<FaceBox>* out);

  // The window net alone on bgr(roi), scaled to fill the window (roi at
  // most kWindowUpscale times upscaled); boxes touching an edge of the roi
  // inside the image are dropped, as for a tile. For faces known to be in
  // the roi, at about a quarter of the cost of a whole pass.
  Status WindowPass(const cv::Mat& bgr, cv::Rect roi, float min_score, std::vector<FaceBox>* out);

  Result<std::vector<FaceBox>> Detect(const cv::Mat& bgr, float min_score, int max_faces) override;

 private:
  static constexpr double kWideWork = 1024;
  static constexpr int kWindowGrid = 64;
  static constexpr double kWindowUpscale = 2.0;
  double Input() const { return model_->spec().input.width(); }
  // The window net's input side (pixels).
  int WindowSide() const { return window_->spec().input.width(); }

  // The window's origin in the full net's input for a region `r` of it: the
  // window centred on r, its origin on the 64-pixel grid and inside the
  // input. None when r is larger than `most` of the window's side.
  std::optional<cv::Point> WindowAround(const cv::Rect2f& r, float most) const;

  // Runs the net on img scaled by (kx, ky) at `at` of its black input
  // canvas and appends the boxes scored min_score or more, in img pixels.
  // With a window origin, the window net runs on that crop of the canvas.
  Status RunScaled(const cv::Mat& img, double kx, double ky, cv::Point at, float min_score,
                   std::vector<FaceBox>* out, std::optional<cv::Point> window = std::nullopt);

  // Runs the net on bgr(roi) padded to a square at the bottom/right (as
  // face-api does) and appends boxes in image pixels. Boxes touching a tile's
  // inner edge are dropped: the neighbouring tile or the whole image has them.
  // With `window`, the window net on bgr(roi) scaled to fill it instead.
  Status RunOn(const cv::Mat& bgr, cv::Rect roi, float min_score, std::vector<FaceBox>* out,
               bool window = false);

  std::shared_ptr<ml::Model> model_, window_;
  std::vector<int> grids_;
  float stretch_ = 1.f;
};

}  // namespace argus::vision::detail
