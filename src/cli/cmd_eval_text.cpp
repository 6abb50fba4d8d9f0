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

#include "bench/ops_bench.h"
#include "cli/cmd_vision.h"
#include "cli/eval_text.h"
#include "core/image.h"
#include "ml/manifest.h"

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

template <typename F>
double TimeMs(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

float PolyIoU(const Polygon& a, const Polygon& b) {
  std::vector<cv::Point2f> ha, hb, inter;
  cv::convexHull(a, ha);
  cv::convexHull(b, hb);
  float i = cv::intersectConvexConvex(ha, hb, inter, true);
  if (i <= 0) return 0.f;
  double u = cv::contourArea(ha) + cv::contourArea(hb) - i;
  return u > 0 ? float(i / u) : 0.f;
}

void DetScore::Add(const std::vector<Polygon>& gt, const std::vector<bool>& ignore,
                   const std::vector<Polygon>& pred) {
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

json DetScore::Json() const {
  double r = truths ? double(true_pos) / truths : 0.0;
  double p = predictions ? double(true_pos) / predictions : 0.0;
  return {{"words", truths},
          {"recall", r},
          {"precision", p},
          {"hmean", r + p > 0 ? 2 * r * p / (r + p) : 0.0},
          {"ms_per_image", runs ? ms / runs : 0.0}};
}

namespace {

// Reads the word crops and the scene images of DIR, and makes the printed
// image of `argus bench ops` from the photo.
TextEvalData LoadTextData(const std::string& data, const std::string& photo_path) {
  TextEvalData d;
  if (auto labels = ReadFile(data + "/word-crops/labels.json"); labels.ok()) {
    json j = json::parse(labels.value(), nullptr, false);
    for (const auto& item : j.value("data_list", json::array())) {
      TextSample s;
      s.name = item.value("img_path", "");
      s.bgr = cv::imread(data + "/word-crops/imgs/" + s.name, cv::IMREAD_COLOR);
      const json inst = item.value("instances", json::array());
      s.truth = inst.empty() ? "" : inst[0].value("text", "");
      if (!s.bgr.empty() && !s.truth.empty()) d.crops.push_back(std::move(s));
    }
  }
  if (auto ann = ReadFile(data + "/icdar2015-det-toy/textdet_test.json"); ann.ok()) {
    json j = json::parse(ann.value(), nullptr, false);
    for (const auto& item : j.value("data_list", json::array())) {
      TextSample s;
      s.name = item.value("img_path", "");
      s.bgr = cv::imread(data + "/icdar2015-det-toy/" + s.name, cv::IMREAD_COLOR);
      if (s.bgr.empty()) continue;
      for (const auto& inst : item.value("instances", json::array())) {
        Polygon poly;
        const json p = inst.value("polygon", json::array());
        for (size_t k = 0; k + 1 < p.size(); k += 2)
          poly.emplace_back(p[k].get<float>(), p[k + 1].get<float>());
        if (poly.size() < 3) continue;
        s.gt.push_back(poly);
        s.ignore.push_back(inst.value("ignore", false));
      }
      d.scenes.push_back(std::move(s));
    }
  }
  cv::Mat photo = cv::imread(photo_path, cv::IMREAD_COLOR);
  if (!photo.empty()) {
    // As `argus bench ops` sends it: 640x480, JPEG quality 92.
    cv::resize(photo, photo, cv::Size(640, 480), 0, 0, cv::INTER_AREA);
    std::vector<uchar> jpg;
    cv::imencode(".jpg", bench::OpsTextImage(photo), jpg, {cv::IMWRITE_JPEG_QUALITY, 92});
    d.printed.name = "bench-ops-text.jpg";
    d.printed.bgr = cv::imdecode(jpg, cv::IMREAD_COLOR);
    d.printed_lines = bench::OpsTextLines();
  }
  return d;
}

}  // namespace

int CmdEvalText(const Args& a) {
  std::string data = a.Get("data", "");
  if (data.empty()) {
    std::fprintf(stderr,
                 "usage: argus eval text --data DIR [--tesseract auto|none] [--peer] "
                 "[--image PHOTO] [--json]\n"
                 "  DIR/word-crops/labels.json (MMOCR textrecog) and/or\n"
                 "  DIR/icdar2015-det-toy/textdet_test.json (MMOCR textdet)\n");
    return 2;
  }
  ApplyThreads(a);
  const std::string model_dir = ModelDir(a);
  ml::Registry registry(model_dir);
  auto reader = vision::TextReader::Create(registry);
  auto service = service::TextService::Create(registry);
  if (!reader.ok() || !service.ok()) {
    std::fprintf(stderr, "argus: %s\n",
                 (reader.ok() ? service.status() : reader.status()).message().c_str());
    return 1;
  }
  const std::string photo =
      a.Get("image", ml::PackageRoot(model_dir, "@vladmandic/face-api") + "/demo/sample1.jpg");
  const TextEvalData set = LoadTextData(data, photo);
  if (set.crops.empty() && set.scenes.empty()) {
    std::fprintf(stderr,
                 "argus eval text: no word-crops/labels.json or "
                 "icdar2015-det-toy/textdet_test.json under %s\n",
                 data.c_str());
    return 1;
  }
  const bool tess = a.Get("tesseract", "auto") != "none" && HaveTesseract();
  json report = {{"tesseract", tess}};
  const std::string crops_dir = data + "/word-crops", det_dir = data + "/icdar2015-det-toy";

  // Word crops: recognition with and without detection.
  if (!set.crops.empty()) {
    RecogScore e2e, rec, t7, t3;
    json items = json::array();
    for (const auto& s : set.crops) {
      const std::string path = crops_dir + "/imgs/" + s.name;
      const cv::Mat& img = s.bgr;
      const std::string& truth = s.truth;
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
      json row = {{"image", s.name}, {"truth", truth}, {"argus_recogniser", text}};
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
  if (!set.scenes.empty()) {
    DetScore ours, t11, t3;
    for (const auto& s : set.scenes) {
      const std::string path = det_dir + "/" + s.name;
      const cv::Mat& img = s.bgr;
      const std::vector<Polygon>& gt = s.gt;
      const std::vector<bool>& ignore = s.ignore;
      std::vector<Polygon> pred;
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
          std::vector<Polygon> tp;
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
  // Word-level exact match, argus's DetectText and (--peer) the
  // @gutenye/ocr-node pipeline on the same pixels.
  bench::OcrPeerOptions peer{
      .model_dir = model_dir, .peer_src = a.Get("peer-src"), .peer_dir = a.Get("peer-dir")};
  json words;
  if (!WordMatch(*service.value(), set, a.Has("peer") ? &peer : nullptr, &words)) return 1;
  report["word_match"] = words;
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
  PrintWordMatch(report["word_match"]);
  return 0;
}

}  // namespace argus::cli
