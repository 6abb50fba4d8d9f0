#include <algorithm>
#include <cmath>
#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "vision/labels/labels.h"

namespace argus::vision {
namespace {

struct Named {
  const char* name;
  uint32_t rgb;
};

// CSS Color Module Level 4 named colours (synonyms gray/grey, aqua/cyan and
// fuchsia/magenta listed once).
constexpr Named kCss[] = {
    {"aliceblue", 0xF0F8FF},
    {"antiquewhite", 0xFAEBD7},
    {"aqua", 0x00FFFF},
    {"aquamarine", 0x7FFFD4},
    {"azure", 0xF0FFFF},
    {"beige", 0xF5F5DC},
    {"bisque", 0xFFE4C4},
    {"black", 0x000000},
    {"blanchedalmond", 0xFFEBCD},
    {"blue", 0x0000FF},
    {"blueviolet", 0x8A2BE2},
    {"brown", 0xA52A2A},
    {"burlywood", 0xDEB887},
    {"cadetblue", 0x5F9EA0},
    {"chartreuse", 0x7FFF00},
    {"chocolate", 0xD2691E},
    {"coral", 0xFF7F50},
    {"cornflowerblue", 0x6495ED},
    {"cornsilk", 0xFFF8DC},
    {"crimson", 0xDC143C},
    {"darkblue", 0x00008B},
    {"darkcyan", 0x008B8B},
    {"darkgoldenrod", 0xB8860B},
    {"darkgray", 0xA9A9A9},
    {"darkgreen", 0x006400},
    {"darkkhaki", 0xBDB76B},
    {"darkmagenta", 0x8B008B},
    {"darkolivegreen", 0x556B2F},
    {"darkorange", 0xFF8C00},
    {"darkorchid", 0x9932CC},
    {"darkred", 0x8B0000},
    {"darksalmon", 0xE9967A},
    {"darkseagreen", 0x8FBC8F},
    {"darkslateblue", 0x483D8B},
    {"darkslategray", 0x2F4F4F},
    {"darkturquoise", 0x00CED1},
    {"darkviolet", 0x9400D3},
    {"deeppink", 0xFF1493},
    {"deepskyblue", 0x00BFFF},
    {"dimgray", 0x696969},
    {"dodgerblue", 0x1E90FF},
    {"firebrick", 0xB22222},
    {"floralwhite", 0xFFFAF0},
    {"forestgreen", 0x228B22},
    {"fuchsia", 0xFF00FF},
    {"gainsboro", 0xDCDCDC},
    {"ghostwhite", 0xF8F8FF},
    {"gold", 0xFFD700},
    {"goldenrod", 0xDAA520},
    {"gray", 0x808080},
    {"green", 0x008000},
    {"greenyellow", 0xADFF2F},
    {"honeydew", 0xF0FFF0},
    {"hotpink", 0xFF69B4},
    {"indianred", 0xCD5C5C},
    {"indigo", 0x4B0082},
    {"ivory", 0xFFFFF0},
    {"khaki", 0xF0E68C},
    {"lavender", 0xE6E6FA},
    {"lavenderblush", 0xFFF0F5},
    {"lawngreen", 0x7CFC00},
    {"lemonchiffon", 0xFFFACD},
    {"lightblue", 0xADD8E6},
    {"lightcoral", 0xF08080},
    {"lightcyan", 0xE0FFFF},
    {"lightgoldenrodyellow", 0xFAFAD2},
    {"lightgray", 0xD3D3D3},
    {"lightgreen", 0x90EE90},
    {"lightpink", 0xFFB6C1},
    {"lightsalmon", 0xFFA07A},
    {"lightseagreen", 0x20B2AA},
    {"lightskyblue", 0x87CEFA},
    {"lightslategray", 0x778899},
    {"lightsteelblue", 0xB0C4DE},
    {"lightyellow", 0xFFFFE0},
    {"lime", 0x00FF00},
    {"limegreen", 0x32CD32},
    {"linen", 0xFAF0E6},
    {"maroon", 0x800000},
    {"mediumaquamarine", 0x66CDAA},
    {"mediumblue", 0x0000CD},
    {"mediumorchid", 0xBA55D3},
    {"mediumpurple", 0x9370DB},
    {"mediumseagreen", 0x3CB371},
    {"mediumslateblue", 0x7B68EE},
    {"mediumspringgreen", 0x00FA9A},
    {"mediumturquoise", 0x48D1CC},
    {"mediumvioletred", 0xC71585},
    {"midnightblue", 0x191970},
    {"mintcream", 0xF5FFFA},
    {"mistyrose", 0xFFE4E1},
    {"moccasin", 0xFFE4B5},
    {"navajowhite", 0xFFDEAD},
    {"navy", 0x000080},
    {"oldlace", 0xFDF5E6},
    {"olive", 0x808000},
    {"olivedrab", 0x6B8E23},
    {"orange", 0xFFA500},
    {"orangered", 0xFF4500},
    {"orchid", 0xDA70D6},
    {"palegoldenrod", 0xEEE8AA},
    {"palegreen", 0x98FB98},
    {"paleturquoise", 0xAFEEEE},
    {"palevioletred", 0xDB7093},
    {"papayawhip", 0xFFEFD5},
    {"peachpuff", 0xFFDAB9},
    {"peru", 0xCD853F},
    {"pink", 0xFFC0CB},
    {"plum", 0xDDA0DD},
    {"powderblue", 0xB0E0E6},
    {"purple", 0x800080},
    {"rebeccapurple", 0x663399},
    {"red", 0xFF0000},
    {"rosybrown", 0xBC8F8F},
    {"royalblue", 0x4169E1},
    {"saddlebrown", 0x8B4513},
    {"salmon", 0xFA8072},
    {"sandybrown", 0xF4A460},
    {"seagreen", 0x2E8B57},
    {"seashell", 0xFFF5EE},
    {"sienna", 0xA0522D},
    {"silver", 0xC0C0C0},
    {"skyblue", 0x87CEEB},
    {"slateblue", 0x6A5ACD},
    {"slategray", 0x708090},
    {"snow", 0xFFFAFA},
    {"springgreen", 0x00FF7F},
    {"steelblue", 0x4682B4},
    {"tan", 0xD2B48C},
    {"teal", 0x008080},
    {"thistle", 0xD8BFD8},
    {"tomato", 0xFF6347},
    {"turquoise", 0x40E0D0},
    {"violet", 0xEE82EE},
    {"wheat", 0xF5DEB3},
    {"white", 0xFFFFFF},
    {"whitesmoke", 0xF5F5F5},
    {"yellow", 0xFFFF00},
    {"yellowgreen", 0x9ACD32},
};

// sRGB 0..255 → CIELAB (D65).
cv::Vec3f Lab(cv::Vec3b rgb) {
  auto lin = [](float c) {
    c /= 255.f;
    return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f);
  };
  float r = lin(rgb[0]), g = lin(rgb[1]), b = lin(rgb[2]);
  float x = (0.4124564f * r + 0.3575761f * g + 0.1804375f * b) / 0.95047f;
  float y = 0.2126729f * r + 0.7151522f * g + 0.0721750f * b;
  float z = (0.0193339f * r + 0.1191920f * g + 0.9503041f * b) / 1.08883f;
  auto f = [](float t) { return t > 0.008856f ? std::cbrt(t) : 7.787f * t + 16.f / 116.f; };
  float fx = f(x), fy = f(y), fz = f(z);
  return {116.f * fy - 16.f, 500.f * (fx - fy), 200.f * (fy - fz)};
}

cv::Vec3b Rgb(uint32_t v) { return {uchar(v >> 16), uchar((v >> 8) & 255), uchar(v & 255)}; }

float Dist2(const cv::Vec3f& a, const cv::Vec3f& b) {
  cv::Vec3f d = a - b;
  return d.dot(d);
}

}  // namespace

