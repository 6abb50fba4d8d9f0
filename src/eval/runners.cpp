#include "eval/runners.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/image.h"
#include "eval/lines.h"
#include "eval/progress.h"

namespace argus::eval {
namespace {

using nlohmann::json;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    while (!cur.empty() && (cur.back() == '\r' || cur.back() == ' ')) cur.pop_back();
    while (!cur.empty() && cur.front() == ' ') cur.erase(cur.begin());
    out.push_back(cur);
  }
  return out;
}

std::string LfwPath(const std::string& name, const std::string& num) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", std::atoi(num.c_str()));
  return name + "/" + name + "_" + buf + ".jpg";
}

}  // namespace

Result<std::vector<PairLine>> ReadPairs(const std::string& path, std::vector<std::string>* errors) {
  std::vector<PairLine> pairs;
  int per_fold = 0;
  bool csv = path.size() > 4 && path.substr(path.size() - 4) == ".csv";
  ARGUS_RETURN_IF_ERROR(ForEachLine(path, "pairs file", [&](int lineno, const std::string& line) {
    auto bad = [&](const std::string& why) {
      errors->push_back(path + ":" + std::to_string(lineno) + ": " + why + ": " + line);
    };
    if (csv) {
      auto f = Split(line, ',');
      if (lineno == 1 && !f.empty() && f[0] == "image_a") return;  // header
      if (f.size() < 3 || f.size() > 4 || (f[2] != "0" && f[2] != "1"))
        return bad("expected image_a,image_b,same[,fold]");
      pairs.push_back({f[0], f[1], f[2] == "1", f.size() == 4 ? std::atoi(f[3].c_str()) : -1});
      return;
    }
    auto f = Split(line, '\t');
    if (f.size() == 1) f = Split(line, ' ');
    if (lineno == 1 && f.size() == 2) {
      per_fold = std::atoi(f[1].c_str());
      return;
    }
    PairLine p;
    if (f.size() == 3)
      p = {LfwPath(f[0], f[1]), LfwPath(f[0], f[2]), true, -1};
    else if (f.size() == 4)
      p = {LfwPath(f[0], f[1]), LfwPath(f[2], f[3]), false, -1};
    else
      return bad("expected 'name n1 n2' or 'name1 n1 name2 n2'");
    if (per_fold > 0) p.fold = int(pairs.size() / (2 * per_fold));
    pairs.push_back(p);
  }));
  // Without explicit folds, interleave so each fold holds both kinds.
  for (size_t i = 0; i < pairs.size(); ++i)
    if (pairs[i].fold < 0) pairs[i].fold = int(i % 10);
  return pairs;
}

Result<std::vector<PairLine>> PairsFromIdentities(const std::string& path,
                                                  std::vector<std::string>* errors) {
  std::map<std::string, std::string> identity;  // image -> identity
  ARGUS_RETURN_IF_ERROR(
      ForEachLine(path, "identities file", [&](int lineno, const std::string& line) {
        auto f = Split(line, ',');
        if (lineno == 1 && f.size() == 2 && f[0] == "image") return;  // header
        const std::string at = path + ":" + std::to_string(lineno) + ": ";
        if (f.size() != 2 || f[0].empty() || f[1].empty())
          errors->push_back(at + "expected image,identity: " + line);
        else if (!identity.emplace(f[0], f[1]).second)
          errors->push_back(at + f[0] + " is listed before (first identity kept): " + line);
      }));
  std::map<std::string, std::vector<std::string>> by_identity;
  std::vector<std::string> images;
  for (const auto& [image, id] : identity) {
    by_identity[id].push_back(image);
    images.push_back(image);
  }
  std::vector<PairLine> same, other;
  for (const auto& [id, list] : by_identity)
    for (size_t i = 0; i < list.size(); ++i)
      for (size_t j = i + 1; j < list.size(); ++j) same.push_back({list[i], list[j], true});
  // Different-identity pairs: all of them when there are no more than needed,
  // else distinct ones drawn with a fixed seed (std::mt19937 is the same
  // sequence everywhere; the modulo keeps the draw free of library choices).
  const size_t n = images.size();
  size_t possible = n * (n - 1) / 2;
  for (const auto& [id, list] : by_identity) possible -= list.size() * (list.size() - 1) / 2;
  if (possible <= same.size()) {
    for (size_t i = 0; i < n; ++i)
      for (size_t j = i + 1; j < n; ++j)
        if (identity[images[i]] != identity[images[j]])
          other.push_back({images[i], images[j], false});
  } else {
    std::mt19937 rng(1);
    std::set<std::pair<size_t, size_t>> drawn;
    while (other.size() < same.size()) {
      size_t i = rng() % n, j = rng() % n;
      if (i == j || identity[images[i]] == identity[images[j]]) continue;
      if (!drawn.insert({std::min(i, j), std::max(i, j)}).second) continue;
      other.push_back({images[std::min(i, j)], images[std::max(i, j)], false});
    }
  }
  // Alternate the two kinds so that each of the 10 folds holds both.
  std::vector<PairLine> pairs;
  for (size_t k = 0; k < std::max(same.size(), other.size()); ++k) {
    if (k < same.size()) pairs.push_back(same[k]);
    if (k < other.size()) pairs.push_back(other[k]);
  }
  for (size_t i = 0; i < pairs.size(); ++i) pairs[i].fold = int(i % 10);
  return pairs;
}

