// `argus eval demographics`: per-group FMR, gender error, age MAE and
// failure-to-detect on a labelled face set; writes report.json/report.html.
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "eval/demographics.h"
#include "eval/report.h"

namespace argus::cli {

int CmdEvalDemographics(const Args& a) {
  if (!a.Has("labels") || !a.Has("images") || !a.Has("out")) {
    std::fprintf(stderr,
                 "usage: argus eval demographics --labels FILE --images DIR --out DIR [--json]\n"
                 "       [--limit N] (a spread sample of N images) [--face-detector D] "
                 "[--threads N]\n");
    return 2;
  }
  const int limit = a.GetInt("limit", 0);
  if (limit < 0) {
    std::fprintf(stderr, "argus: --limit must be >= 0\n");
    return 2;
  }
  ApplyThreads(a);
  ml::Registry registry(ModelDir(a));
  auto faces = MakeFaceService(a, registry);
  if (!faces) return 1;
  auto r = eval::RunDemographics(*faces, a.Get("labels"), a.Get("images"), size_t(limit));
  if (!r.ok()) {
    std::fprintf(stderr, "argus: %s\n", r.status().message().c_str());
    return 1;
  }
  if (Status s = eval::WriteDemographicsReport(r.value(), a.Get("out")); !s.ok()) {
    std::fprintf(stderr, "argus: %s\n", s.message().c_str());
    return 1;
  }
  const auto& j = r.value();
  if (a.Has("json")) {
    // The summary (also report.json): per-group figures and the worst/best ratios.
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("%d images, failure to detect %.2f%%, gender error %.2f%%, age MAE %.1f years\n",
              j["images"].get<int>(), 100 * j["failure_to_detect"].get<double>(),
              j["gender_error"].is_number() ? 100 * j["gender_error"].get<double>() : 0.0,
              j["age_mae"].is_number() ? j["age_mae"].get<double>() : 0.0);
  std::printf("%-16s %6s %6s %9s %9s %9s %9s %9s %7s %6s\n", "group", "images", "noface", "pairs",
              "FMR@80", "FMR@90", "FMR@95", "FMR@99", "gender", "ageMAE");
  for (const auto& g : j["groups"]) {
    std::printf("%-16s %6d %6d %9lld", g["name"].get<std::string>().c_str(), g["images"].get<int>(),
                g["no_face"].get<int>(), g["impostor_pairs"].get<long long>());
    for (const char* t : {"80", "90", "95", "99"}) {
      if (g["fmr"][t].is_number())
        std::printf(" %9.2e", g["fmr"][t].get<double>());
      else
        std::printf(" %9s", "n/a");
    }
    if (g["gender_error"].is_number())
      std::printf(" %6.2f%% %6.1f\n", 100 * g["gender_error"].get<double>(),
                  g["age_mae"].get<double>());
    else
      std::printf(" %7s %6s\n", "n/a", "n/a");
  }
  for (const char* k : {"fmr_ratio_worst_best", "fmr_ratio_worst_best_age"})
    std::printf("%s: %s\n", k, j[k].dump().c_str());
  std::printf("wrote %s/report.json and %s/report.html\n", a.Get("out").c_str(),
              a.Get("out").c_str());
  return 0;
}

}  // namespace argus::cli