std::string CssColorName(cv::Vec3b rgb) {
  static const std::vector<cv::Vec3f> labs = [] {
    std::vector<cv::Vec3f> v;
    for (const auto& c : kCss) v.push_back(Lab(Rgb(c.rgb)));
    return v;
  }();
  cv::Vec3f lab = Lab(rgb);
  size_t best = 0;
  for (size_t i = 1; i < labs.size(); ++i)
    if (Dist2(lab, labs[i]) < Dist2(lab, labs[best])) best = i;
  return kCss[best].name;
}

const std::vector<std::string>& SimplifiedColorNames() {
  static const std::vector<std::string> names = {"black",  "white", "grey",   "red",
                                                 "orange", "brown", "yellow", "green",
                                                 "teal",   "blue",  "purple", "pink"};
  return names;
}

std::string SimplifiedColorName(cv::Vec3b rgb) {
  float r = rgb[0] / 255.f, g = rgb[1] / 255.f, b = rgb[2] / 255.f;
  float mx = std::max({r, g, b}), mn = std::min({r, g, b});
  float v = mx, s = mx > 0 ? (mx - mn) / mx : 0.f, chroma = mx - mn;
  if (v < 0.16f) return "black";
  if (chroma < 0.09f || s < 0.12f) {
    if (v > 0.86f) return "white";
    if (v < 0.24f) return "black";
    return "grey";
  }
  float h;  // hue in degrees
  if (mx == r)
    h = 60.f * std::fmod((g - b) / chroma, 6.f);
  else if (mx == g)
    h = 60.f * ((b - r) / chroma + 2.f);
  else
    h = 60.f * ((r - g) / chroma + 4.f);
  if (h < 0) h += 360.f;
  if (h < 15.f || h >= 345.f) return (s < 0.5f && v > 0.7f) ? "pink" : "red";
  if (h < 45.f) return (v < 0.65f || s < 0.5f) ? "brown" : "orange";
  if (h < 70.f) return v < 0.55f ? "brown" : "yellow";
  if (h < 165.f) return "green";
  if (h < 195.f) return "teal";
  if (h < 260.f) return "blue";
  if (h < 300.f) return "purple";
  if (h < 330.f) return v < 0.6f ? "purple" : "pink";
  return (s > 0.85f && v < 0.75f) ? "red" : "pink";
}

