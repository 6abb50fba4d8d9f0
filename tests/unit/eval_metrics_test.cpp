// Evaluation metrics on small hand-made sets whose answers are worked out
// by hand in the comments.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "eval/metrics.h"

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
  std::vector<PairScore> p = {{0.9, true, 0}, {0.2, false, 0}, {0.9, true, 1},
                              {0.45, false, 1}, {0.4, true, 2}, {0.1, false, 2}};
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

}  // namespace
}  // namespace argus::eval
