#include "eval/demographics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/image.h"
#include "eval/lines.h"
#include "eval/progress.h"

namespace argus::eval {
namespace {

using nlohmann::json;

std::string Key(double t) { return std::to_string(int(t)); }

struct Group {
  std::string name, kind;
  std::vector<size_t> members;  // sample indices
};

json GroupJson(const Group& g, const std::vector<DemoSample>& samples,
               const std::vector<DemoOutcome>& outcomes, const SimilarityFn& similarity) {
  std::vector<size_t> found;
  int gender_scored = 0, gender_wrong = 0;
  double age_abs = 0;
  for (size_t i : g.members) {
    const DemoOutcome& o = outcomes[i];
    if (!o.detected) continue;
    found.push_back(i);
    if (o.has_attributes) {
      ++gender_scored;
      if (o.male != (samples[i].gender == "male")) ++gender_wrong;
      age_abs += std::abs(double(o.age) - samples[i].age);
    }
  }
  long long pairs = 0, false_matches[4] = {0, 0, 0, 0};
  for (size_t a = 0; a < found.size(); ++a) {
    for (size_t b = a + 1; b < found.size(); ++b) {
      const double s = similarity(outcomes[found[a]].descriptor, outcomes[found[b]].descriptor);
      ++pairs;
      for (int t = 0; t < 4; ++t)
        if (s >= kSimilarityThresholds[t]) ++false_matches[t];
    }
  }
  json fm = json::object(), fmr = json::object();
  for (int t = 0; t < 4; ++t) {
    fm[Key(kSimilarityThresholds[t])] = false_matches[t];
    fmr[Key(kSimilarityThresholds[t])] =
        pairs ? json(double(false_matches[t]) / pairs) : json(nullptr);
  }
  const int n = int(g.members.size());
  return {{"name", g.name},
          {"kind", g.kind},
          {"images", n},
          {"no_face", n - int(found.size())},
          {"failure_to_detect", n ? double(n - int(found.size())) / n : 0.0},
          {"impostor_pairs", pairs},
          {"false_matches", fm},
          {"fmr", fmr},
          {"gender_scored", gender_scored},
          {"gender_error", gender_scored ? json(double(gender_wrong) / gender_scored) : json()},
          {"age_mae", gender_scored ? json(age_abs / gender_scored) : json()}};
}

// Worst over best FMR per threshold among the groups of one kind with at
// least kMinRatioPairs impostor pairs; null where the best group has no
// false match (the ratio is then unbounded).
json Ratios(const json& groups, const std::string& kind) {
  json out = json::object();
  for (double t : kSimilarityThresholds) {
    double worst = -1, best = 2;
    for (const auto& g : groups) {
      if (g["kind"] != kind || g["impostor_pairs"].get<long long>() < kMinRatioPairs) continue;
      const double f = g["fmr"][Key(t)].get<double>();
      worst = std::max(worst, f), best = std::min(best, f);
    }
    out[Key(t)] = (worst >= 0 && best > 0) ? json(worst / best) : json(nullptr);
  }
  return out;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> f;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, ',')) {
    while (!cur.empty() && (cur.back() == '\r' || cur.back() == ' ')) cur.pop_back();
    while (!cur.empty() && cur.front() == ' ') cur.erase(cur.begin());
    f.push_back(cur);
  }
  return f;
}

}  // namespace

Result<std::vector<DemoSample>> ReadDemographicLabels(const std::string& path,
                                                      std::vector<std::string>* errors) {
  std::vector<DemoSample> out;
  ARGUS_RETURN_IF_ERROR(ForEachLine(path, "labels file", [&](int lineno, const std::string& line) {
    auto f = SplitCsv(line);
    if (lineno == 1 && !f.empty() && f[0] == "image") return;  // header
    char* end = nullptr;
    long age = f.size() == 4 ? std::strtol(f[1].c_str(), &end, 10) : -1;
    if (f.size() != 4 || f[0].empty() || !end || *end || age < 0 || age > 130 ||
        (f[2] != "male" && f[2] != "female") || f[3].empty()) {
      errors->push_back(path + ":" + std::to_string(lineno) +
                        ": expected image,age,gender(male|female),race: " + line);
      return;
    }
    out.push_back({f[0], int(age), f[2], f[3]});
  }));
  return out;
}

std::vector<DemoSample> SpreadSample(const std::vector<DemoSample>& all, size_t limit) {
  if (limit == 0 || limit >= all.size()) return all;
  std::vector<DemoSample> out;
  for (size_t k = 0; k < limit; ++k) out.push_back(all[k * all.size() / limit]);
  return out;
}

std::string AgeBand(int age) {
  if (age >= 70) return "70+";
  const int lo = std::max(0, age / 10 * 10);
  return std::to_string(lo) + "-" + std::to_string(lo + 9);
}

