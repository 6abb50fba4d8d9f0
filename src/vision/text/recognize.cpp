#include <algorithm>
#include <cmath>
#include <fstream>
#include <opencv2/imgproc.hpp>

#include "vision/text/text.h"

namespace argus::vision {

// A blank step between two characters whose space probability reaches this
// is a word break (the recogniser, trained mostly on Chinese, often drops
// the spaces of Latin text but still gives them some probability there).
constexpr float kSpaceProb = 0.05f;

CtcResult CtcGreedyDecode(const float* probs, int steps, int classes,
                          const std::vector<std::string>& vocab, float step_px, float x0,
                          float x1) {
  CtcResult r;
  int prev = 0, n = 0;
  double sum = 0;
  const int space = !vocab.empty() && vocab.back() == " " ? int(vocab.size()) : -1;
  float gap = -1;  // x of a likely space since the last character, -1 if none
  for (int t = 0; t < steps; ++t) {
    const float centre = (t + 0.5f) * step_px;
    if (centre < x0 || centre >= x1) continue;
    const float* p = probs + size_t(t) * classes;
    int k = int(std::max_element(p, p + classes) - p);
    if (k == 0 && space > 0 && space < classes && p[space] >= kSpaceProb && !r.chars.empty() &&
        r.chars.back().text != " " && gap < 0)
      gap = centre - x0;
    if (k != prev && k != 0 && k - 1 < int(vocab.size())) {
      if (gap >= 0 && k != space) {
        r.chars.push_back({" ", gap, -1.f});
        r.text += ' ';
      }
      gap = -1;
      r.chars.push_back({vocab[k - 1], centre - x0, p[k]});
      r.text += vocab[k - 1];
      sum += p[k];
      ++n;
    }
    prev = k;
  }
  r.confidence = n ? float(sum / n) : 0.f;
  return r;
}

std::vector<float> InkProfile(const cv::Mat& img) {
  cv::Mat gray;
  if (img.channels() == 3)
    cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
  else
    gray = img;
  std::vector<float> ink(gray.cols, 0.f);
  if (gray.empty()) return ink;
  std::vector<uchar> all(gray.begin<uchar>(), gray.end<uchar>());
  std::nth_element(all.begin(), all.begin() + all.size() / 2, all.end());
  const int median = all[all.size() / 2];  // the background, for text lines
  for (int y = 0; y < gray.rows; ++y) {
    const uchar* row = gray.ptr<uchar>(y);
    for (int x = 0; x < gray.cols; ++x) ink[x] += float(std::abs(int(row[x]) - median));
  }
  return ink;
}

int FindCut(const std::vector<float>& ink, int lo, int hi) {
  lo = std::clamp(lo, 0, int(ink.size()) - 1);
  hi = std::clamp(hi, lo, int(ink.size()) - 1);
  int best = hi;
  for (int x = hi; x >= lo; --x)
    if (ink[x] < ink[best]) best = x;
  return best;
}

namespace {

constexpr int kRecH = 48, kRecW = 320, kGap = 16;  // gap: two blank CTC steps
constexpr int kMinPiece = 64;                      // a canvas with less room left is closed

// Resizes a crop to the recogniser's height, its width scaled by `squeeze`
// times the aspect-preserving width.
cv::Mat ToRecHeight(const cv::Mat& crop, float squeeze) {
  int w = std::max(1, int(std::ceil(squeeze * double(kRecH) * crop.cols / std::max(1, crop.rows))));
  cv::Mat out;
  cv::resize(crop, out, cv::Size(w, kRecH), 0, 0, cv::INTER_LINEAR);
  return out;
}

}  // namespace

Result<std::vector<CtcResult>> TextReader::Recognize(const std::vector<cv::Mat>& crops,
                                                     float squeeze) {
  squeeze = std::clamp(squeeze, 0.25f, 1.f);
  struct Segment {
    int crop;       // index into crops
    float offset;   // crop column of the piece's left edge
    float scale;    // crop pixels per resized pixel
    cv::Mat image;  // kRecH high
    int canvas = -1, x = 0;
  };
  // The lines are laid end to end (kGap apart) into recogniser inputs; a
  // line that does not fit is cut at its least-inked column in the last part
  // of the room left, so inputs are nearly full and cuts fall between words
  // or letters. A cut inside a wide blank run is a word break.
  std::vector<Segment> segs;
  std::vector<std::vector<float>> spaces(crops.size());  // crop columns of word breaks at cuts
  std::vector<int> used = {0};                           // columns used per canvas
  for (int i = 0; i < int(crops.size()); ++i) {
    const cv::Mat& c = crops[i];
    if (c.empty() || c.rows < 2 || c.cols < 2) continue;
    cv::Mat line = ToRecHeight(c, squeeze);
    const float scale = float(c.cols) / line.cols;
    std::vector<float> ink;
    int x = 0;
    while (x < line.cols) {
      int room = kRecW - used.back() - (used.back() > 0 ? kGap : 0);
      const int left = line.cols - x;
      int len = left;
      if (left > room) {
        if (room < kMinPiece) {
          used.push_back(0);
          continue;
        }
        if (ink.empty()) ink = InkProfile(line);
        int cut = FindCut(ink, x + room / 2, x + room - 1);
        len = cut - x;
        // Blank run around the cut: a word break when at least a quarter of the height.
        const float peak = *std::max_element(ink.begin(), ink.end());
        auto blank = [&](int k) { return ink[k] <= 0.04f * peak; };
        if (blank(cut)) {
          int l = cut, r = cut;
          while (l > 0 && blank(l - 1)) --l;
          while (r + 1 < int(ink.size()) && blank(r + 1)) ++r;
          if (r - l + 1 >= kRecH * squeeze / 4) spaces[i].push_back(cut * scale);
        }
      }
      const int at = used.back() + (used.back() > 0 ? kGap : 0);
      segs.push_back(
          {i, x * scale, scale, line(cv::Rect(x, 0, len, kRecH)), int(used.size()) - 1, at});
      used.back() = at + len;
      x += len;
    }
  }
  if (used.back() == 0) used.pop_back();
  // The canvases, then the recogniser on them side by side, one thread each
  // (ml::ForEachSideBySide): one forward pass keeps two cores only partly
  // busy, two side by side fill them.
  std::vector<cv::Mat> blobs(used.size());
  for (int c = 0; c < int(used.size()); ++c) {
    cv::Mat canvas(kRecH, kRecW, CV_8UC3, cv::Scalar(128, 128, 128));
    std::vector<uchar> covered(kRecW, 0);
    for (const auto& s : segs) {
      if (s.canvas != c) continue;
      s.image.copyTo(canvas(cv::Rect(s.x, 0, s.image.cols, kRecH)));
      std::fill(covered.begin() + s.x, covered.begin() + s.x + s.image.cols, 1);
    }
    blobs[c] = rec_->Blob(canvas);
    // Padding is tensor value 0 exactly (PaddleOCR pads with zeros after normalising).
    float* b = blobs[c].ptr<float>();
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < kRecH; ++y)
        for (int x = 0; x < kRecW; ++x)
          if (!covered[x]) b[(ch * kRecH + y) * kRecW + x] = 0.f;
  }
  std::vector<Result<std::vector<cv::Mat>>> outs(blobs.size(), Internal("not run"));
  ml::ForEachSideBySide(blobs.size(), [&](size_t c) { outs[c] = rec_->Run(blobs[c]); });
  std::vector<std::vector<CtcChar>> chars(crops.size());
  for (int c = 0; c < int(used.size()); ++c) {
    if (!outs[c].ok()) return outs[c].status();
    cv::Mat& probs = outs[c].value()[0];
    const int classes = int(vocab_.size()) + 1;
    const int steps = int(probs.total() / classes);
    if (probs.total() != size_t(steps) * classes || steps <= 0 || !probs.isContinuous())
      return Internal("paddleocr_rec: unexpected output shape");
    // The model ends in the CTC head's logits: the softmax of each step here.
    ml::SoftmaxLastAxis(probs, classes);
    const float step_px = float(kRecW) / steps;
    for (const auto& s : segs) {
      if (s.canvas != c) continue;
      CtcResult r = CtcGreedyDecode(probs.ptr<float>(), steps, classes, vocab_, step_px, float(s.x),
                                    float(s.x + s.image.cols));
      for (auto& ch : r.chars) {
        ch.x = s.offset + ch.x * s.scale;
        chars[s.crop].push_back(ch);
      }
    }
  }
  std::vector<CtcResult> out(crops.size());
  for (size_t i = 0; i < crops.size(); ++i) {
    // Word breaks found at cuts (probability -1: not counted in confidences).
    for (float x : spaces[i]) chars[i].push_back({" ", x, -1.f});
    std::stable_sort(chars[i].begin(), chars[i].end(),
                     [](const CtcChar& a, const CtcChar& b) { return a.x < b.x; });
    double sum = 0;
    int n = 0;
    for (const auto& ch : chars[i]) {
      if (ch.text == " " && (out[i].text.empty() || out[i].text.back() == ' ')) continue;
      out[i].text += ch.text;
      if (ch.prob >= 0) sum += ch.prob, ++n;
    }
    while (!out[i].text.empty() && out[i].text.back() == ' ') out[i].text.pop_back();
    out[i].confidence = n ? float(sum / n) : 0.f;
    out[i].chars = std::move(chars[i]);
  }
  return out;
}

