#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "vision/text/text.h"

namespace argus::vision {

CtcResult CtcGreedyDecode(const float* probs, int steps, int classes,
                          const std::vector<std::string>& vocab, float step_px, float x0,
                          float x1) {
  CtcResult r;
  int prev = 0;
  double sum = 0;
  for (int t = 0; t < steps; ++t) {
    const float centre = (t + 0.5f) * step_px;
    if (centre < x0 || centre >= x1) continue;
    const float* p = probs + size_t(t) * classes;
    int k = int(std::max_element(p, p + classes) - p);
    if (k != prev && k != 0 && k - 1 < int(vocab.size())) {
      r.chars.push_back({vocab[k - 1], centre - x0, p[k]});
      r.text += vocab[k - 1];
      sum += p[k];
    }
    prev = k;
  }
  r.confidence = r.chars.empty() ? 0.f : float(sum / r.chars.size());
  return r;
}

std::vector<int> SplitColumns(const cv::Mat& crop, float max_aspect) {
  std::vector<int> cuts = {0};
  const int w = crop.cols, h = std::max(1, crop.rows);
  if (w <= max_aspect * h) return cuts;
  // Ink per column: deviation from the crop's median grey level.
  cv::Mat gray;
  if (crop.channels() == 3) cv::cvtColor(crop, gray, cv::COLOR_BGR2GRAY);
  else gray = crop;
  std::vector<uchar> all(gray.begin<uchar>(), gray.end<uchar>());
  std::nth_element(all.begin(), all.begin() + all.size() / 2, all.end());
  const int median = all[all.size() / 2];
  std::vector<float> ink(w, 0.f);
  for (int y = 0; y < gray.rows; ++y) {
    const uchar* row = gray.ptr<uchar>(y);
    for (int x = 0; x < w; ++x) ink[x] += float(std::abs(int(row[x]) - median));
  }
  const int limit = std::max(1, int(max_aspect * h));
  int last = 0;
  while (w - last > limit) {
    const int remaining = (w - last + limit - 1) / limit;
    const float nominal = float(w - last) / remaining;
    const int centre = last + int(std::lround(nominal));
    // Search a window before the nominal cut (never past the width limit).
    int lo = std::max(last + std::min(h, limit / 2), centre - int(nominal * 0.3f));
    int hi = std::min({w - 1, centre + int(nominal * 0.15f), last + limit});
    int best = std::min(centre, last + limit);
    if (lo <= hi) {
      best = lo;
      for (int x = lo; x <= hi; ++x)
        if (ink[x] < ink[best]) best = x;
    }
    cuts.push_back(best);
    last = best;
  }
  return cuts;
}

namespace {

constexpr int kRecH = 48, kRecW = 320, kGap = 16;  // gap: two blank CTC steps
constexpr float kMaxAspect = 6.4f;                   // a piece fills at most 307 of 320 columns

// Resizes a crop to the recogniser's height keeping its aspect (at most kRecW wide).
cv::Mat ToRecHeight(const cv::Mat& crop) {
  int w = std::clamp(int(std::ceil(double(kRecH) * crop.cols / std::max(1, crop.rows))), 1, kRecW);
  cv::Mat out;
  cv::resize(crop, out, cv::Size(w, kRecH), 0, 0, cv::INTER_LINEAR);
  return out;
}

}  // namespace

Result<std::vector<CtcResult>> TextReader::Recognize(const std::vector<cv::Mat>& crops) {
  struct Segment {
    int crop;       // index into crops
    float offset;   // crop column of the piece's left edge
    float scale;    // crop pixels per resized pixel
    cv::Mat image;  // kRecH high
    int canvas = -1, x = 0;
  };
  std::vector<Segment> segs;
  for (int i = 0; i < int(crops.size()); ++i) {
    const cv::Mat& c = crops[i];
    if (c.empty() || c.rows < 2 || c.cols < 2) continue;
    std::vector<int> cuts = SplitColumns(c, kMaxAspect);
    for (size_t j = 0; j < cuts.size(); ++j) {
      int x0 = cuts[j], x1 = j + 1 < cuts.size() ? cuts[j + 1] : c.cols;
      if (x1 - x0 < 2) continue;
      cv::Mat piece = ToRecHeight(c(cv::Rect(x0, 0, x1 - x0, c.rows)));
      segs.push_back({i, float(x0), float(x1 - x0) / piece.cols, piece});
    }
  }
  // First-fit decreasing packing of the pieces into recogniser inputs.
  std::vector<int> order(segs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return segs[a].image.cols > segs[b].image.cols; });
  std::vector<int> used;  // columns used per canvas (including gaps)
  for (int s : order) {
    const int w = segs[s].image.cols;
    int c = 0;
    for (; c < int(used.size()); ++c)
      if (used[c] + kGap + w <= kRecW) break;
    if (c == int(used.size())) used.push_back(-kGap);
    segs[s].canvas = c;
    segs[s].x = used[c] + kGap;
    used[c] += kGap + w;
  }
  std::vector<std::vector<CtcChar>> chars(crops.size());
  for (int c = 0; c < int(used.size()); ++c) {
    cv::Mat canvas(kRecH, kRecW, CV_8UC3, cv::Scalar(128, 128, 128));
    std::vector<uchar> covered(kRecW, 0);
    for (const auto& s : segs) {
      if (s.canvas != c) continue;
      s.image.copyTo(canvas(cv::Rect(s.x, 0, s.image.cols, kRecH)));
      std::fill(covered.begin() + s.x, covered.begin() + s.x + s.image.cols, 1);
    }
    cv::Mat blob = rec_->Blob(canvas);
    // Padding is tensor value 0 exactly (PaddleOCR pads with zeros after normalising).
    float* b = blob.ptr<float>();
    for (int ch = 0; ch < 3; ++ch)
      for (int y = 0; y < kRecH; ++y)
        for (int x = 0; x < kRecW; ++x)
          if (!covered[x]) b[(ch * kRecH + y) * kRecW + x] = 0.f;
    auto outs = rec_->Run(blob);
    if (!outs.ok()) return outs.status();
    const cv::Mat& probs = outs.value()[0];
    const int classes = int(vocab_.size()) + 1;
    const int steps = int(probs.total() / classes);
    if (probs.total() != size_t(steps) * classes || steps <= 0)
      return Internal("paddleocr_rec: unexpected output shape");
    const float step_px = float(kRecW) / steps;
    for (const auto& s : segs) {
      if (s.canvas != c) continue;
      CtcResult r = CtcGreedyDecode(probs.ptr<float>(), steps, classes, vocab_, step_px,
                                    float(s.x), float(s.x + s.image.cols));
      for (auto& ch : r.chars) {
        ch.x = s.offset + ch.x * s.scale;
        chars[s.crop].push_back(ch);
      }
    }
  }
  std::vector<CtcResult> out(crops.size());
  for (size_t i = 0; i < crops.size(); ++i) {
    std::stable_sort(chars[i].begin(), chars[i].end(),
                     [](const CtcChar& a, const CtcChar& b) { return a.x < b.x; });
    double sum = 0;
    for (const auto& ch : chars[i]) {
      out[i].text += ch.text;
      sum += ch.prob;
    }
    out[i].confidence = chars[i].empty() ? 0.f : float(sum / chars[i].size());
    out[i].chars = std::move(chars[i]);
  }
  return out;
}

Result<std::unique_ptr<TextReader>> TextReader::Create(ml::Registry& registry) {
  auto r = std::unique_ptr<TextReader>(new TextReader());
  for (auto [name, slot] : {std::pair{"paddleocr_det", &r->det_},
                            std::pair{"paddleocr_rec", &r->rec_},
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
    return Status(Code::kServiceUnavailable,
                  "paddleocr_keys has " + std::to_string(r->vocab_.size() - 1) +
                      " keys, which does not fit paddleocr_rec's " +
                      std::to_string(outs[0].shape.back()) + " classes");
  }
  return r;
}

}  // namespace argus::vision