std::vector<DominantColor> DominantColors(const cv::Mat& bgr, int max_colors, const cv::Mat& mask) {
  std::vector<DominantColor> out;
  if (bgr.empty() || max_colors <= 0) return out;
  // Subsample to about 16k pixels for speed (nearest: only colours that occur).
  double f = std::min(1.0, std::sqrt(16384.0 / double(bgr.total())));
  cv::Mat small, small_mask, lab;
  cv::resize(bgr, small, cv::Size(), f, f, cv::INTER_NEAREST);
  if (!mask.empty()) cv::resize(mask, small_mask, small.size(), 0, 0, cv::INTER_NEAREST);
  // Float input: OpenCV gives L 0..100 and signed a, b without quantisation.
  small.convertTo(small, CV_32F, 1.0 / 255);
  cv::cvtColor(small, lab, cv::COLOR_BGR2Lab);
  std::vector<cv::Vec3f> pts;
  pts.reserve(lab.total());
  for (int y = 0; y < lab.rows; ++y) {
    const cv::Vec3f* row = lab.ptr<cv::Vec3f>(y);
    const uchar* m = small_mask.empty() ? nullptr : small_mask.ptr<uchar>(y);
    for (int x = 0; x < lab.cols; ++x)
      if (!m || m[x]) pts.push_back(row[x]);
  }
  if (pts.size() < 4) return out;
  const int k = std::min<int>(std::max(max_colors, 10), std::min<int>(20, int(pts.size())));
  cv::Mat data(int(pts.size()), 3, CV_32F, pts.data()), labels, centers;
  cv::RNG& rng = cv::theRNG();
  const uint64 saved = rng.state;
  rng.state = 0x5eed;  // deterministic answers for the same image
  cv::kmeans(data, k, labels,
             cv::TermCriteria(cv::TermCriteria::EPS | cv::TermCriteria::COUNT, 20, 0.5), 1,
             cv::KMEANS_PP_CENTERS, centers);
  rng.state = saved;
  std::vector<double> count(k, 0.0);
  for (int i = 0; i < labels.rows; ++i) count[labels.at<int>(i)] += 1.0;
  // Merge clusters closer than a just-noticeable difference (delta E 76 < 6).
  std::vector<cv::Vec3f> c(k);
  for (int i = 0; i < k; ++i) c[i] = centers.at<cv::Vec3f>(i);
  for (int i = 0; i < k; ++i) {
    if (count[i] == 0) continue;
    for (int j = i + 1; j < k; ++j) {
      if (count[j] == 0 || Dist2(c[i], c[j]) > 36.f) continue;
      double n = count[i] + count[j];
      c[i] = (c[i] * float(count[i]) + c[j] * float(count[j])) * float(1.0 / n);
      count[i] = n;
      count[j] = 0;
    }
  }
  std::vector<int> order(k);
  for (int i = 0; i < k; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return count[a] > count[b]; });
  const double total = double(pts.size());
  for (int i : order) {
    if (count[i] == 0 || int(out.size()) >= max_colors) break;
    // Lab → sRGB through OpenCV (float Lab: L 0..100).
    cv::Mat lab1(1, 1, CV_32FC3, cv::Scalar(c[i][0], c[i][1], c[i][2])), bgr1;
    cv::cvtColor(lab1, bgr1, cv::COLOR_Lab2BGR);
    cv::Vec3f p = bgr1.at<cv::Vec3f>(0, 0);
    auto to8 = [](float x) { return uchar(std::clamp(std::lround(x * 255.f), 0L, 255L)); };
    cv::Vec3b rgb(to8(p[2]), to8(p[1]), to8(p[0]));
    DominantColor d;
    d.rgb = rgb;
    d.pixel_percent = float(100.0 * count[i] / total);
    d.css_name = CssColorName(rgb);
    d.simplified = SimplifiedColorName(rgb);
    char hex[8];
    std::snprintf(hex, sizeof hex, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    d.hex = hex;
    out.push_back(std::move(d));
  }
  return out;
}