json AggregateDemographics(const std::vector<DemoSample>& samples,
                           const std::vector<DemoOutcome>& outcomes,
                           const SimilarityFn& similarity) {
  std::map<std::string, Group> by_gr, by_age;
  for (size_t i = 0; i < samples.size() && i < outcomes.size(); ++i) {
    const DemoSample& s = samples[i];
    Group& g = by_gr[s.gender + "/" + s.race];
    g.name = s.gender + "/" + s.race, g.kind = "gender_race";
    g.members.push_back(i);
    Group& a = by_age[AgeBand(s.age)];
    a.name = "age " + AgeBand(s.age), a.kind = "age_band";
    a.members.push_back(i);
  }
  json groups = json::array();
  for (const auto& [_, g] : by_gr) groups.push_back(GroupJson(g, samples, outcomes, similarity));
  // Age bands in numeric order ("0-9" before "10-19").
  std::vector<const Group*> ages;
  for (const auto& [_, g] : by_age) ages.push_back(&g);
  std::sort(ages.begin(), ages.end(), [](const Group* a, const Group* b) {
    return std::atoi(a->name.c_str() + 4) < std::atoi(b->name.c_str() + 4);
  });
  for (const Group* g : ages) groups.push_back(GroupJson(*g, samples, outcomes, similarity));

  int detected = 0, scored = 0, wrong = 0;
  double age_abs = 0;
  for (size_t i = 0; i < samples.size() && i < outcomes.size(); ++i) {
    if (!outcomes[i].detected) continue;
    ++detected;
    if (!outcomes[i].has_attributes) continue;
    ++scored;
    if (outcomes[i].male != (samples[i].gender == "male")) ++wrong;
    age_abs += std::abs(double(outcomes[i].age) - samples[i].age);
  }
  const int n = int(samples.size());
  return {{"groups", groups},
          {"fmr_ratio_worst_best", Ratios(groups, "gender_race")},
          {"fmr_ratio_min_pairs", kMinRatioPairs},
          {"fmr_ratio_worst_best_age", Ratios(groups, "age_band")},
          {"images", n},
          {"no_face", n - detected},
          {"failure_to_detect", n ? double(n - detected) / n : 0.0},
          {"gender_error", scored ? json(double(wrong) / scored) : json()},
          {"age_mae", scored ? json(age_abs / scored) : json()}};
}

Result<json> RunDemographics(service::FaceService& faces, const std::string& labels_file,
                             const std::string& images_dir, size_t limit) {
  std::vector<std::string> errors;
  auto all = ReadDemographicLabels(labels_file, &errors);
  if (!all.ok()) return all.status();
  for (const auto& e : errors) std::fprintf(stderr, "warning: %s (skipped)\n", e.c_str());
  if (all->empty()) return InvalidParameter("no labelled images in " + labels_file);
  const std::vector<DemoSample> samples = SpreadSample(all.value(), limit);
  std::vector<DemoOutcome> outcomes(samples.size());
  Progress progress("demographics", samples.size());
  int unreadable = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    DemoOutcome& o = outcomes[i];
    auto bytes = ReadFile(images_dir + "/" + samples[i].image);
    auto img = bytes.ok() ? DecodeImage(bytes.value()) : Result<Image>(bytes.status());
    if (!img.ok()) {
      // Counted as a failure to detect: the image is in the labels.
      std::fprintf(stderr, "warning: %s: %s\n", samples[i].image.c_str(),
                   img.status().message().c_str());
      ++unreadable;
    } else if (auto found = faces.DetectFaces(img.value()); found.ok() && !found->empty()) {
      service::FaceDetail& face = found->front();  // largest first
      if (auto d = faces.Describe(img.value(), face); d.ok()) {
        o.detected = true;
        o.descriptor = std::move(d.value());
        if (faces.Analyze(img.value(), face, vision::kAttrAgeRange | vision::kAttrGender).ok() &&
            face.attributes) {
          o.has_attributes = true;
          o.age = face.attributes->age;
          o.male = face.attributes->male;
        }
      }
    }
    progress.Tick();
  }
  progress.Done();
  json r = AggregateDemographics(samples, outcomes, service::FaceService::Similarity);
  r["unreadable"] = unreadable;
  r["skipped_lines"] = errors.size();
  r["labelled_images"] = all->size();
  r["limit"] = limit;
  r["pairs_rule"] =
      "all pairs of distinct images within a group whose faces were both found; distinct images "
      "are taken as distinct people (the labels carry no identities)";
  r["face_model_version"] = service::FaceService::FaceModelVersion();
  r["detector"] = faces.DetectorName();
  return r;
}

}  // namespace argus::eval
