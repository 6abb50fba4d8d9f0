#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "core/geometry.h"
#include "vision/labels/labels.h"

namespace argus::vision {

const std::vector<std::string>& CocoLabels() {
  static const std::vector<std::string> labels = {"person",        "bicycle",      "car",
                                                  "motorcycle",    "airplane",     "bus",
                                                  "train",         "truck",        "boat",
                                                  "traffic light", "fire hydrant", "stop sign",
                                                  "parking meter", "bench",        "bird",
                                                  "cat",           "dog",          "horse",
                                                  "sheep",         "cow",          "elephant",
                                                  "bear",          "zebra",        "giraffe",
                                                  "backpack",      "umbrella",     "handbag",
                                                  "tie",           "suitcase",     "frisbee",
                                                  "skis",          "snowboard",    "sports ball",
                                                  "kite",          "baseball bat", "baseball glove",
                                                  "skateboard",    "surfboard",    "tennis racket",
                                                  "bottle",        "wine glass",   "cup",
                                                  "fork",          "knife",        "spoon",
                                                  "bowl",          "banana",       "apple",
                                                  "sandwich",      "orange",       "broccoli",
                                                  "carrot",        "hot dog",      "pizza",
                                                  "donut",         "cake",         "chair",
                                                  "couch",         "potted plant", "bed",
                                                  "dining table",  "toilet",       "tv",
                                                  "laptop",        "mouse",        "remote",
                                                  "keyboard",      "cell phone",   "microwave",
                                                  "oven",          "toaster",      "sink",
                                                  "refrigerator",  "book",         "clock",
                                                  "vase",          "scissors",     "teddy bear",
                                                  "hair drier",    "toothbrush"};
  return labels;
}

std::vector<DetectedObject> DecodeCenterNet(const float* heat, const float* wh, int grid,
                                            int classes, int input_size, cv::Size image, int top_k,
                                            float min_score, float nms_iou) {
  struct Peak {
    float score;
    int index;  // flat (y*grid + x)*classes + c
  };
  std::vector<Peak> peaks;
  const int stride_row = grid * classes;
  for (int y = 0; y < grid; ++y) {
    for (int x = 0; x < grid; ++x) {
      const float* cell = heat + (y * grid + x) * classes;
      for (int c = 0; c < classes; ++c) {
        const float v = cell[c];
        if (v < min_score) continue;
        // Equal to the 3x3 max pool (SAME padding: out-of-grid cells ignored).
        bool peak = true;
        for (int dy = -1; dy <= 1 && peak; ++dy) {
          if (y + dy < 0 || y + dy >= grid) continue;
          for (int dx = -1; dx <= 1; ++dx) {
            if ((!dx && !dy) || x + dx < 0 || x + dx >= grid) continue;
            if (cell[dy * stride_row + dx * classes + c] > v) {
              peak = false;
              break;
            }
          }
        }
        if (peak) peaks.push_back({v, (y * grid + x) * classes + c});
      }
    }
  }
  // TopKV2 order: score descending, ties by lower index.
  std::sort(peaks.begin(), peaks.end(), [](const Peak& a, const Peak& b) {
    return a.score != b.score ? a.score > b.score : a.index < b.index;
  });
  if (top_k > 0 && int(peaks.size()) > top_k) peaks.resize(top_k);

  const float stride = float(input_size) / grid;
  const float sx = float(image.width) / input_size, sy = float(image.height) / input_size;
  const cv::Rect2f bounds(0, 0, float(image.width), float(image.height));
  std::vector<DetectedObject> out;
  for (const Peak& p : peaks) {
    const int c = p.index % classes, cell = p.index / classes;
    const int x = cell % grid, y = cell / grid;
    const float* d = wh + cell * 4;
    float x1 = (stride * x - d[0]) * sx, y1 = (stride * y - d[1]) * sy;
    float x2 = (stride * x + d[2]) * sx, y2 = (stride * y + d[3]) * sy;
    cv::Rect2f box = cv::Rect2f(x1, y1, x2 - x1, y2 - y1) & bounds;
    if (box.width < 1 || box.height < 1) continue;
    bool suppressed = false;
    for (const auto& kept : out) {
      if (kept.class_id == c && IoU(kept.box, box) > nms_iou) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) out.push_back({box, p.score, c});
  }
  return out;
}

Result<std::unique_ptr<ObjectDetector>> ObjectDetector::CreateCenterNet(ml::Registry& registry) {
  auto m = registry.Get("human_centernet");
  if (!m.ok()) return m.status();
  auto d = std::unique_ptr<ObjectDetector>(new ObjectDetector());
  d->model_ = m.value();
  return d;
}

Result<std::vector<DetectedObject>> ObjectDetector::Detect(const cv::Mat& bgr, float min_score) {
  // The whole image stretched to 512x512 (human's tf.image.resizeBilinear).
  auto outs = model_->Run(model_->BlobResized(bgr));
  if (!outs.ok()) return outs.status();
  const cv::Mat& heat = outs.value()[0];
  const cv::Mat& wh = outs.value()[1];
  const int grid = 128, classes = int(CocoLabels().size());
  if (heat.total() != size_t(grid) * grid * classes || wh.total() != size_t(grid) * grid * 4) {
    return Internal("centernet: unexpected output shapes");
  }
  return DecodeCenterNet(heat.ptr<float>(), wh.ptr<float>(), grid, classes,
                         model_->spec().input.width(), bgr.size(), 100, min_score, 0.5f);
}

}  // namespace argus::vision
