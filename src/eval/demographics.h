#pragma once
// Demographic differentials (NIST FRVT part 3 and Gender Shades style): per
// group of a labelled face set, the false match rate among impostor pairs
// within the group, gender-classification error, age MAE and
// failure-to-detect rate, through the same face pipeline as the API.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "service/faces.h"

namespace argus::eval {

// One labelled image (labels.csv: image,age,gender,race).
struct DemoSample {
  std::string image;
  int age = 0;
  std::string gender;  // "male" | "female"
  std::string race;
};

// What the pipeline found in one image.
struct DemoOutcome {
  bool detected = false;  // a face with a descriptor
  std::vector<float> descriptor;
  bool has_attributes = false;
  float age = 0;  // estimated years
  bool male = false;
};

// Reads labels.csv. Bad lines are reported in `errors` with their line
// number and skipped.
Result<std::vector<DemoSample>> ReadDemographicLabels(const std::string& path,
                                                      std::vector<std::string>* errors);

// Every `step`-th sample from the first, so that a limited run still spans
// every group: at most `limit` samples (0 = all).
std::vector<DemoSample> SpreadSample(const std::vector<DemoSample>& all, size_t limit);

// The age band of an age: "0-9", "10-19", ..., "70+".
std::string AgeBand(int age);

inline constexpr double kSimilarityThresholds[4] = {80, 90, 95, 99};
// Groups with fewer impostor pairs are reported but left out of the
// worst/best FMR ratio (their FMR is too coarse to compare).
inline constexpr long long kMinRatioPairs = 100;

using SimilarityFn = std::function<float(const std::vector<float>&, const std::vector<float>&)>;

// Aggregates outcomes (same order as samples) into the report object:
//   groups: [{name, kind ("gender_race" | "age_band"), images, no_face,
//             failure_to_detect, impostor_pairs, false_matches{"80"..},
//             fmr{"80".."99"}, gender_error, gender_scored, age_mae}],
//   fmr_ratio_worst_best{"80".."99"} over the gender x race groups with at
//   least kMinRatioPairs pairs (null where the best of them has no false
//   match), the same for age bands in fmr_ratio_worst_best_age, and overall
//   figures.
// Impostor pairs are all pairs of distinct images within a group whose
// faces were both found (the labels have no identities, so distinct images
// are taken as distinct people).
nlohmann::json AggregateDemographics(const std::vector<DemoSample>& samples,
                                     const std::vector<DemoOutcome>& outcomes,
                                     const SimilarityFn& similarity);

// Runs the pipeline on each image (DetectFaces -> largest face -> Describe,
// Analyze for age and gender) and aggregates. `limit` > 0 evaluates a spread
// sample of that many images.
Result<nlohmann::json> RunDemographics(service::FaceService& faces, const std::string& labels_file,
                                       const std::string& images_dir, size_t limit);

}  // namespace argus::eval
