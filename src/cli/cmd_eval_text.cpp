// `argus eval text`: argus's text pipeline against Debian's Tesseract on
// MMOCR-format data (word crops with transcriptions, scene images with
// word polygons).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>

#include "cli/cmd_vision.h"
#include "core/image.h"
#include "service/text.h"

namespace argus::cli {
namespace {

using nlohmann::json;

std::u32string Utf32(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    char32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (s[i + k] & 0x3f);
    out.push_back(cp);
    i += n;
  }
  return out;
}

size_t EditDistance(const std::u32string& a, const std::u32string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string w; ss >> w;) out.push_back(w);
  return out;
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs `tesseract IMAGE stdout ARGS`; false when it could not run.
bool Tesseract(const std::string& image, const std::string& args, std::string& out) {
  std::string cmd = "tesseract " + ShellQuote(image) + " stdout " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return false;
  out.clear();
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  return pclose(p) == 0;
}

bool HaveTesseract() {
  FILE* p = popen("tesseract --version >/dev/null 2>&1 && echo yes", "r");
  if (!p) return false;
  char buf[8] = {0};
  bool yes = fgets(buf, sizeof buf, p) != nullptr;
  pclose(p);
  return yes;
}

// Words with boxes from Tesseract's TSV output (level 5 rows).
std::vector<std::pair<std::string, cv::Rect>> TesseractWords(const std::string& tsv) {
  std::vector<std::pair<std::string, cv::Rect>> out;
  std::stringstream ss(tsv);
  std::string line;
  std::getline(ss, line);  // header
  while (std::getline(ss, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string x; std::getline(ls, x, '\t');) f.push_back(x);
    if (f.size() < 12 || f[0] != "5") continue;
    std::string text = Trim(f[11]);
    if (text.empty()) continue;
    out.push_back(
        {text, cv::Rect(std::stoi(f[6]), std::stoi(f[7]), std::stoi(f[8]), std::stoi(f[9]))});
  }
  return out;
}

float PolyIoU(const std::vector<cv::Point2f>& a, const std::vector<cv::Point2f>& b) {
  std::vector<cv::Point2f> ha, hb, inter;
  cv::convexHull(a, ha);
  cv::convexHull(b, hb);
  float i = cv::intersectConvexConvex(ha, hb, inter, true);
  if (i <= 0) return 0.f;
  double u = cv::contourArea(ha) + cv::contourArea(hb) - i;
  return u > 0 ? float(i / u) : 0.f;
}

struct RecogScore {
  int words = 0, found = 0;
  size_t chars = 0, errors = 0;
  double ms = 0;
  int runs = 0;
  void Add(const std::string& truth, const std::string& predicted, bool any_word) {
    ++words;
    auto pw = Words(predicted);
    bool hit = false;
    for (const auto& w : pw) hit |= Lower(w) == Lower(truth);
    if (!any_word) hit = Lower(Trim(predicted)) == Lower(truth);
    found += hit;
    std::u32string t = Utf32(truth), p = Utf32(Trim(predicted));
    chars += t.size();
    errors += std::min(EditDistance(t, p), t.size());
  }
  json Json() const {
    return {{"words", words},
            {"word_recall", words ? double(found) / words : 0.0},
            {"char_accuracy", chars ? 1.0 - double(errors) / chars : 0.0},
            {"ms_per_image", runs ? ms / runs : 0.0}};
  }
};

struct DetScore {
  int truths = 0, predictions = 0, true_pos = 0;
  double ms = 0;
  int runs = 0;
  void Add(const std::vector<std::vector<cv::Point2f>>& gt, const std::vector<bool>& ignore,
           const std::vector<std::vector<cv::Point2f>>& pred) {
    std::vector<bool> used(gt.size(), false);
    for (const auto& p : pred) {
      int best = -1;
      float best_iou = 0.5f;
      for (size_t g = 0; g < gt.size(); ++g) {
        if (used[g]) continue;
        float iou = PolyIoU(p, gt[g]);
        if (iou >= best_iou) best_iou = iou, best = int(g);
      }
      if (best >= 0 && ignore[best]) {
        used[best] = true;  // predictions on "don't care" text count neither way
        continue;
      }
      ++predictions;
      if (best >= 0) {
        used[best] = true;
        ++true_pos;
      }
    }
    for (size_t g = 0; g < gt.size(); ++g) truths += !ignore[g];
  }
  json Json() const {
    double r = truths ? double(true_pos) / truths : 0.0;
    double p = predictions ? double(true_pos) / predictions : 0.0;
    return {{"words", truths},
            {"recall", r},
            {"precision", p},
            {"hmean", r + p > 0 ? 2 * r * p / (r + p) : 0.0},
            {"ms_per_image", runs ? ms / runs : 0.0}};
  }
};

template <typename F>
double TimeMs(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int CmdEvalText(const Args& a) {
  std::string data = a.Get("data", "");
  if (data.empty()) {
    std::fprintf(stderr,
                 "usage: argus eval text --data DIR [--tesseract auto|none] [--json]\n"
                 "  DIR/word-crops/labels.json (MMOCR textrecog) and/or\n"
                 "  DIR/icdar2015-det-toy/textdet_test.json (MMOCR textdet)\n");
    return 2;
  }
  ApplyThreads(a);
  ml::Registry registry(ModelDir(a));
  auto reader = vision::TextReader::Create(registry);
  if (!reader.ok()) {
    std::fprintf(stderr, "argus: %s\n", reader.status().message().c_str());
    return 1;
  }
  const bool tess = a.Get("tesseract", "auto") != "none" && HaveTesseract();
  json report = {{"tesseract", tess}};

  // Word crops: recognition with and without detection.
  std::string crops_dir = data + "/word-crops";
  if (auto labels = ReadFile(crops_dir + "/labels.json"); labels.ok()) {
    json j = json::parse(labels.value(), nullptr, false);
    RecogScore e2e, rec, t7, t3;
    json items = json::array();
    for (const auto& item : j.value("data_list", json::array())) {
      std::string path = crops_dir + "/imgs/" + item.value("img_path", "");
      std::string truth = item["instances"][0].value("text", "");
      cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
      if (img.empty() || truth.empty()) continue;
      std::string text;
      e2e.ms += TimeMs([&] {
        auto lines = reader.value()->Read(img);
        text.clear();
        if (lines.ok())
          for (const auto& l : lines.value()) text += (text.empty() ? "" : " ") + l.text;
      });
      ++e2e.runs;
      e2e.Add(truth, text, true);
      rec.ms += TimeMs([&] {
        auto r = reader.value()->Recognize({img});
        text = r.ok() ? r.value()[0].text : "";
      });
      ++rec.runs;
      rec.Add(truth, text, false);
      json row = {
          {"image", item.value("img_path", "")}, {"truth", truth}, {"argus_recogniser", text}};
      if (tess) {
        t7.ms += TimeMs([&] { Tesseract(path, "--psm 7", text); });
        ++t7.runs;
        t7.Add(truth, text, false);
        row["tesseract_psm7"] = Trim(text);
        t3.ms += TimeMs([&] { Tesseract(path, "--psm 3", text); });
        ++t3.runs;
        t3.Add(truth, text, true);
        row["tesseract_psm3"] = Trim(text);
      }
      items.push_back(row);
    }
    report["word_crops"] = {{"argus DetectText", e2e.Json()},
                            {"argus recogniser only", rec.Json()}};
    report["word_crop_items"] = items;
    if (tess) {
      report["word_crops"]["tesseract --psm 7"] = t7.Json();
      report["word_crops"]["tesseract --psm 3"] = t3.Json();
    }
  }

  // Scene images: word detection against polygons (no transcriptions).
  std::string det_dir = data + "/icdar2015-det-toy";
  if (auto ann = ReadFile(det_dir + "/textdet_test.json"); ann.ok()) {
    json j = json::parse(ann.value(), nullptr, false);
    DetScore ours, t11, t3;
    for (const auto& item : j.value("data_list", json::array())) {
      std::string path = det_dir + "/" + item.value("img_path", "");
      cv::Mat img = cv::imread(path, cv::IMREAD_COLOR);
      if (img.empty()) continue;
      std::vector<std::vector<cv::Point2f>> gt;
      std::vector<bool> ignore;
      for (const auto& inst : item["instances"]) {
        std::vector<cv::Point2f> poly;
        const auto& p = inst["polygon"];
        for (size_t k = 0; k + 1 < p.size(); k += 2)
          poly.emplace_back(p[k].get<float>(), p[k + 1].get<float>());
        gt.push_back(poly);
        ignore.push_back(inst.value("ignore", false));
      }
      std::vector<std::vector<cv::Point2f>> pred;
      ours.ms += TimeMs([&] {
        auto lines = reader.value()->Read(img);
        if (lines.ok())
          for (const auto& l : lines.value())
            for (const auto& w : l.words) pred.emplace_back(w.quad.begin(), w.quad.end());
      });
      ++ours.runs;
      ours.Add(gt, ignore, pred);
      if (tess) {
        for (auto [args, score] :
             {std::pair{"--psm 11 tsv", &t11}, std::pair{"--psm 3 tsv", &t3}}) {
          std::string tsv;
          score->ms += TimeMs([&] { Tesseract(path, args, tsv); });
          ++score->runs;
          std::vector<std::vector<cv::Point2f>> tp;
          for (const auto& [text, r] : TesseractWords(tsv)) {
            // Tesseract also reports boxes of noise; keep those with a letter or digit.
            if (std::none_of(text.begin(), text.end(),
                             [](char c) { return std::isalnum((unsigned char)c); }))
              continue;
            tp.push_back({cv::Point2f(r.x, r.y), cv::Point2f(r.x + r.width, r.y),
                          cv::Point2f(r.x + r.width, r.y + r.height),
                          cv::Point2f(r.x, r.y + r.height)});
          }
          score->Add(gt, ignore, tp);
        }
      }
    }
    report["scene_detection"] = {{"argus DetectText words", ours.Json()}};
    if (tess) {
      report["scene_detection"]["tesseract --psm 11"] = t11.Json();
      report["scene_detection"]["tesseract --psm 3"] = t3.Json();
    }
  }
  if (!report.contains("word_crops") && !report.contains("scene_detection")) {
    std::fprintf(stderr,
                 "argus eval text: no word-crops/labels.json or "
                 "icdar2015-det-toy/textdet_test.json under %s\n",
                 data.c_str());
    return 1;
  }
  if (a.Has("json")) {
    std::printf("%s\n", report.dump(2).c_str());
    return 0;
  }
  if (!tess) std::printf("(tesseract not installed or disabled: argus only)\n");
  if (report.contains("word_crops")) {
    std::printf("word crops (%s):\n", crops_dir.c_str());
    std::printf("  %-26s %6s %12s %15s %10s\n", "system", "words", "word recall", "char accuracy",
                "ms/image");
    for (const auto& [name, s] : report["word_crops"].items())
      std::printf("  %-26s %6d %12.3f %15.3f %10.1f\n", name.c_str(), s["words"].get<int>(),
                  s["word_recall"].get<double>(), s["char_accuracy"].get<double>(),
                  s["ms_per_image"].get<double>());
  }
  if (report.contains("scene_detection")) {
    std::printf("scene word detection, IoU >= 0.5 (%s):\n", det_dir.c_str());
    std::printf("  %-26s %6s %8s %10s %7s %10s\n", "system", "words", "recall", "precision",
                "hmean", "ms/image");
    for (const auto& [name, s] : report["scene_detection"].items())
      std::printf("  %-26s %6d %8.3f %10.3f %7.3f %10.1f\n", name.c_str(), s["words"].get<int>(),
                  s["recall"].get<double>(), s["precision"].get<double>(), s["hmean"].get<double>(),
                  s["ms_per_image"].get<double>());
  }
  return 0;
}

}  // namespace argus::cli
