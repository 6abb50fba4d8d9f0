#include "eval/portraits.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/geometry.h"
#include "core/image.h"
#include "eval/progress.h"

namespace argus::eval {
namespace {

using nlohmann::json;

// A derived portrait: the new image and where the face went in it.
struct Derived {
  cv::Mat bgr;
  cv::Rect2f face;
};

cv::Mat Scale(const cv::Mat& bgr, double gain, double offset) {
  cv::Mat out;
  bgr.convertTo(out, -1, gain, offset);
  return out;
}

cv::Mat Grey(const cv::Mat& bgr) {
  cv::Mat g, out;
  cv::cvtColor(bgr, g, cv::COLOR_BGR2GRAY);
  cv::cvtColor(g, out, cv::COLOR_GRAY2BGR);
  return out;
}

// Contrast squeezed around the image's mean, to `k` of what it was.
cv::Mat LowContrast(const cv::Mat& bgr, double k) {
  const double mean = cv::mean(cv::Mat(bgr.reshape(1)))[0];
  return Scale(bgr, k, (1 - k) * mean);
}

// Gamma darkening: v' = 255 (v / 255)^g, shadows crushed first.
cv::Mat Gamma(const cv::Mat& bgr, double g) {
  cv::Mat lut(1, 256, CV_8U);
  for (int i = 0; i < 256; ++i)
    lut.at<uchar>(i) = cv::saturate_cast<uchar>(255.0 * std::pow(i / 255.0, g));
  cv::Mat out;
  cv::LUT(bgr, lut, out);
  return out;
}

// The face filling the frame: a crop `margin` times the face's size around
// its centre (inside the image), as ID and mugshot photos are framed.
Derived Tight(const cv::Mat& bgr, const cv::Rect2f& face, float margin) {
  const cv::Point2f c(face.x + face.width / 2, face.y + face.height / 2);
  const float side = std::max(face.width, face.height) * margin;
  cv::Rect r(int(c.x - side / 2), int(c.y - side * 0.45f), int(side), int(side * 1.15f));
  r &= cv::Rect(0, 0, bgr.cols, bgr.rows);
  Derived d{bgr(r).clone(), face};
  d.face.x -= float(r.x);
  d.face.y -= float(r.y);
  return d;
}

struct Variant {
  const char* name;
  std::function<Derived(const cv::Mat&, const cv::Rect2f&)> make;
};

std::vector<Variant> Variants() {
  auto same = [](cv::Mat (*f)(const cv::Mat&)) {
    return [f](const cv::Mat& m, const cv::Rect2f& face) { return Derived{f(m), face}; };
  };
  return {
      {"dark", same([](const cv::Mat& m) { return Scale(m, 0.25, 0); })},
      {"very-dark", same([](const cv::Mat& m) { return Scale(m, 0.12, 0); })},
      {"gamma-dark", same([](const cv::Mat& m) { return Gamma(m, 2.5); })},
      {"low-contrast", same([](const cv::Mat& m) { return LowContrast(m, 0.3); })},
      {"greyscale", same(&Grey)},
      {"grey-dark-low-contrast",
       same([](const cv::Mat& m) { return Scale(LowContrast(Grey(m), 0.5), 0.35, 0); })},
      {"tight", [](const cv::Mat& m, const cv::Rect2f& f) { return Tight(m, f, 1.15f); }},
      {"tight-grey-dark",
       [](const cv::Mat& m, const cv::Rect2f& f) {
         Derived d = Tight(m, f, 1.15f);
         d.bgr = Scale(Grey(d.bgr), 0.3, 0);
         return d;
       }},
      {"tight-low-contrast",
       [](const cv::Mat& m, const cv::Rect2f& f) {
         Derived d = Tight(m, f, 1.3f);
         d.bgr = Gamma(LowContrast(Grey(d.bgr), 0.4), 1.8);
         return d;
       }},
  };
}

// The largest clear face (confidence 90 or more): what the derived
// portraits are made of. A weak detection, often a second face half seen,
// is no portrait.
const service::FaceDetail* LargestClear(const std::vector<service::FaceDetail>& faces) {
  const service::FaceDetail* best = nullptr;
  for (const auto& f : faces)
    if (f.confidence >= 90.f && (!best || f.box.area() > best->box.area())) best = &f;
  return best;
}

}  // namespace

Result<json> RunPortraits(service::FaceService& faces, const std::string& images_dir, int limit) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(images_dir, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      names.push_back(e.path().filename().string());
  }
  if (ec) return InvalidParameter("cannot read " + images_dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  if (limit > 0 && names.size() > size_t(limit)) names.resize(size_t(limit));
  const auto variants = Variants();
  // Per variant, [0] portraits (the clear face is the only face found) and
  // [1] group photos (other faces too).
  struct Counts {
    int tried = 0, missed = 0, too_small = 0;
    json examples = json::array();
  };
  std::vector<std::array<Counts, 2>> counts(variants.size());
  int portraits = 0;
  int no_face = 0, unreadable = 0;
  Progress progress("portraits", names.size());
  for (const auto& name : names) {
    progress.Tick();
    auto bytes = ReadFile(images_dir + "/" + name);
    auto img = bytes.ok() ? DecodeImage(bytes.value()) : Result<Image>(bytes.status());
    if (!img.ok()) {
      ++unreadable;
      continue;
    }
    auto found = faces.DetectFaces(img.value());
    const service::FaceDetail* ref = found.ok() ? LargestClear(found.value()) : nullptr;
    if (!ref) {
      ++no_face;
      continue;
    }
    const size_t kind = found->size() == 1 ? 0 : 1;
    portraits += kind == 0;
    for (size_t v = 0; v < variants.size(); ++v) {
      Derived d = variants[v].make(img->bgr, ref->box);
      // Below the API's smallest image (80 pixels a side): not a portrait
      // a client could send.
      if (std::min(d.bgr.cols, d.bgr.rows) < 80) {
        ++counts[v][kind].too_small;
        continue;
      }
      Image derived;
      derived.bgr = d.bgr;
      auto seen = faces.DetectFaces(derived);
      const bool hit = seen.ok() && std::any_of(seen->begin(), seen->end(), [&](const auto& f) {
                         return IoU(f.box, d.face) >= 0.3f;
                       });
      Counts& c = counts[v][kind];
      ++c.tried;
      if (!hit) {
        ++c.missed;
        if (c.examples.size() < 10) c.examples.push_back(name);
      }
    }
  }
  progress.Done();
  json per = json::object();
  int portrait_misses = 0, group_misses = 0;
  for (size_t v = 0; v < variants.size(); ++v) {
    json kinds = json::object();
    for (size_t k = 0; k < 2; ++k) {
      const Counts& c = counts[v][k];
      kinds[k == 0 ? "portraits" : "group_photos"] = {{"images", c.tried},
                                                      {"missed", c.missed},
                                                      {"below_80_pixels", c.too_small},
                                                      {"examples", c.examples}};
    }
    per[variants[v].name] = kinds;
    portrait_misses += counts[v][0].missed;
    group_misses += counts[v][1].missed;
  }
  return json{{"images", names.size()},
              {"no_clear_face_in_original", no_face},
              {"portraits", portraits},
              {"group_photos", int(names.size()) - no_face - unreadable - portraits},
              {"unreadable", unreadable},
              {"variants", per},
              {"portrait_misses", portrait_misses},
              {"group_photo_misses", group_misses},
              {"detector", faces.DetectorName()}};
}

}  // namespace argus::eval
