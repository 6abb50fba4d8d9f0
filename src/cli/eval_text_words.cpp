// `argus eval text`: word-level exact match of DetectText's WORD detections
// and of the same weights in their own JavaScript pipeline (the
// @gutenye/ocr-node peer, bench/ocr_peer.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "cli/eval_text.h"
#include "core/image.h"

namespace argus::cli {
namespace {

using nlohmann::json;

struct Word {
  std::string text;
  Polygon quad;
};
using ImageWords = std::vector<Word>;

// One system's words per image.
struct SystemWords {
  std::vector<ImageWords> crops, scenes;
  ImageWords printed;
  double ms = 0;  // all images
  int runs = 0;
};

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Join(const ImageWords& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w.text;
  return s;
}

// The peer's words: each box's text split at spaces, each word the part of
// the box (along its reading direction) that its characters take.
ImageWords PeerWords(const bench::OcrPeerImage& im) {
  ImageWords out;
  for (const auto& b : im.boxes) {
    std::vector<size_t> starts;  // byte offset of each UTF-8 character
    for (size_t i = 0; i < b.text.size(); ++i)
      if ((static_cast<unsigned char>(b.text[i]) & 0xc0) != 0x80) starts.push_back(i);
    const float n = float(starts.size());
    for (size_t k = 0; k < starts.size();) {
      if (b.text[starts[k]] == ' ') {
        ++k;
        continue;
      }
      size_t end = k;
      while (end < starts.size() && b.text[starts[end]] != ' ') ++end;
      const size_t to = end < starts.size() ? starts[end] : b.text.size();
      const float u0 = float(k) / n, u1 = float(end) / n;
      const vision::Quad& q = b.quad;
      out.push_back({b.text.substr(starts[k], to - starts[k]),
                     {vision::QuadPoint(q, u0, 0), vision::QuadPoint(q, u1, 0),
                      vision::QuadPoint(q, u1, 1), vision::QuadPoint(q, u0, 1)}});
      k = end;
    }
  }
  return out;
}

bool ArgusWords(service::TextService& text, const cv::Mat& bgr, SystemWords* s, ImageWords* out) {
  Image image;
  image.bgr = bgr;
  auto t0 = std::chrono::steady_clock::now();
  auto r = text.DetectText(image, service::TextOptions{});
  s->ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ++s->runs;
  if (!r.ok()) {
    std::fprintf(stderr, "argus eval text: DetectText: %s\n", r.status().message().c_str());
    return false;
  }
  for (const auto& d : r.value())
    if (d.type == service::TextDetection::Type::kWord)
      out->push_back({d.text, Polygon(d.quad.begin(), d.quad.end())});
  return true;
}

bool RunArgus(service::TextService& text, const TextEvalData& data, SystemWords* s) {
  s->crops.resize(data.crops.size());
  s->scenes.resize(data.scenes.size());
  for (size_t i = 0; i < data.crops.size(); ++i)
    if (!ArgusWords(text, data.crops[i].bgr, s, &s->crops[i])) return false;
  for (size_t i = 0; i < data.scenes.size(); ++i)
    if (!ArgusWords(text, data.scenes[i].bgr, s, &s->scenes[i])) return false;
  return data.printed.bgr.empty() || ArgusWords(text, data.printed.bgr, s, &s->printed);
}

bool RunPeer(const bench::OcrPeerOptions& o, const TextEvalData& data, SystemWords* s,
             json* versions) {
  std::vector<std::pair<std::string, cv::Mat>> images;
  for (const auto* set : {&data.crops, &data.scenes})
    for (const auto& x : *set) images.emplace_back(x.name, x.bgr);
  if (!data.printed.bgr.empty()) images.emplace_back(data.printed.name, data.printed.bgr);
  std::vector<bench::OcrPeerImage> answers;
  if (!bench::RunOcrPeer(o, images, &answers, versions)) return false;
  size_t k = 0;
  for (size_t i = 0; i < data.crops.size(); ++i) s->crops.push_back(PeerWords(answers[k++]));
  for (size_t i = 0; i < data.scenes.size(); ++i) s->scenes.push_back(PeerWords(answers[k++]));
  if (!data.printed.bgr.empty()) s->printed = PeerWords(answers[k++]);
  for (const auto& a : answers) s->ms += a.ms;
  s->runs = int(answers.size());
  return true;
}

// One system's figures: word crops (its words joined by spaces against the
// transcription), scene words against the polygons, printed words against
// the known lines (each known word matched at most once).
json Score(const TextEvalData& data, const SystemWords& s) {
  int exact = 0, nocase = 0;
  for (size_t i = 0; i < data.crops.size(); ++i) {
    const std::string read = Join(s.crops[i]);
    exact += read == data.crops[i].truth;
    nocase += Lower(read) == Lower(data.crops[i].truth);
  }
  const double n = std::max<size_t>(1, data.crops.size());
  json out = {{"ms_per_image", s.runs ? s.ms / s.runs : 0.0}};
  if (!data.crops.empty())
    out["word_crops"] = {
        {"words", data.crops.size()}, {"exact", exact / n}, {"exact_ignoring_case", nocase / n}};
  if (!data.scenes.empty()) {
    DetScore det;
    for (size_t i = 0; i < data.scenes.size(); ++i) {
      std::vector<Polygon> pred;
      for (const auto& w : s.scenes[i]) pred.push_back(w.quad);
      det.Add(data.scenes[i].gt, data.scenes[i].ignore, pred);
    }
    json d = det.Json();
    d.erase("ms_per_image");
    out["scene_words"] = d;
  }
  if (!data.printed.bgr.empty()) {
    std::vector<bool> used(s.printed.size(), false);
    json missed = json::array(), extra = json::array();
    int words = 0, found = 0;
    for (const auto& line : data.printed_lines) {
      std::stringstream ss(line);
      for (std::string w; ss >> w; ++words) {
        auto it = std::find_if(s.printed.begin(), s.printed.end(), [&](const Word& p) {
          return !used[size_t(&p - s.printed.data())] && p.text == w;
        });
        if (it == s.printed.end()) {
          missed.push_back(w);
          continue;
        }
        used[size_t(it - s.printed.begin())] = true;
        ++found;
      }
    }
    for (size_t i = 0; i < s.printed.size(); ++i)
      if (!used[i]) extra.push_back(s.printed[i].text);
    out["printed"] = {{"words", words},
                      {"exact", words ? double(found) / words : 0.0},
                      {"missed", missed},
                      {"extra", extra}};
  }
  return out;
}

// Scene words of argus and the peer paired by IoU >= 0.5 (greedy, best
// first) and whether their texts are the same.
json Agreement(const TextEvalData& data, const SystemWords& argus, const SystemWords& peer) {
  int ours = 0, theirs = 0, paired = 0, same = 0;
  json differences = json::array();
  for (size_t i = 0; i < data.scenes.size(); ++i) {
    const ImageWords &a = argus.scenes[i], &p = peer.scenes[i];
    ours += int(a.size());
    theirs += int(p.size());
    std::vector<std::tuple<float, size_t, size_t>> pairs;
    for (size_t j = 0; j < a.size(); ++j)
      for (size_t k = 0; k < p.size(); ++k)
        if (float iou = PolyIoU(a[j].quad, p[k].quad); iou >= 0.5f) pairs.emplace_back(iou, j, k);
    std::sort(pairs.rbegin(), pairs.rend());
    std::vector<bool> used_a(a.size(), false), used_p(p.size(), false);
    for (const auto& [iou, j, k] : pairs) {
      if (used_a[j] || used_p[k]) continue;
      used_a[j] = used_p[k] = true;
      ++paired;
      if (a[j].text == p[k].text)
        ++same;
      else
        differences.push_back(
            {{"image", data.scenes[i].name}, {"argus", a[j].text}, {"peer", p[k].text}});
    }
  }
  return {{"argus_words", ours},
          {"peer_words", theirs},
          {"paired", paired},
          {"same_text", same},
          {"agreement", paired ? double(same) / paired : 0.0},
          {"differences", differences}};
}

}  // namespace

bool WordMatch(service::TextService& text, const TextEvalData& data,
               const bench::OcrPeerOptions* peer, json* out) {
  SystemWords argus, theirs;
  if (!RunArgus(text, data, &argus)) return false;
  json versions;
  if (peer && !RunPeer(*peer, data, &theirs, &versions)) return false;
  *out = {{"argus", Score(data, argus)}};
  json items = json::array();
  for (size_t i = 0; i < data.crops.size(); ++i) {
    json row = {{"image", data.crops[i].name},
                {"truth", data.crops[i].truth},
                {"argus", Join(argus.crops[i])}};
    if (peer) row["peer"] = Join(theirs.crops[i]);
    items.push_back(row);
  }
  (*out)["word_crop_items"] = items;
  if (!data.printed.bgr.empty()) (*out)["printed_argus"] = Join(argus.printed);
  if (peer) {
    (*out)["peer"] = Score(data, theirs);
    (*out)["peer"]["versions"] = versions;
    (*out)["printed_peer"] = Join(theirs.printed);
    if (!data.scenes.empty()) (*out)["scene_agreement"] = Agreement(data, argus, theirs);
  }
  return true;
}

void PrintWordMatch(const json& m) {
  std::printf("word-level exact match (DetectText WORD detections):\n");
  std::printf("  %-22s %12s %12s %14s %12s %10s\n", "system", "word crops", "(any case)",
              "scene recall", "printed", "ms/image");
  for (const char* name : {"argus", "peer"}) {
    if (!m.contains(name)) continue;
    const json& s = m[name];
    auto get = [&](const char* part, const char* key) {
      return s.contains(part) ? s[part].value(key, 0.0) : 0.0;
    };
    std::printf("  %-22s %12.3f %12.3f %14.3f %12.3f %10.1f\n",
                std::string(name) == "argus" ? "argus" : "@gutenye/ocr-node",
                get("word_crops", "exact"), get("word_crops", "exact_ignoring_case"),
                get("scene_words", "recall"), get("printed", "exact"),
                s.value("ms_per_image", 0.0));
    if (s.contains("printed") && !s["printed"]["missed"].empty())
      std::printf("    printed, missed: %s; extra: %s\n", s["printed"]["missed"].dump().c_str(),
                  s["printed"]["extra"].dump().c_str());
  }
  if (m.contains("scene_agreement")) {
    const json& a = m["scene_agreement"];
    std::printf(
        "  scene words paired by IoU >= 0.5: %d of %d (argus) / %d (peer); same text %d "
        "(%.3f)\n",
        a["paired"].get<int>(), a["argus_words"].get<int>(), a["peer_words"].get<int>(),
        a["same_text"].get<int>(), a["agreement"].get<double>());
    for (const auto& d : a["differences"])
      std::printf("    %-12s argus %-20s peer %s\n", d["image"].get<std::string>().c_str(),
                  d["argus"].dump().c_str(), d["peer"].dump().c_str());
  }
  for (const auto& row : m["word_crop_items"])
    if (row["argus"] != row["truth"] || (row.contains("peer") && row["peer"] != row["truth"]))
      std::printf("    crop %-12s truth %-12s argus %-14s peer %s\n",
                  row["image"].get<std::string>().c_str(), row["truth"].dump().c_str(),
                  row["argus"].dump().c_str(),
                  row.contains("peer") ? row["peer"].dump().c_str() : "-");
}

}  // namespace argus::cli