namespace {

// Accuracy, EER, TAR at FAR and FMR/FNMR at the Similarity thresholds of
// one set of pair scores (10 folds).
json VerificationFigures(const std::vector<PairScore>& scores) {
  VerificationMetrics m = ComputeVerification(scores, 10);
  json fmr = json::object(), fnmr = json::object();
  for (double t : {80.0, 90.0, 95.0, 99.0}) {
    fmr[std::to_string(int(t))] = FalseMatchRate(scores, t);
    fnmr[std::to_string(int(t))] = FalseNonMatchRate(scores, t);
  }
  return json{
      {"accuracy", m.accuracy},
      {"accuracy_std", m.accuracy_std},
      {"eer", m.eer},
      {"tar_at_far",
       {{"1e-2", m.tar_at_far_1e2}, {"1e-3", m.tar_at_far_1e3}, {"1e-4", m.tar_at_far_1e4}}},
      {"pairs", m.pairs},
      {"fmr_at_similarity", fmr},
      {"fnmr_at_similarity", fnmr}};
}

}  // namespace

Result<json> RunVerification(service::FaceService& faces, const std::vector<PairLine>& pairs,
                             const std::string& images_dir, const std::string& scores_out) {
  std::map<std::string, std::vector<float>> desc;  // empty: no face / unreadable
  for (const auto& p : pairs) desc[p.a], desc[p.b];
  Progress progress("verification", desc.size());
  int no_face = 0, unreadable = 0;
  for (auto& [name, d] : desc) {
    auto bytes = ReadFile(images_dir + "/" + name);
    if (!bytes.ok()) {
      std::fprintf(stderr, "warning: cannot read %s/%s\n", images_dir.c_str(), name.c_str());
      ++unreadable;
    } else if (auto img = DecodeImage(bytes.value()); !img.ok()) {
      std::fprintf(stderr, "warning: %s: %s\n", name.c_str(), img.status().message().c_str());
      ++unreadable;
    } else {
      auto found = faces.DetectFaces(img.value());
      if (found.ok() && !found->empty()) {
        auto v = faces.Describe(img.value(), found->front());
        if (v.ok()) d = std::move(v.value());
      }
      if (d.empty()) ++no_face;
    }
    progress.Tick();
  }
  progress.Done();
  std::vector<PairScore> scores;
  int failed_pairs = 0;
  for (const auto& p : pairs) {
    const auto &a = desc[p.a], &b = desc[p.b];
    double s;
    if (a.empty() || b.empty()) {
      ++failed_pairs;
      // A pair without both faces counts as an error whatever the threshold.
      s = p.same ? -std::numeric_limits<double>::infinity()
                 : std::numeric_limits<double>::infinity();
    } else {
      s = service::FaceService::Similarity(a, b);
    }
    scores.push_back({s, p.same, p.fold});
  }
  if (!scores_out.empty()) {
    // One line per pair: the descriptor distance behind each Similarity, for
    // calibrating the distance-to-Similarity mapping.
    std::ofstream out(scores_out);
    out << "image_a,image_b,same,distance,similarity\n";
    for (size_t i = 0; i < pairs.size(); ++i) {
      const auto& p = pairs[i];
      const auto &a = desc[p.a], &b = desc[p.b];
      double d = -1;
      if (!a.empty() && !b.empty()) {
        d = 0;
        for (size_t k = 0; k < a.size() && k < b.size(); ++k)
          d += double(a[k] - b[k]) * (a[k] - b[k]);
        d = std::sqrt(d);
      }
      out << p.a << ',' << p.b << ',' << (p.same ? 1 : 0) << ',' << d << ',' << scores[i].score
          << '\n';
    }
    if (!out) return InvalidParameter("cannot write " + scores_out);
  }
  // Two views: end to end, where a pair without both faces is an error at
  // every threshold, and the descriptor alone, over the pairs with a face in
  // both images (without this, a few impostor pairs scored +infinity read
  // as TAR 0 at every FAR and fill the FMR at high Similarity).
  std::vector<PairScore> described;
  int same_without = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (desc[pairs[i].a].empty() || desc[pairs[i].b].empty()) {
      same_without += pairs[i].same ? 1 : 0;
      continue;
    }
    described.push_back(scores[i]);
  }
  json out = VerificationFigures(scores);
  out["pairs_without_faces"] = failed_pairs;
  out["same_pairs_without_faces"] = same_without;
  out["images"] = desc.size();
  out["no_face"] = no_face;
  out["unreadable"] = unreadable;
  out["same_pairs"] =
      std::count_if(pairs.begin(), pairs.end(), [](const PairLine& p) { return p.same; });
  out["face_pairs"] = VerificationFigures(described);
  out["face_pairs"]["same_pairs"] =
      std::count_if(described.begin(), described.end(), [](const PairScore& p) { return p.same; });
  out["face_model_version"] = service::FaceService::FaceModelVersion();
  return out;
}

