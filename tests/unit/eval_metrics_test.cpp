// Evaluation metrics on small hand-made sets whose answers are worked out
// by hand in the comments.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include "eval/metrics.h"
#include "eval/runners.h"

namespace argus::eval {
namespace {

std::vector<PairScore> Four() {
  // genuine 0.9, 0.8; impostor 0.3, 0.6
  return {{0.9, true, 0}, {0.8, true, 1}, {0.3, false, 0}, {0.6, false, 1}};
}

TEST(Verification, AccuracyAtAThreshold) {
  EXPECT_DOUBLE_EQ(AccuracyAt(Four(), 0.7), 1.0);   // all four right
  EXPECT_DOUBLE_EQ(AccuracyAt(Four(), 0.5), 0.75);  // impostor 0.6 accepted
  EXPECT_DOUBLE_EQ(AccuracyAt(Four(), 0.95), 0.5);  // both genuine refused
}

TEST(Verification, BestThresholdSeparatesTheClasses) {
  double t = BestThreshold(Four());
  EXPECT_GT(t, 0.6);
  EXPECT_LE(t, 0.8);
  EXPECT_DOUBLE_EQ(AccuracyAt(Four(), t), 1.0);
}

TEST(Verification, KFoldThresholdComesFromTheOtherFolds) {
  std::vector<PairScore> p = {{0.9, true, 0},   {0.2, false, 0}, {0.9, true, 1},
                              {0.45, false, 1}, {0.4, true, 2},  {0.1, false, 2}};
  // Fold 0, trained on folds 1+2 (0.9 S, 0.45 D, 0.4 S, 0.1 D): the first
  // best candidate is 0.25 (3/4 right); tested: 0.9 S and 0.2 D right → 1.
  // Fold 1, trained on folds 0+2 (separable, threshold 0.3): 0.45 D is
  // accepted → 1/2. Fold 2, trained on folds 0+1 (threshold 0.675): 0.4 S is
  // refused → 1/2. Mean 2/3; sample std sqrt((1/9 + 1/36 + 1/36) / 2).
  VerificationMetrics m = ComputeVerification(p, 3);
  EXPECT_EQ(m.pairs, 6);
  EXPECT_NEAR(m.accuracy, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.accuracy_std, std::sqrt(1.0 / 12), 1e-12);
}

TEST(Verification, EqualErrorRate) {
  // genuine 0.9 0.8 0.4, impostor 0.5 0.2 0.1: at 0.5, FMR = FNMR = 1/3.
  std::vector<PairScore> p = {{0.9, true, 0},  {0.8, true, 0},  {0.4, true, 0},
                              {0.5, false, 0}, {0.2, false, 0}, {0.1, false, 0}};
  EXPECT_NEAR(EqualErrorRate(p), 1.0 / 3, 1e-12);
  EXPECT_NEAR(FalseMatchRate(p, 0.5), 1.0 / 3, 1e-12);
  EXPECT_NEAR(FalseNonMatchRate(p, 0.5), 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(FalseMatchRate(p, 0.95), 0.0);
  EXPECT_DOUBLE_EQ(FalseNonMatchRate(p, 0.05), 0.0);
}

TEST(Verification, TarAtFar) {
  // 100 impostors scoring 0..99; FAR 1e-2 allows one of them: the threshold
  // sits above 98, so genuine 99.5 and 98.5 pass and 50 does not.
  std::vector<PairScore> p;
  for (int i = 0; i < 100; ++i) p.push_back({double(i), false, 0});
  for (double g : {99.5, 98.5, 50.0}) p.push_back({g, true, 0});
  EXPECT_NEAR(TarAtFar(p, 1e-2), 2.0 / 3, 1e-12);
  // FAR 1e-3 allows none: only scores above 99 pass.
  EXPECT_NEAR(TarAtFar(p, 1e-3), 1.0 / 3, 1e-12);
}

TEST(Verification, FailedPairsAreErrorsAtEveryThreshold) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<PairScore> p = {{-inf, true, 0}, {inf, false, 0}, {0.9, true, 0}, {0.1, false, 0}};
  EXPECT_DOUBLE_EQ(AccuracyAt(p, BestThreshold(p)), 0.5);
}

TEST(Detection, AveragePrecisionWorkedExample) {
  // One image: boxes A and B in the set, C outside it (ignored).
  ImageTruth t;
  t.boxes = {{10, 10, 20, 20}, {100, 100, 20, 20}, {200, 10, 20, 20}};
  t.in_set = {true, true, false};
  // d1 on A (0.9), d2 on C (0.8, dropped), d3 on nothing (0.7, false
  // positive), d4 on B (0.6). Normalised scores 1, 2/3, 1/3, 0.
  // Thresholds above 1/3: 1 proposal, 1 recalled → P 1, R 1/2.
  // Above 0: 2 proposals, 1 recalled → P 1/2. At 0: 3 proposals, 2 recalled
  // → P 2/3, R 1. Envelope: P 1 up to R 1/2, 2/3 up to R 1:
  // AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
  std::vector<Detection> d = {{{10, 10, 20, 20}, 0.9f},
                              {{200, 10, 20, 20}, 0.8f},
                              {{300, 300, 20, 20}, 0.7f},
                              {{100, 100, 20, 20}, 0.6f}};
  EXPECT_NEAR(AveragePrecision({t}, {d}), 5.0 / 6, 1e-9);
  // Perfect detections only: AP 1. No detections: AP 0.
  EXPECT_NEAR(AveragePrecision({t}, {{d[0], d[3]}}), 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(AveragePrecision({t}, {{}}), 0.0);
}

TEST(Detection, LowOverlapIsNotAMatch) {
  ImageTruth t;
  t.boxes = {{0, 0, 20, 20}};
  t.in_set = {true};
  // Shifted by half a box: IoU about 1/3 < 0.5.
  std::vector<Detection> d = {{{10, 0, 20, 20}, 0.9f}};
  EXPECT_DOUBLE_EQ(AveragePrecision({t}, {d}), 0.0);
}

// A file with `text` in the test's temporary directory.
std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + std::to_string(getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Pairs, BadCsvLinesAreReportedWithTheirLineNumber) {
  std::string path = WriteTemp("pairs.csv",
                               "image_a,image_b,same\na.jpg,b.jpg,1\na.jpg,c.jpg\n"
                               "b.jpg,c.jpg,0\nb.jpg,c.jpg,yes\n");
  std::vector<std::string> errors;
  auto pairs = ReadPairs(path, &errors);
  ASSERT_TRUE(pairs.ok());
  ASSERT_EQ(pairs->size(), 2u);
  EXPECT_TRUE((*pairs)[0].same);
  EXPECT_FALSE((*pairs)[1].same);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find(":3: "), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find(":5: "), std::string::npos) << errors[1];
}

TEST(Pairs, FromIdentitiesEverySamePairAndAsManyDrawnOthers) {
  // a: 3 images (3 same pairs), b: 2 (1), c: 1; 6 images give 15 pairs, 11
  // of them across identities, of which 4 are drawn.
  std::string path = WriteTemp("ids.csv",
                               "image,identity\na1.jpg,a\na2.jpg,a\na3.jpg,a\nb1.jpg,b\n"
                               "no comma here\nb2.jpg,b\nc1.jpg,c\na1.jpg,b\n");
  std::map<std::string, char> identity = {{"a1.jpg", 'a'}, {"a2.jpg", 'a'}, {"a3.jpg", 'a'},
                                          {"b1.jpg", 'b'}, {"b2.jpg", 'b'}, {"c1.jpg", 'c'}};
  std::vector<std::string> errors;
  auto pairs = PairsFromIdentities(path, &errors);
  ASSERT_TRUE(pairs.ok());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find(":6: "), std::string::npos) << errors[0];  // no comma
  EXPECT_NE(errors[1].find(":9: "), std::string::npos) << errors[1];  // a1 listed twice
  std::set<std::pair<std::string, std::string>> seen;
  int same = 0, other = 0;
  for (const auto& p : *pairs) {
    EXPECT_EQ(p.same, identity.at(p.a) == identity.at(p.b)) << p.a << " " << p.b;
    EXPECT_NE(p.a, p.b);
    EXPECT_TRUE(seen.insert({std::min(p.a, p.b), std::max(p.a, p.b)}).second) << "repeated";
    EXPECT_EQ(p.fold, int(&p - pairs->data()) % 10);
    (p.same ? same : other)++;
  }
  EXPECT_EQ(same, 4);
  EXPECT_EQ(other, 4);
  // The draw is seeded: the same file gives the same pairs.
  std::vector<std::string> again_errors;
  auto again = PairsFromIdentities(path, &again_errors);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), pairs->size());
  for (size_t i = 0; i < pairs->size(); ++i) {
    EXPECT_EQ((*again)[i].a, (*pairs)[i].a);
    EXPECT_EQ((*again)[i].b, (*pairs)[i].b);
  }
}

TEST(Pairs, FromIdentitiesTakesAllOtherPairsWhenThereAreFewer) {
  // a: 4 images (6 same pairs), b: 1 image: only 4 different-identity pairs exist.
  std::string path = WriteTemp("ids-few.csv", "a1,a\na2,a\na3,a\na4,a\nb1,b\n");
  std::vector<std::string> errors;
  auto pairs = PairsFromIdentities(path, &errors);
  ASSERT_TRUE(pairs.ok());
  EXPECT_TRUE(errors.empty());
  int same = 0, other = 0;
  for (const auto& p : *pairs) (p.same ? same : other)++;
  EXPECT_EQ(same, 6);
  EXPECT_EQ(other, 4);
}

TEST(Pairs, MissingFilesAreErrors) {
  std::vector<std::string> errors;
  EXPECT_FALSE(ReadPairs("/nonexistent/pairs.csv", &errors).ok());
  EXPECT_FALSE(PairsFromIdentities("/nonexistent/ids.csv", &errors).ok());
}

}  // namespace
}  // namespace argus::eval
