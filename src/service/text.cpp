#include "service/text.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace argus::service {
namespace {

// Fraction of the quad's area inside the region (both in pixels).
float FractionInside(const vision::Quad& q, const TextRegion& r, cv::Size image) {
  std::vector<cv::Point2f> word(q.begin(), q.end());
  std::vector<cv::Point2f> region;
  if (r.polygon.size() >= 3) {
    for (const auto& p : r.polygon) region.emplace_back(p.x * image.width, p.y * image.height);
  } else {
    float x0 = r.box.x * image.width, y0 = r.box.y * image.height;
    float x1 = (r.box.x + r.box.width) * image.width, y1 = (r.box.y + r.box.height) * image.height;
    region = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
  }
  double area = cv::contourArea(word);
  if (area <= 0) return 0.f;
  std::vector<cv::Point2f> hull, inter;
  cv::convexHull(region, hull);
  float overlap = cv::intersectConvexConvex(word, hull, inter, true);
  return overlap <= 0 ? 0.f : float(overlap / area);
}

cv::Rect2f Bounds(const vision::Quad& q) {
  float x0 = q[0].x, x1 = q[0].x, y0 = q[0].y, y1 = q[0].y;
  for (const auto& p : q) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  return {x0, y0, x1 - x0, y1 - y0};
}

}  // namespace

Result<std::unique_ptr<TextService>> TextService::Create(ml::Registry& registry) {
  auto r = vision::TextReader::Create(registry);
  if (!r.ok()) return r.status();
  auto s = std::unique_ptr<TextService>(new TextService());
  s->reader_ = std::move(r.value());
  return s;
}

const char* TextService::TextModelVersion() { return "argus-ppocrv4-1.0"; }

std::vector<TextDetection> TextService::Filter(const std::vector<vision::TextLine>& lines,
                                               cv::Size image, const TextOptions& opts) {
  std::vector<TextDetection> out_lines, out_words;
  int words = 0;
  for (const auto& line : lines) {
    std::vector<const vision::TextWord*> kept;
    for (const auto& w : line.words) {
      if (words + int(kept.size()) >= opts.max_words) break;
      if (w.confidence * 100.f < opts.min_confidence) continue;
      cv::Rect2f b = Bounds(w.quad);
      if (b.height < opts.min_box_height * image.height) continue;
      if (b.width < opts.min_box_width * image.width) continue;
      if (!opts.regions.empty()) {
        bool inside = false;
        for (const auto& r : opts.regions)
          if (FractionInside(w.quad, r, image) > 0.5f) inside = true;
        if (!inside) continue;
      }
      kept.push_back(&w);
    }
    if (kept.empty()) continue;
    TextDetection l;
    l.type = TextDetection::Type::kLine;
    l.id = int(out_lines.size());
    l.quad = line.quad;
    double sum = 0;
    for (const auto* w : kept) {
      if (!l.text.empty()) l.text += ' ';
      l.text += w->text;
      sum += w->confidence;
    }
    l.confidence = kept.size() == line.words.size() ? line.confidence * 100.f
                                                    : float(sum / kept.size() * 100.0);
    for (const auto* w : kept) {
      TextDetection d;
      d.type = TextDetection::Type::kWord;
      d.text = w->text;
      d.parent_id = l.id;
      d.confidence = w->confidence * 100.f;
      d.quad = w->quad;
      out_words.push_back(std::move(d));
    }
    words += int(kept.size());
    out_lines.push_back(std::move(l));
    if (words >= opts.max_words) break;
  }
  int id = int(out_lines.size());
  for (auto& w : out_words) {
    w.id = id++;
    out_lines.push_back(std::move(w));
  }
  return out_lines;
}

Result<std::vector<TextDetection>> TextService::DetectText(const Image& image,
                                                           const TextOptions& opts) {
  auto lines = reader_->Read(image.bgr);
  if (!lines.ok()) return lines.status();
  return Filter(lines.value(), image.bgr.size(), opts);
}

}  // namespace argus::service
