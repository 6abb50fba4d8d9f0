// core/geometry.h, core/uuid.h and core/clock.h: the helpers vision, service
// and server share.
#include "core/geometry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/uuid.h"

namespace argus {
namespace {

TEST(Geometry, IoUOfOverlappingDisjointAndEmptyBoxes) {
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {0, 0, 10, 10}), 1.f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {5, 0, 10, 10}), 50.f / 150.f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {20, 20, 5, 5}), 0.f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 0, 0}, {0, 0, 0, 0}), 0.f);
}

TEST(Geometry, ClampBoxKeepsThePartInsideTheImage) {
  cv::Rect2f r = ClampBox({-5, 90, 20, 20}, cv::Size(100, 100));
  EXPECT_FLOAT_EQ(r.x, 0);
  EXPECT_FLOAT_EQ(r.y, 90);
  EXPECT_FLOAT_EQ(r.width, 15);
  EXPECT_FLOAT_EQ(r.height, 10);
  EXPECT_TRUE(ClampBox({200, 200, 5, 5}, cv::Size(100, 100)).empty());
}

TEST(Geometry, L2NormalizeGivesUnitLengthAndLeavesZeroAlone) {
  std::vector<float> v = {3, 4};
  L2Normalize(v);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  EXPECT_NEAR(Dot(v, v), 1.f, 1e-6);
  std::vector<float> z = {0, 0, 0};
  L2Normalize(z);
  EXPECT_EQ(z, std::vector<float>({0, 0, 0}));
  EXPECT_FLOAT_EQ(EuclideanDistance({0, 0}, {3, 4}), 5.f);
}

TEST(Uuid, Version4FormatAndNoRepeats) {
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuidV4();
    ASSERT_TRUE(std::regex_match(id, v4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Clock, WallClockIsAfter2020AndSteadyClockDoesNotGoBack) {
  EXPECT_GT(NowMs(), int64_t(1577836800000));  // 2020-01-01T00:00:00Z
  auto t0 = SteadyNow();
  EXPECT_GE(SecondsSince(t0), 0.0);
}

}  // namespace
}  // namespace argus
