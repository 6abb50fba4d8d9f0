// The face liveness checks without models: framing, the caps of
// JudgeLiveness, and the optical-flow motion measure on synthetic images.
#include "service/liveness.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <random>

namespace argus::service {
namespace {

LivenessFrame Framed(float model, float nonrigid, float flow = 1, float difference = 5) {
  LivenessFrame f;
  f.size = cv::Size(480, 640);
  f.faces = 1;
  f.box = cv::Rect2f(160, 220, 160, 200);
  f.antispoof = f.live = model;
  f.scored = true;
  f.nonrigid = nonrigid, f.flow = flow, f.difference = difference;
  return f;
}

std::vector<LivenessFrame> Sequence(int n, float model, float nonrigid) {
  std::vector<LivenessFrame> v;
  for (int i = 0; i < n; ++i) v.push_back(Framed(model, i == 0 ? -1 : nonrigid));
  return v;
}

TEST(LivenessChecks, FramingWantsACentredLargeFace) {
  const cv::Size size(480, 640);
  EXPECT_TRUE(WellFramed({160, 220, 160, 200}, size));
  EXPECT_FALSE(WellFramed({0, 0, 100, 120}, size));    // in a corner
  EXPECT_FALSE(WellFramed({220, 300, 30, 40}, size));  // too small
  EXPECT_FALSE(WellFramed({160, 220, 160, 200}, {0, 0}));
}

TEST(LivenessChecks, NaturalMotionAndRealScoresAreLive) {
  auto c = JudgeLiveness(Sequence(8, 0.9f, 1.0f));
  EXPECT_GE(c.confidence, kLivenessThreshold);
  EXPECT_TRUE(c.reasons.empty());
  EXPECT_EQ(c.framed, 8);
}

TEST(LivenessChecks, RigidMotionScoresLow) {
  auto c = JudgeLiveness(Sequence(8, 0.9f, 0.02f));
  EXPECT_EQ(c.motion, 0);
  EXPECT_LT(c.confidence, kLivenessThreshold);
}

TEST(LivenessChecks, StillSequenceIsCapped) {
  auto frames = Sequence(8, 1.f, 0.f);
  for (auto& f : frames) f.flow = 0, f.difference = 0;
  auto c = JudgeLiveness(frames);
  EXPECT_LE(c.confidence, 10);
  EXPECT_FALSE(c.reasons.empty());
}

TEST(LivenessChecks, TwoFacesAreNeverLive) {
  auto frames = Sequence(8, 1.f, 1.f);
  frames[3].faces = 2;
  auto c = JudgeLiveness(frames);
  EXPECT_TRUE(c.multiple_faces);
  EXPECT_LE(c.confidence, 10);
}

TEST(LivenessChecks, MostFramesNeedAFace) {
  auto frames = Sequence(8, 1.f, 1.f);
  for (int i = 0; i < 4; ++i) frames[size_t(i)].faces = 0;
  EXPECT_LE(JudgeLiveness(frames).confidence, 10);
  EXPECT_LE(JudgeLiveness({}).confidence, 10);
}

// Textured image: smooth noise, so optical flow has something to follow.
cv::Mat Texture(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(m, cv::RNG::UNIFORM, 0, 255);
  cv::GaussianBlur(m, m, cv::Size(0, 0), 2.5);
  cv::normalize(m, m, 0, 255, cv::NORM_MINMAX);
  return m;
}

TEST(LivenessMotion, IdenticalRigidAndNonRigid) {
  const cv::Mat a = Texture(320, 320);
  const cv::Rect2f box(100, 100, 120, 120);
  LivenessFrame same;
  MeasureMotion(a, a, box, same);
  EXPECT_LT(same.flow, 0.05f);
  EXPECT_LT(same.difference, 0.5f);

  // A rigid shift and rotation: flow, but an affine fit explains it.
  cv::Mat rigid, m = cv::getRotationMatrix2D({160, 160}, 1.5, 1.0);
  m.at<double>(0, 2) += 3;
  cv::warpAffine(a, rigid, m, a.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT);
  LivenessFrame r;
  MeasureMotion(a, rigid, box, r);
  EXPECT_GT(r.flow, 0.5f);

  // A wave across the face (a head turning in depth bends the picture, a
  // flat print does not): flow no affine map explains.
  cv::Mat mx(a.size(), CV_32F), my(a.size(), CV_32F);
  for (int y = 0; y < a.rows; ++y)
    for (int x = 0; x < a.cols; ++x) {
      mx.at<float>(y, x) = x + 3.f * std::sin(float(2 * CV_PI) * y / 50.f);
      my.at<float>(y, x) = y + 3.f * std::sin(float(2 * CV_PI) * x / 60.f);
    }
  cv::Mat wave;
  cv::remap(a, wave, mx, my, cv::INTER_LINEAR, cv::BORDER_REFLECT);
  LivenessFrame nr;
  MeasureMotion(a, wave, box, nr);
  EXPECT_GT(nr.nonrigid, 3 * r.nonrigid);
  EXPECT_GT(nr.nonrigid, 1.f);
}

}  // namespace
}  // namespace argus::service
