// Demographic aggregation on a tiny hand-made set with known answers.
#include "eval/demographics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "eval/report.h"

namespace argus::eval {
namespace {

using nlohmann::json;

// Descriptors are 1-d "scores"; similarity = 100 - |a - b| makes the pair
// scores easy to place above or below the thresholds.
float Sim(const std::vector<float>& a, const std::vector<float>& b) {
  return 100.f - std::abs(a[0] - b[0]);
}

DemoOutcome Found(float d, float age, bool male) { return {true, {d}, true, age, male}; }

const json* Group(const json& r, const std::string& name) {
  for (const auto& g : r["groups"])
    if (g["name"] == name) return &g;
  return nullptr;
}

TEST(Demographics, PerGroupRatesOnAHandMadeSet) {
  std::vector<DemoSample> s = {{"a", 25, "female", "white"}, {"b", 27, "female", "white"},
                               {"c", 31, "female", "white"}, {"d", 33, "female", "white"},
                               {"e", 45, "male", "black"},   {"f", 48, "male", "black"},
                               {"g", 62, "male", "black"}};
  std::vector<DemoOutcome> o = {
      // female/white: pairs a-b 100-0.5=99.5, a-c 97, a-d 85, b-c 97.5, b-d 85.5, c-d 88
      Found(0.f, 30, false), Found(0.5f, 27, true), Found(3.f, 31, false), Found(15.f, 23, false),
      // male/black: e-f 100-30 = 70 (no match); g not found
      Found(0.f, 40, true), Found(30.f, 48, true), DemoOutcome{}};
  json r = AggregateDemographics(s, o, Sim);

  const json* fw = Group(r, "female/white");
  ASSERT_NE(fw, nullptr);
  EXPECT_EQ((*fw)["images"], 4);
  EXPECT_EQ((*fw)["impostor_pairs"], 6);
  EXPECT_EQ((*fw)["false_matches"]["80"], 6);
  EXPECT_EQ((*fw)["false_matches"]["90"], 3);  // 99.5, 97, 97.5
  EXPECT_EQ((*fw)["false_matches"]["95"], 3);
  EXPECT_EQ((*fw)["false_matches"]["99"], 1);
  EXPECT_DOUBLE_EQ((*fw)["fmr"]["90"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ((*fw)["gender_error"].get<double>(), 0.25);  // b called male
  EXPECT_DOUBLE_EQ((*fw)["age_mae"].get<double>(), (5 + 0 + 0 + 10) / 4.0);
  EXPECT_DOUBLE_EQ((*fw)["failure_to_detect"].get<double>(), 0);

  const json* mb = Group(r, "male/black");
  ASSERT_NE(mb, nullptr);
  EXPECT_EQ((*mb)["no_face"], 1);
  EXPECT_NEAR((*mb)["failure_to_detect"].get<double>(), 1 / 3.0, 1e-12);
  EXPECT_EQ((*mb)["impostor_pairs"], 1);  // g has no face: only e-f
  EXPECT_DOUBLE_EQ((*mb)["fmr"]["80"].get<double>(), 0);
  EXPECT_DOUBLE_EQ((*mb)["gender_error"].get<double>(), 0);
  EXPECT_DOUBLE_EQ((*mb)["age_mae"].get<double>(), 2.5);  // |40-45|, |48-48|

  // Best group (male/black) has no false match: the ratio is undefined.
  EXPECT_TRUE(r["fmr_ratio_worst_best"]["80"].is_null());

  // Age bands, in numeric order; a band whose only image has no face has
  // no pairs and no FMR.
  std::vector<std::string> bands;
  for (const auto& g : r["groups"])
    if (g["kind"] == "age_band") bands.push_back(g["name"]);
  EXPECT_EQ(bands, (std::vector<std::string>{"age 20-29", "age 30-39", "age 40-49", "age 60-69"}));
  const json* a60 = Group(r, "age 60-69");
  EXPECT_EQ((*a60)["impostor_pairs"], 0);
  EXPECT_TRUE((*a60)["fmr"]["80"].is_null());
  EXPECT_TRUE((*a60)["gender_error"].is_null());
  // 20-29: a-b at 99.5; 30-39: c-d at 88.
  EXPECT_DOUBLE_EQ(Group(r, "age 20-29")->at("fmr")["99"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(Group(r, "age 30-39")->at("fmr")["80"].get<double>(), 1.0);
  // At 80 the age bands with pairs: 20-29 = 1, 30-39 = 1, 40-49 (e-f 70) = 0.
  EXPECT_TRUE(r["fmr_ratio_worst_best_age"]["80"].is_null());

  EXPECT_EQ(r["images"], 7);
  EXPECT_EQ(r["no_face"], 1);
  EXPECT_DOUBLE_EQ(r["gender_error"].get<double>(), 1 / 6.0);
}

TEST(Demographics, RatioOfWorstToBestGroup) {
  std::vector<DemoSample> s;
  std::vector<DemoOutcome> o;
  for (int i = 0; i < 15; ++i) {  // 105 pairs each
    // female/asian: identical descriptors, every pair a false match.
    s.push_back({"f" + std::to_string(i), 20, "female", "asian"});
    o.push_back(Found(0, 20, false));
    // male/asian: descriptors 10 apart, similarity 100 - 10 |i - j|.
    s.push_back({"m" + std::to_string(i), 20, "male", "asian"});
    o.push_back(Found(10.f * i, 20, true));
  }
  // A group with a single pair and no false match: too few pairs to count.
  s.push_back({"w1", 20, "male", "white"});
  o.push_back(Found(0, 20, true));
  s.push_back({"w2", 20, "male", "white"});
  o.push_back(Found(50, 20, true));
  json r = AggregateDemographics(s, o, Sim);
  // male/asian: >= 80 when |i - j| <= 2 (14 + 13 pairs), >= 90 when 1 apart.
  EXPECT_NEAR(r["fmr_ratio_worst_best"]["80"].get<double>(), 105.0 / 27, 1e-9);
  EXPECT_NEAR(r["fmr_ratio_worst_best"]["90"].get<double>(), 105.0 / 14, 1e-9);
  EXPECT_TRUE(r["fmr_ratio_worst_best"]["95"].is_null());  // best group: no false match
  EXPECT_EQ(r["fmr_ratio_min_pairs"], kMinRatioPairs);
}

TEST(Demographics, LabelsLinesAndSampling) {
  EXPECT_EQ(AgeBand(0), "0-9");
  EXPECT_EQ(AgeBand(19), "10-19");
  EXPECT_EQ(AgeBand(70), "70+");
  EXPECT_EQ(AgeBand(101), "70+");
  std::vector<DemoSample> all;
  for (int i = 0; i < 10; ++i) all.push_back({std::to_string(i), i, "male", "x"});
  auto five = SpreadSample(all, 5);
  ASSERT_EQ(five.size(), 5u);
  EXPECT_EQ(five[1].image, "2");
  EXPECT_EQ(five[4].image, "8");
  EXPECT_EQ(SpreadSample(all, 0).size(), 10u);

  const std::string path = testing::TempDir() + "/labels.csv";
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(
      "image,age,gender,race\na.jpg,30,female,white\nb.jpg,x,male,asian\n"
      "c.jpg,40,other,black\nd.jpg,50,male\ne.jpg,60,male,indian\n",
      f);
  std::fclose(f);
  std::vector<std::string> errors;
  auto labels = ReadDemographicLabels(path, &errors);
  ASSERT_TRUE(labels.ok());
  ASSERT_EQ(labels->size(), 2u);
  EXPECT_EQ((*labels)[1].race, "indian");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find(":3:"), std::string::npos);  // the line number of the bad line
  EXPECT_FALSE(ReadDemographicLabels(testing::TempDir() + "/missing.csv", &errors).ok());
}

TEST(Demographics, HtmlReportIsSelfContainedWithCharts) {
  std::vector<DemoSample> s = {{"a", 25, "female", "white"}, {"b", 27, "female", "white"}};
  std::vector<DemoOutcome> o = {Found(0, 25, false), Found(0.5f, 27, false)};
  std::string html = DemographicsHtml(AggregateDemographics(s, o, Sim));
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("female/white"), std::string::npos);
  // No external assets: no scripts, stylesheets or images to fetch.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find(" src="), std::string::npos);
}

}  // namespace
}  // namespace argus::eval
