#pragma once
// Scene text: PaddleOCR v4 DB detection, 0/180 line classifier and CTC
// recognition (models/paddleocr.json), with the post-processing in C++.
// Everything is in pixels of the image given.
#include <array>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "ml/model.h"

namespace argus::vision {

// A text box as a rotated rectangle in reading order: pts[0] top-left,
// pts[1] top-right, pts[2] bottom-right, pts[3] bottom-left of the text,
// pts[0]->pts[1] the reading direction. Pixels, not clipped.
using Quad = std::array<cv::Point2f, 4>;

struct TextBox {
  Quad quad;
  float score = 0;  // mean DB probability inside the box, 0..1
};

struct DbParams {
  float thresh = 0.3f, box_thresh = 0.6f, unclip_ratio = 1.5f;
  int max_candidates = 1000, min_size = 3;
};

// DB post-processing (PaddleOCR DBPostProcess, score_mode fast) of a
// probability map whose pixel (x, y) maps to image pixel (x * scale, y * scale).
// Boxes are oriented for reading within +-90 degrees (see Quad): the longer
// side is the reading direction, pointing right (down when vertical).
std::vector<TextBox> DbPostprocess(const cv::Mat& prob, const DbParams& params, float scale);

// Quad from a rotated rectangle, oriented as DbPostprocess does.
Quad OrientedQuad(const cv::RotatedRect& r);
// Point at fraction u along the reading direction and v across it (0 top, 1 bottom).
cv::Point2f QuadPoint(const Quad& q, float u, float v);

struct CtcChar {
  std::string text;  // UTF-8
  float x = 0;       // centre of its time step, in pixels of the decoded crop
  float prob = 0;
};

struct CtcResult {
  std::string text;
  float confidence = 0;  // mean of the kept characters' probability, 0..1
  std::vector<CtcChar> chars;
};

// Greedy CTC decoding of [steps, classes] probabilities (PaddleOCR
// CTCLabelDecode): class 0 is blank, class k >= 1 is vocab[k - 1]; repeats
// collapse (the previous step counted even when blank). Step t covers
// columns [t * step_px, (t + 1) * step_px) of the input; only steps whose
// centre lies in [x0, x1) are decoded, and char x is relative to x0.
// When the last class is the space (vocab.back() == " "), a blank step
// between two characters whose space probability is at least 0.05 also
// counts as a space (x at that step, prob -1: not part of the confidence).
CtcResult CtcGreedyDecode(const float* probs, int steps, int classes,
                          const std::vector<std::string>& vocab, float step_px, float x0, float x1);

struct TextWord {
  std::string text;
  float confidence = 0;  // 0..1
  Quad quad;
};

struct TextLine {
  std::string text;      // words joined by single spaces
  float confidence = 0;  // 0..1
  Quad quad;
  std::vector<TextWord> words;
};

class TextReader {
 public:
  static Result<std::unique_ptr<TextReader>> Create(ml::Registry& registry);

  // Lines in reading order (top to bottom, then left to right) with their
  // words; lines whose recognition confidence is below min_confidence or
  // whose text is empty are dropped.
  Result<std::vector<TextLine>> Read(const cv::Mat& bgr, float min_confidence = 0.5f);

  // The stages, for evaluation and tests.
  Result<std::vector<TextBox>> Detect(const cv::Mat& bgr);
  // Recognises horizontal text crops (any width), laid end to end into the
  // recogniser's inputs and cut at gaps where an input is full. The crops
  // are resized to the recogniser's height with their width scaled by
  // `squeeze` (0.25..1) times the aspect-preserving width: fewer columns,
  // so fewer recogniser runs, for text whose letters stay wide enough.
  Result<std::vector<CtcResult>> Recognize(const std::vector<cv::Mat>& crops, float squeeze = 1.f);

 private:
  // The 0/180-degree classifier on an upright crop: true when it is upside down.
  Result<bool> UpsideDown(const cv::Mat& crop);

  std::shared_ptr<ml::Model> det_, rec_, cls_;
  std::vector<std::string> vocab_;
};

// Ink per column of a text image: the summed absolute difference from its
// median grey level (the background).
std::vector<float> InkProfile(const cv::Mat& img);
// The column in [lo, hi] with the least ink (the rightmost of equals).
int FindCut(const std::vector<float>& ink, int lo, int hi);

}  // namespace argus::vision
