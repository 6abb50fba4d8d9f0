// The tracker on synthetic boxes: crossing people, occlusion, flicker,
// re-identification by descriptor.
#include <gtest/gtest.h>

#include "video/analysis_util.h"
#include "video/tracker.h"

namespace argus::video {
namespace {

TrackDetection Box(float x, float y, std::vector<float> d = {}) {
  return {cv::Rect2f(x, y, 50, 120), 90.f, std::move(d)};
}

std::vector<float> Unit(int axis) {
  std::vector<float> v(8, 0.f);
  v[axis] = 1.f;
  return v;
}

TEST(VideoTracker, TwoPeopleCrossingKeepTheirIndices) {
  Tracker t;
  std::vector<int> a_ids, b_ids;
  for (int f = 0; f < 25; ++f) {
    // A walks right, B walks left; their boxes overlap around frame 12.
    auto ids = t.Update({Box(20.f + 20 * f, 100), Box(500.f - 20 * f, 104)});
    a_ids.push_back(ids[0]);
    b_ids.push_back(ids[1]);
  }
  for (int f = 1; f < 25; ++f) {
    EXPECT_EQ(a_ids[f], a_ids[0]) << "frame " << f;
    EXPECT_EQ(b_ids[f], b_ids[0]) << "frame " << f;
  }
  auto idx = t.Indices();
  ASSERT_EQ(idx.size(), 2u);
  EXPECT_EQ(idx.at(a_ids[0]), 0);  // left of B when both first appear
  EXPECT_EQ(idx.at(b_ids[0]), 1);
}

TEST(VideoTracker, ThreeFramesOfOcclusionKeepTheIndex) {
  Tracker t;
  std::vector<int> ids;
  for (int f = 0; f < 20; ++f) {
    if (f >= 8 && f < 11) {
      t.Update({});  // hidden
      continue;
    }
    ids.push_back(t.Update({Box(100.f + 4 * f, 50)})[0]);
  }
  for (int id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(t.Indices().size(), 1u);
}

TEST(VideoTracker, FlickerIsDropped) {
  Tracker t;
  int steady = -1, flicker = -1;
  for (int f = 0; f < 10; ++f) {
    std::vector<TrackDetection> d = {Box(100, 50)};
    if (f == 3 || f == 4) d.push_back(Box(400, 300));  // two frames only
    auto ids = t.Update(d);
    steady = ids[0];
    if (ids.size() > 1) flicker = ids[1];
  }
  auto idx = t.Indices();
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_TRUE(idx.count(steady));
  EXPECT_FALSE(idx.count(flicker));
}

TEST(VideoTracker, LostBeyondMaxLostStartsANewTrack) {
  TrackerOptions o;
  o.max_lost = 3;
  Tracker t(o);
  int first = -1, second = -1;
  for (int f = 0; f < 5; ++f) first = t.Update({Box(100, 50)})[0];
  for (int f = 0; f < 5; ++f) t.Update({});
  for (int f = 0; f < 5; ++f) second = t.Update({Box(100, 50)})[0];
  EXPECT_NE(first, second);
  auto idx = t.Indices();
  EXPECT_EQ(idx.at(first), 0);
  EXPECT_EQ(idx.at(second), 1);
}

TEST(VideoTracker, DescriptorsReidentifyAfterAJumpAndVetoStrangers) {
  TrackerOptions o;
  o.min_similarity = 0.5f;
  o.reid_similarity = 0.8f;
  Tracker t(o);
  int a = -1;
  for (int f = 0; f < 4; ++f) a = t.Update({Box(100, 50, Unit(0))})[0];
  t.Update({});
  // Back 120 px to the right (no overlap) with the same descriptor: the same track.
  EXPECT_EQ(t.Update({Box(220, 50, Unit(0))})[0], a);
  // Someone else in the same place: a new track despite full overlap.
  const int b = t.Update({Box(220, 50, Unit(1))})[0];
  EXPECT_NE(b, a);
}

// After a hard cut an overlapping box says nothing: a descriptor between
// min_similarity and reid_similarity (enough to keep a track alive within a
// shot) starts a new track there, while one above reid_similarity keeps its
// track across the cut at any distance. Without descriptors a cut ends every
// association.
TEST(VideoTracker, AfterACutOnlyAppearanceLinks) {
  TrackerOptions o;
  o.min_similarity = 0.5f;
  o.reid_similarity = 0.9f;
  Tracker t(o);
  std::vector<float> near = {0.8f, 0.6f, 0, 0, 0, 0, 0, 0};  // cosine 0.8 to Unit(0)
  int a = -1;
  for (int f = 0; f < 4; ++f) a = t.Update({Box(100, 50, Unit(0))})[0];
  // Within a shot, the same place and cosine 0.8: the same track.
  EXPECT_EQ(t.Update({Box(104, 50, near)})[0], a);
  for (int f = 0; f < 2; ++f) t.Update({Box(108, 50, Unit(0))});
  // A cut: the same place and cosine 0.8 is someone else.
  EXPECT_NE(t.Update({Box(108, 50, near)}, /*cut=*/true)[0], a);

  Tracker u(o);
  int b = -1;
  for (int f = 0; f < 4; ++f) b = u.Update({Box(100, 50, Unit(0))})[0];
  // A cut to a wide shot: the same face across the frame keeps its track.
  EXPECT_EQ(u.Update({Box(600, 300, Unit(0))}, /*cut=*/true)[0], b);

  Tracker v;
  int c = -1;
  for (int f = 0; f < 4; ++f) c = v.Update({Box(100, 50)})[0];
  EXPECT_NE(v.Update({Box(100, 50)}, /*cut=*/true)[0], c);
}

TEST(VideoTracker, CosineOfDescriptors) {
  EXPECT_FLOAT_EQ(Cosine(Unit(0), Unit(0)), 1.f);
  EXPECT_FLOAT_EQ(Cosine(Unit(0), Unit(1)), 0.f);
  EXPECT_FLOAT_EQ(Cosine({}, Unit(1)), 0.f);
  EXPECT_FLOAT_EQ(Cosine({1, 0}, Unit(1)), 0.f);
}

// Faces to bodies for person tracking: the upper half first, then a face low
// in a body that has none (a person bending or turning) joins that body
// rather than becoming a person of its own; a face outside every body, or in
// a body another face already holds, stays alone.
TEST(VideoPairing, FacesJoinTheBodyTheyAreIn) {
  const std::vector<cv::Rect2f> bodies = {{100, 0, 170, 390}, {400, 50, 100, 300}};
  const std::vector<cv::Rect2f> faces = {
      {420, 60, 40, 40},   // upper half of body 1
      {370, 600, 40, 40},  // outside both
      {180, 250, 35, 45},  // low in body 0, which has no face
      {430, 300, 20, 20},  // low in body 1, already taken
  };
  EXPECT_EQ(internal::FaceBodies(bodies, faces), (std::vector<int>{1, -1, 0, -1}));
  // With body 0's own face in its upper half, the low one stays alone.
  const std::vector<cv::Rect2f> two = {{150, 20, 40, 40}, {180, 250, 35, 45}};
  EXPECT_EQ(internal::FaceBodies(bodies, two), (std::vector<int>{0, -1}));
  // A face far wider than the body is not its face.
  EXPECT_EQ(internal::FaceBodies({{0, 0, 20, 200}}, {{0, 10, 60, 60}}), (std::vector<int>{-1}));
  const cv::Rect2f est = internal::BodyFromFace({10, 10, 20, 20}, {100, 100});
  EXPECT_EQ(est, cv::Rect2f(0, 4, 50, 96));
}

}  // namespace
}  // namespace argus::video