ImageQuality MeasureImageQuality(const cv::Mat& bgr, const cv::Mat& mask) {
  ImageQuality q;
  if (bgr.empty()) return q;
  // A fixed working size so Sharpness does not depend on the resolution.
  double f = std::min(1.0, 640.0 / std::max(bgr.cols, bgr.rows));
  cv::Mat gray, small, small_mask;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  cv::resize(gray, small, cv::Size(), f, f, cv::INTER_AREA);
  if (!mask.empty()) {
    cv::resize(mask, small_mask, small.size(), 0, 0, cv::INTER_NEAREST);
    if (cv::countNonZero(small_mask) < 16) return q;
  }
  cv::Scalar mean, stddev;
  cv::meanStdDev(small, mean, stddev, small_mask);
  q.brightness = float(mean[0] / 255.0 * 100.0);
  q.contrast = float(std::min(100.0, stddev[0] / 127.5 * 100.0));
  cv::Mat lap;
  cv::Laplacian(small, lap, CV_32F, 3);
  cv::Scalar lmean, lstd;
  cv::meanStdDev(lap, lmean, lstd, small_mask);
  double var = lstd[0] * lstd[0];
  // Same mapping as the face Quality: ~0 for a flat image, ~50 at variance 300.
  q.sharpness = float(100.0 * (1.0 - std::exp(-var / 430.0)));
  return q;
}

}  // namespace argus::vision