Result<json> RunDetection(service::FaceService& faces, const std::string& annotations_file,
                          const std::string& images_dir) {
  std::ifstream in(annotations_file);
  if (!in) return InvalidParameter("cannot read annotations " + annotations_file);
  json ann = json::parse(in, nullptr, false);
  if (ann.is_discarded() || !ann.is_object())
    return InvalidParameter(annotations_file + " is not a JSON object of images");
  const char* sets[] = {"easy", "medium", "hard"};
  std::vector<ImageTruth> truth[3];
  std::vector<std::vector<Detection>> dets;
  Progress progress("detection", ann.size());
  double total_ms = 0;
  int images = 0;
  for (const auto& [name, a] : ann.items()) {
    std::vector<cv::Rect2f> boxes;
    for (const auto& b : a.at("boxes_xywh")) boxes.emplace_back(b[0], b[1], b[2], b[3]);
    for (int s = 0; s < 3; ++s) {
      ImageTruth t{boxes, std::vector<bool>(boxes.size(), false)};
      for (int i : a.value(sets[s], std::vector<int>{}))
        if (i >= 0 && size_t(i) < boxes.size()) t.in_set[i] = true;
      truth[s].push_back(std::move(t));
    }
    std::vector<Detection> d;
    auto bytes = ReadFile(images_dir + "/" + name);
    if (bytes.ok()) {
      if (auto img = DecodeImage(bytes.value()); img.ok()) {
        auto t0 = std::chrono::steady_clock::now();
        auto boxes_found = faces.DetectBoxes(img.value(), 0.05f, 1000);
        total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count();
        ++images;
        if (boxes_found.ok())
          for (const auto& f : boxes_found.value()) d.push_back({f.box, f.score});
      }
    } else {
      std::fprintf(stderr, "warning: cannot read %s/%s\n", images_dir.c_str(), name.c_str());
    }
    dets.push_back(std::move(d));
    progress.Tick();
  }
  progress.Done();
  return json{{"ap_easy", AveragePrecision(truth[0], dets)},
              {"ap_medium", AveragePrecision(truth[1], dets)},
              {"ap_hard", AveragePrecision(truth[2], dets)},
              {"images", images},
              {"ms_per_image", images ? total_ms / images : 0},
              {"detector", faces.DetectorName()}};
}

}  // namespace argus::eval
