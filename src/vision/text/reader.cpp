#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "vision/text/text.h"

namespace argus::vision {
namespace {

constexpr int kDetSide = 640;
// Width factor of the first recognition pass (see Read) and the confidence
// at which its reading stands.
constexpr float kSqueeze = 0.6f, kConfident = 0.9f;

// The text crop of a quad, upright: width along the reading direction.
cv::Mat CropQuad(const cv::Mat& bgr, const Quad& q) {
  float len = float(cv::norm(q[1] - q[0])), height = float(cv::norm(q[3] - q[0]));
  int w = std::max(1, int(std::lround(len))), h = std::max(1, int(std::lround(height)));
  cv::Point2f src[3] = {q[0], q[1], q[3]};
  cv::Point2f dst[3] = {{0, 0}, {float(w), 0}, {0, float(h)}};
  cv::Mat m = cv::getAffineTransform(src, dst), crop;
  cv::warpAffine(bgr, crop, m, cv::Size(w, h), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  return crop;
}

float QuadHeight(const Quad& q) { return float(cv::norm(q[3] - q[0])); }
cv::Point2f QuadCentre(const Quad& q) { return (q[0] + q[1] + q[2] + q[3]) * 0.25f; }

}  // namespace

Result<std::vector<TextBox>> TextReader::Detect(const cv::Mat& bgr) {
  // Scale: small images up to 640 on the long side (at most 2x), up to 960
  // as is, larger down to 960 (PaddleOCR's limit_side_len). The detector is
  // fully convolutional: it runs once on the scaled image padded right and
  // bottom to multiples of 32, as PaddleOCR's DetResizeForTest rounds (a
  // 640x480 photo is one 640x480 pass).
  const int longest = std::max(bgr.cols, bgr.rows);
  double s = longest <= 720 ? std::min(2.0, double(kDetSide) / longest)
                            : (longest <= 960 ? 1.0 : 960.0 / longest);
  cv::Mat scaled;
  cv::resize(bgr, scaled,
             cv::Size(std::max(1, int(std::lround(bgr.cols * s))),
                      std::max(1, int(std::lround(bgr.rows * s)))),
             0, 0, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int W = scaled.cols, H = scaled.rows;
  // An image under 320 px (a word crop, say) stays small at 2x and is text
  // to its edges, which DB finds poorly without room around it: it goes on
  // a 640x640 canvas (measured on the word crops of `argus eval text`).
  const int least = std::max(W, H) < kDetSide ? kDetSide : 32;
  const int in_w = std::max(least, (W + 31) / 32 * 32), in_h = std::max(least, (H + 31) / 32 * 32);
  // Padding is the mean colour, i.e. tensor value 0.
  const auto& mean = det_->spec().input.mean;
  cv::Mat input(in_h, in_w, CV_8UC3, cv::Scalar(mean[0], mean[1], mean[2]));
  scaled.copyTo(input(cv::Rect(0, 0, W, H)));
  auto outs = det_->Run(det_->BlobAnySize(input));
  if (!outs.ok()) return outs.status();
  cv::Mat p = outs.value()[0];
  if (p.total() != size_t(in_w) * in_h) return Internal("paddleocr_det: unexpected output shape");
  cv::Mat prob = p.reshape(1, in_h)(cv::Rect(0, 0, W, H)).clone();
  return DbPostprocess(prob, DbParams{}, float(1.0 / s));
}

Result<bool> TextReader::UpsideDown(const cv::Mat& crop) {
  // 0 / 180 degrees (PaddleOCR's cls_thresh 0.9).
  cv::Mat in;
  int w = std::clamp(int(std::ceil(48.0 * crop.cols / crop.rows)), 1, 192);
  cv::resize(crop, in, cv::Size(w, 48));
  cv::Mat canvas(48, 192, CV_8UC3, cv::Scalar(128, 128, 128));
  in.copyTo(canvas(cv::Rect(0, 0, w, 48)));
  cv::Mat blob = cls_->Blob(canvas);
  float* p = blob.ptr<float>();
  for (int ch = 0; ch < 3; ++ch)
    for (int y = 0; y < 48; ++y)
      std::fill(p + (ch * 48 + y) * 192 + w, p + (ch * 48 + y + 1) * 192, 0.f);
  auto cls = cls_->Run(blob);
  if (!cls.ok()) return cls.status();
  const float* prob = cls.value()[0].ptr<float>();
  return prob[1] > prob[0] && prob[1] > 0.9f;
}

Result<std::vector<TextLine>> TextReader::Read(const cv::Mat& bgr, float min_confidence) {
  auto boxes = Detect(bgr);
  if (!boxes.ok()) return boxes.status();
  std::vector<Quad> quads;
  std::vector<cv::Mat> crops;
  for (const auto& b : boxes.value()) {
    cv::Mat crop = CropQuad(bgr, b.quad);
    if (crop.rows < 2 || crop.cols < 2) continue;
    quads.push_back(b.quad);
    crops.push_back(crop);
  }
  // First pass: every line squeezed (kSqueeze), as read. Most printed text
  // comes out confident; only the rest is checked for being upside down and
  // read again at full width, keeping the more confident reading. Upside-down
  // text reads with low confidence, so the classifier is run only where it
  // can change the answer.
  auto first = Recognize(crops, kSqueeze);
  if (!first.ok()) return first.status();
  std::vector<CtcResult> texts = std::move(first.value());
  std::vector<size_t> retry;
  std::vector<cv::Mat> retry_crops;
  std::vector<bool> flipped;
  for (size_t i = 0; i < crops.size(); ++i) {
    if (texts[i].confidence >= kConfident) continue;
    auto down = UpsideDown(crops[i]);
    if (!down.ok()) return down.status();
    cv::Mat crop = crops[i];
    if (down.value()) cv::rotate(crop, crop, cv::ROTATE_180);
    retry.push_back(i);
    retry_crops.push_back(crop);
    flipped.push_back(down.value());
  }
  if (!retry.empty()) {
    auto second = Recognize(retry_crops, 1.f);
    if (!second.ok()) return second.status();
    for (size_t k = 0; k < retry.size(); ++k) {
      CtcResult& r = second.value()[k];
      const size_t i = retry[k];
      if (r.confidence <= texts[i].confidence) continue;
      texts[i] = std::move(r);
      if (flipped[k]) quads[i] = {quads[i][2], quads[i][3], quads[i][0], quads[i][1]};
    }
  }
  std::vector<TextLine> lines;
  for (size_t i = 0; i < quads.size(); ++i) {
    const CtcResult& r = texts[i];
    if (r.confidence < min_confidence) continue;
    const float len = std::max(1.f, float(cv::norm(quads[i][1] - quads[i][0])));
    // Words split at spaces; boundaries midway between neighbouring characters.
    struct Span {
      int first, last;  // char indices
    };
    std::vector<Span> spans;
    for (int k = 0; k < int(r.chars.size()); ++k) {
      if (r.chars[k].text == " ") continue;
      if (k > 0 && r.chars[k - 1].text != " " && !spans.empty())
        spans.back().last = k;
      else
        spans.push_back({k, k});
    }
    if (spans.empty()) continue;
    TextLine line;
    line.quad = quads[i];
    double line_sum = 0;
    int line_n = 0;
    for (size_t w = 0; w < spans.size(); ++w) {
      TextWord word;
      double sum = 0;
      for (int k = spans[w].first; k <= spans[w].last; ++k) {
        word.text += r.chars[k].text;
        sum += r.chars[k].prob;
      }
      const int n = spans[w].last - spans[w].first + 1;
      word.confidence = float(sum / n);
      line_sum += sum;
      line_n += n;
      float x0 = w == 0 ? 0.f : 0.5f * (r.chars[spans[w - 1].last].x + r.chars[spans[w].first].x);
      float x1 = w + 1 == spans.size()
                     ? len
                     : 0.5f * (r.chars[spans[w].last].x + r.chars[spans[w + 1].first].x);
      float u0 = std::clamp(x0 / len, 0.f, 1.f), u1 = std::clamp(x1 / len, 0.f, 1.f);
      const Quad& q = quads[i];
      word.quad = {QuadPoint(q, u0, 0), QuadPoint(q, u1, 0), QuadPoint(q, u1, 1),
                   QuadPoint(q, u0, 1)};
      if (!line.text.empty()) line.text += ' ';
      line.text += word.text;
      line.words.push_back(std::move(word));
    }
    line.confidence = float(line_sum / std::max(1, line_n));
    lines.push_back(std::move(line));
  }
  // Reading order (PaddleOCR sorted_boxes): by centre y, then neighbours on
  // the same row (centres closer than half a line height) left to right.
  std::stable_sort(lines.begin(), lines.end(), [](const TextLine& a, const TextLine& b) {
    return QuadCentre(a.quad).y < QuadCentre(b.quad).y;
  });
  for (size_t i = 1; i < lines.size(); ++i) {
    for (size_t j = i; j > 0; --j) {
      cv::Point2f a = QuadCentre(lines[j - 1].quad), b = QuadCentre(lines[j].quad);
      float tol = 0.5f * std::min(QuadHeight(lines[j - 1].quad), QuadHeight(lines[j].quad));
      if (std::abs(a.y - b.y) <= tol && b.x < a.x)
        std::swap(lines[j - 1], lines[j]);
      else
        break;
    }
  }
  return lines;
}

}  // namespace argus::vision