Result<std::unique_ptr<TextReader>> TextReader::Create(ml::Registry& registry) {
  auto r = std::unique_ptr<TextReader>(new TextReader());
  for (auto [name, slot] :
       {std::pair{"paddleocr_det", &r->det_}, std::pair{"paddleocr_rec", &r->rec_},
        std::pair{"paddleocr_cls", &r->cls_}}) {
    auto m = registry.Get(name);
    if (!m.ok()) return m.status();
    *slot = m.value();
  }
  std::string path = registry.AssetPath("paddleocr_keys");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(Code::kServiceUnavailable,
                  "paddleocr_keys is not installed: " + path +
                      " is missing (run `make models` or tools/setup_models.py)");
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    r->vocab_.push_back(line);
  }
  r->vocab_.push_back(" ");  // class 6624 (use_space_char)
  // The recogniser's class axis is blank + keys + space.
  const auto& outs = r->rec_->spec().outputs;
  if (!outs.empty() && !outs[0].shape.empty() &&
      outs[0].shape.back() != int(r->vocab_.size()) + 1) {
    return Status(Code::kServiceUnavailable, "paddleocr_keys has " +
                                                 std::to_string(r->vocab_.size() - 1) +
                                                 " keys, which does not fit paddleocr_rec's " +
                                                 std::to_string(outs[0].shape.back()) + " classes");
  }
  return r;
}

}  // namespace argus::vision
