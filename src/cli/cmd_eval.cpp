#include <cstdio>

#include "cli/args.h"
#include "eval/portraits.h"
#include "eval/runners.h"

namespace argus::cli {

int CmdEvalDemographics(const Args& a);  // cmd_eval_demographics.cpp

namespace {

// The failure (1) or, with --json, the JSON (0) of an evaluation; -1 when
// the caller prints its text.
int Reported(const Args& a, const Result<nlohmann::json>& result) {
  if (!result.ok()) {
    std::fprintf(stderr, "argus: %s\n", result.status().message().c_str());
    return 1;
  }
  if (!a.Has("json")) return -1;
  std::printf("%s\n", result.value().dump().c_str());
  return 0;
}

}  // namespace

// `argus eval portraits --images DIR`: detection recall on darkened,
// greyscale, low-contrast and tightly cropped portraits derived in memory.
int CmdEvalPortraits(const Args& a) {
  ApplyThreads(a);
  ml::Registry registry(ModelDir(a));
  auto faces = MakeFaceService(a, registry);
  if (!faces) return 1;
  auto result = eval::RunPortraits(*faces, a.Get("images"), a.GetInt("limit", 0));
  if (int done = Reported(a, result); done >= 0) return done;
  const auto& r = result.value();
  std::printf(
      "detector %s: %d images: %d portraits (one face), %d group photos, %d without a clear face\n",
      r["detector"].get<std::string>().c_str(), r["images"].get<int>(), r["portraits"].get<int>(),
      r["group_photos"].get<int>(), r["no_clear_face_in_original"].get<int>());
  for (const auto& [name, v] : r["variants"].items()) {
    std::printf("  %-24s", name.c_str());
    for (const char* kind : {"portraits", "group_photos"}) {
      const auto& c = v[kind];
      std::printf("  %s: missed %d of %d", kind, c["missed"].get<int>(), c["images"].get<int>());
      for (const auto& e : c["examples"]) std::printf(" %s", e.get<std::string>().c_str());
    }
    std::printf("\n");
  }
  return 0;
}

// `argus eval verification|detection ...`: runs an evaluation protocol
// through the same face pipeline as the API and prints its figures.
int CmdEval(const Args& a) {
  std::string what = a.positional.empty() ? "" : a.positional[0];
  auto usage = [] {
    std::fprintf(
        stderr,
        "usage: argus eval verification --pairs FILE|--identities FILE --images DIR [--json]\n"
        "           [--scores CSV]\n"
        "       argus eval detection --annotations FILE --images DIR [--json]\n"
        "       argus eval demographics --labels FILE --images DIR --out DIR [--json]\n"
        "       common: [--face-detector cascade|ssd-tiled|ssd-wide|ssd|blaze|haar] [--threads "
        "N]\n");
    return 2;
  };
  if (what == "demographics") return CmdEvalDemographics(a);
  if (what == "portraits") return CmdEvalPortraits(a);
  if (what != "verification" && what != "detection") return usage();
  if (!a.Has("images") ||
      (what == "verification" ? a.Has("pairs") == a.Has("identities") : !a.Has("annotations")))
    return usage();
  // Verification pairs: a pairs file, or every pair an identity list gives.
  std::vector<eval::PairLine> pairs;
  std::vector<std::string> errors;
  if (what == "verification") {
    auto read = a.Has("pairs") ? eval::ReadPairs(a.Get("pairs"), &errors)
                               : eval::PairsFromIdentities(a.Get("identities"), &errors);
    if (!read.ok()) {
      std::fprintf(stderr, "argus: %s\n", read.status().message().c_str());
      return 1;
    }
    for (const auto& e : errors) std::fprintf(stderr, "warning: %s (skipped)\n", e.c_str());
    pairs = std::move(read.value());
  }
  ApplyThreads(a);
  ml::Registry registry(ModelDir(a));
  auto faces = MakeFaceService(a, registry);
  if (!faces) return 1;
  auto result = what == "verification"
                    ? eval::RunVerification(*faces, pairs, a.Get("images"), a.Get("scores", ""))
                    : eval::RunDetection(*faces, a.Get("annotations"), a.Get("images"));
  if (result.ok() && what == "verification") result.value()["skipped_lines"] = errors.size();
  if (int done = Reported(a, result); done >= 0) return done;
  const auto& r = result.value();
  if (what == "verification") {
    std::printf("pairs %d (%d same, %d without a face in both images), images %d, no face %d\n",
                r["pairs"].get<int>(), r["same_pairs"].get<int>(),
                r["pairs_without_faces"].get<int>(), r["images"].get<int>(),
                r["no_face"].get<int>());
    std::printf("10-fold accuracy %.4f +- %.4f, EER %.4f\n", r["accuracy"].get<double>(),
                r["accuracy_std"].get<double>(), r["eer"].get<double>());
    std::printf("TAR at FAR 1e-2 %.4f, 1e-3 %.4f, 1e-4 %.4f\n",
                r["tar_at_far"]["1e-2"].get<double>(), r["tar_at_far"]["1e-3"].get<double>(),
                r["tar_at_far"]["1e-4"].get<double>());
    for (const char* t : {"80", "90", "95", "99"})
      std::printf("Similarity >= %s: FMR %.4f FNMR %.4f\n", t,
                  r["fmr_at_similarity"][t].get<double>(),
                  r["fnmr_at_similarity"][t].get<double>());
    // The descriptor alone: the pairs with a face in both images.
    const auto& f = r["face_pairs"];
    std::printf(
        "pairs with a face in both images %d (%d same): accuracy %.4f, EER %.4f, TAR at "
        "FAR 1e-2 %.4f, 1e-3 %.4f, 1e-4 %.4f\n",
        f["pairs"].get<int>(), f["same_pairs"].get<int>(), f["accuracy"].get<double>(),
        f["eer"].get<double>(), f["tar_at_far"]["1e-2"].get<double>(),
        f["tar_at_far"]["1e-3"].get<double>(), f["tar_at_far"]["1e-4"].get<double>());
    for (const char* t : {"80", "90", "95", "99"})
      std::printf("  Similarity >= %s: FMR %.4f FNMR %.4f\n", t,
                  f["fmr_at_similarity"][t].get<double>(),
                  f["fnmr_at_similarity"][t].get<double>());
  } else {
    std::printf("detector %s: AP easy %.4f, medium %.4f, hard %.4f (%d images, %.1f ms/image)\n",
                r["detector"].get<std::string>().c_str(), r["ap_easy"].get<double>(),
                r["ap_medium"].get<double>(), r["ap_hard"].get<double>(), r["images"].get<int>(),
                r["ms_per_image"].get<double>());
  }
  return 0;
}

}  // namespace argus::cli
