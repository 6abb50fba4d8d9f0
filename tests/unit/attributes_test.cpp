// Face attribute mappings (no models): expressions -> emotions, eye and
// mouth ratios -> judgements, age ranges (service/face_attributes.h), gaze
// geometry, face-api's crop (vision/face/attributes.h).
#include "vision/face/attributes.h"

#include <gtest/gtest.h>

#include <numeric>

#include "service/face_attributes.h"

namespace argus::vision {
namespace {

using service::AgeRangeFor;
using service::EmotionsFromExpressions;
using service::EyesOpenFromEar;
using service::kEyesOpenEar;
using service::MouthOpenFromRatio;
using service::SmileFromHappy;

// A frontal 68-point face with eyes of the given aspect ratio and a mouth
// of the given inner opening ratio (only the points the ratios read matter).
std::vector<cv::Point2f> Face(float ear, float mouth) {
  std::vector<cv::Point2f> p(68, cv::Point2f(100, 100));
  for (int i = 0; i < 17; ++i) p[i] = {40.f + 7.5f * i, 160.f};  // jaw
  for (int o : {36, 42}) {
    const float x0 = o == 36 ? 60 : 110, w = 30, h = ear * w;
    p[o] = {x0, 90};
    p[o + 1] = {x0 + 10, 90 - h / 2};
    p[o + 2] = {x0 + 20, 90 - h / 2};
    p[o + 3] = {x0 + 30, 90};
    p[o + 4] = {x0 + 20, 90 + h / 2};
    p[o + 5] = {x0 + 10, 90 + h / 2};
  }
  const float w = 40, h = mouth * w;
  p[60] = {80, 150};
  p[64] = {120, 150};
  p[61] = {90, 150 - h / 2}, p[62] = {100, 150 - h / 2}, p[63] = {110, 150 - h / 2};
  p[67] = {90, 150 + h / 2}, p[66] = {100, 150 + h / 2}, p[65] = {110, 150 + h / 2};
  return p;
}

TEST(Emotions, MapsFaceApiExpressionsToRekognitionNamesSorted) {
  // neutral, happy, sad, angry, fearful, disgusted, surprised
  auto e = EmotionsFromExpressions({0.10f, 0.70f, 0.05f, 0.04f, 0.03f, 0.02f, 0.06f});
  ASSERT_EQ(e.size(), 7u);  // CONFUSED has no source and is not invented
  EXPECT_EQ(e[0].type, "HAPPY");
  EXPECT_NEAR(e[0].confidence, 70.f, 1e-3);
  EXPECT_EQ(e[1].type, "CALM");  // neutral
  EXPECT_EQ(e[2].type, "SURPRISED");
  EXPECT_EQ(e.back().type, "DISGUSTED");
  for (size_t i = 1; i < e.size(); ++i) EXPECT_GE(e[i - 1].confidence, e[i].confidence);
  float sum = 0;
  for (const auto& s : e) {
    sum += s.confidence;
    EXPECT_NE(s.type, "CONFUSED");
  }
  EXPECT_NEAR(sum, 100.f, 1e-3);
  auto fear = EmotionsFromExpressions({0, 0, 0, 0, 1, 0, 0});
  EXPECT_EQ(fear[0].type, "FEAR");
}

TEST(Emotions, RenormalisesAndSurvivesAllZero) {
  auto e = EmotionsFromExpressions({0, 0, 2, 0, 0, 0, 0});
  EXPECT_EQ(e[0].type, "SAD");
  EXPECT_NEAR(e[0].confidence, 100.f, 1e-4);
  auto z = EmotionsFromExpressions({0, 0, 0, 0, 0, 0, 0});
  for (const auto& s : z) EXPECT_EQ(s.confidence, 0.f);
}

TEST(EyesOpen, AspectRatioOfOpenAndShutEyes) {
  EXPECT_NEAR(EyeAspectRatio(Face(0.30f, 0)), 0.30f, 1e-4);
  auto open = EyesOpenFromEar(EyeAspectRatio(Face(0.30f, 0)));
  EXPECT_TRUE(open.value);
  EXPECT_GT(open.confidence, 95.f);
  auto shut = EyesOpenFromEar(EyeAspectRatio(Face(0.05f, 0)));
  EXPECT_FALSE(shut.value);
  EXPECT_GT(shut.confidence, 95.f);
  // Near the threshold the answer is uncertain either way.
  auto edge = EyesOpenFromEar(kEyesOpenEar + 0.001f);
  EXPECT_TRUE(edge.value);
  EXPECT_LT(edge.confidence, 55.f);
  EXPECT_EQ(EyeAspectRatio({}), 0.f);
}

TEST(MouthOpen, InnerLipRatio) {
  EXPECT_NEAR(MouthOpenRatio(Face(0.3f, 0.4f)), 0.4f, 1e-4);
  EXPECT_TRUE(MouthOpenFromRatio(MouthOpenRatio(Face(0.3f, 0.4f))).value);
  auto shut = MouthOpenFromRatio(MouthOpenRatio(Face(0.3f, 0.0f)));
  EXPECT_FALSE(shut.value);
  EXPECT_GT(shut.confidence, 95.f);
}

TEST(Smile, FollowsHappyProbability) {
  EXPECT_TRUE(SmileFromHappy(0.9f).value);
  EXPECT_NEAR(SmileFromHappy(0.9f).confidence, 90.f, 1e-4);
  EXPECT_FALSE(SmileFromHappy(0.2f).value);
  EXPECT_NEAR(SmileFromHappy(0.2f).confidence, 80.f, 1e-4);
  EXPECT_GE(SmileFromHappy(-1.f).confidence, 50.f);
}

TEST(AgeRange, WidensWithAgeAndStaysNonNegative) {
  int lo, hi;
  AgeRangeFor(30.f, &lo, &hi);
  EXPECT_EQ(lo, 25);
  EXPECT_EQ(hi, 35);
  AgeRangeFor(1.f, &lo, &hi);
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 3);
  AgeRangeFor(80.f, &lo, &hi);
  EXPECT_EQ(lo, 68);
  EXPECT_EQ(hi, 92);
  AgeRangeFor(0.f, &lo, &hi);
  EXPECT_LT(lo, hi);
}

TEST(Gaze, IrisOffsetGivesYawAndPitchInThePoseConvention) {
  const cv::Point2f a(100, 100), b(140, 100);  // eye 40 px wide, centre (120, 100)
  auto centre = EyeInHeadAngles({120, 100}, a, b);
  EXPECT_NEAR(centre.x, 0, 1e-4);
  EXPECT_NEAR(centre.y, 0, 1e-4);
  // Iris towards the image's left: positive yaw, like Pose.Yaw.
  auto left = EyeInHeadAngles({111, 100}, a, b);
  EXPECT_NEAR(left.x, 30.f, 0.01f);  // asin(9 / 18)
  EXPECT_NEAR(left.y, 0, 1e-4);
  // Iris up: positive pitch.
  EXPECT_GT(EyeInHeadAngles({120, 94}, a, b).y, 15.f);
  // Corner order does not matter; a rolled head does not read as gaze.
  auto swapped = EyeInHeadAngles({111, 100}, b, a);
  EXPECT_NEAR(swapped.x, left.x, 1e-4);
  const float c = std::cos(0.5f), s = std::sin(0.5f);
  auto rot = [&](cv::Point2f p) {
    p -= cv::Point2f(120, 100);
    return cv::Point2f(120 + c * p.x - s * p.y, 100 + s * p.x + c * p.y);
  };
  auto rolled = EyeInHeadAngles(rot({111, 100}), rot(a), rot(b));
  EXPECT_NEAR(rolled.x, left.x, 0.01f);
  EXPECT_NEAR(rolled.y, 0, 0.01f);
}

TEST(Crop, FaceApiAlignedBoxAndCentredSquare) {
  std::vector<cv::Point2f> lm = {{10, 20}, {110, 70}};
  cv::Rect2f box = LandmarkCropBox(lm);
  EXPECT_NEAR(box.x, 0.f, 1e-4);
  EXPECT_NEAR(box.y, 15.f, 1e-4);
  EXPECT_NEAR(box.width, 120.f, 1e-4);
  EXPECT_NEAR(box.height, 60.f, 1e-4);
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::Mat sq = SquareCrop(img, box);
  ASSERT_EQ(sq.rows, sq.cols);
  ASSERT_NEAR(sq.rows, 120, 1);  // whole pixels around the box
  // 60 rows of image centred in 120: black bands of 30 above and below.
  EXPECT_EQ(sq.at<cv::Vec3b>(10, 60), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(sq.at<cv::Vec3b>(60, 60), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(sq.at<cv::Vec3b>(100, 60), cv::Vec3b(0, 0, 0));
  EXPECT_TRUE(SquareCrop(img, {500, 500, 10, 10}).empty());
}

}  // namespace
}  // namespace argus::vision
