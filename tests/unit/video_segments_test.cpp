// DetectSegments on a synthetic clip (colour bars, black frames, three
// scenes with two hard cuts) and SMPTE timecodes, drop-frame included.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "video/segments_internal.h"
#include "video/video.h"

namespace argus::video {
namespace {

namespace fs = std::filesystem;

cv::Mat ColorBars(cv::Size size) {
  cv::Mat f(size, CV_8UC3, cv::Scalar::all(16));
  const cv::Scalar bars[7] = {{191, 191, 191}, {0, 191, 191}, {191, 191, 0}, {0, 191, 0},
                              {191, 0, 191},   {0, 0, 191},   {191, 0, 0}};  // BGR
  const int top = size.height * 2 / 3;
  for (int i = 0; i < 7; ++i)
    cv::rectangle(f, cv::Rect(i * size.width / 7, 0, size.width / 7 + 1, top), bars[i], cv::FILLED);
  return f;
}

// A scene: a background colour with a moving square, so frames within a
// scene differ a little.
cv::Mat Scene(cv::Size size, cv::Scalar bg, int t) {
  cv::Mat f(size, CV_8UC3, bg);
  cv::rectangle(f, cv::Rect(10 + 6 * t, 40, 40, 40), cv::Scalar(230, 230, 230), cv::FILLED);
  cv::circle(f, cv::Point(size.width - 40, 60 + 2 * t), 20, bg * 0.5, cv::FILLED);
  return f;
}

class VideoSegments : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() /
             ("argus_video_segments_" + std::to_string(::getpid()) + ".mp4"))
                .string();
    const cv::Size size(320, 180);
    cv::VideoWriter w(path_, cv::VideoWriter::fourcc('a', 'v', 'c', '1'), 25, size);
    ASSERT_TRUE(w.isOpened());
    for (int i = 0; i < 25; ++i) w.write(ColorBars(size));                             // 0..24
    for (int i = 0; i < 25; ++i) w.write(cv::Mat(size, CV_8UC3, cv::Scalar::all(0)));  // 25..49
    for (int i = 0; i < 25; ++i) w.write(Scene(size, {30, 40, 200}, i));               // 50..74
    for (int i = 0; i < 25; ++i) w.write(Scene(size, {40, 180, 60}, i));               // 75..99
    for (int i = 0; i < 25; ++i) w.write(Scene(size, {190, 90, 30}, i));               // 100..124
    w.release();
  }
  void TearDown() override { fs::remove(path_); }
  std::string path_;
};

TEST_F(VideoSegments, BarsBlackFramesAndThreeShots) {
  auto r = VideoReader::Open(path_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int calls = 0;
  auto segs = DetectSegments(**r, SegmentOptions{}, [&](double) {
    ++calls;
    return true;
  });
  ASSERT_TRUE(segs.ok()) << segs.status().ToString();
  EXPECT_GE(calls, 2);
  std::vector<SegmentItem> shots, cues;
  for (const auto& s : segs.value())
    (s.type == SegmentItem::Type::kShot ? shots : cues).push_back(s);
  ASSERT_EQ(cues.size(), 2u);
  EXPECT_EQ(cues[0].cue_type, "ColorBars");
  EXPECT_EQ(cues[0].start_frame, 0);
  EXPECT_EQ(cues[0].end_frame, 24);
  EXPECT_EQ(cues[1].cue_type, "BlackFrames");
  EXPECT_EQ(cues[1].start_frame, 25);
  EXPECT_EQ(cues[1].end_frame, 49);
  EXPECT_EQ(cues[1].start_ms, 1000);
  EXPECT_EQ(cues[1].end_ms, 2000);
  EXPECT_EQ(cues[1].duration_frames, 25);
  EXPECT_EQ(cues[1].start_timecode, "00:00:01:00");
  EXPECT_EQ(cues[1].end_timecode, "00:00:02:00");
  EXPECT_EQ(cues[1].duration_timecode, "00:00:01:00");
  EXPECT_GE(cues[1].confidence, 50.f);
  ASSERT_EQ(shots.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(shots[i].shot_index, i);
    EXPECT_EQ(shots[i].start_frame, 50 + 25 * i);
    EXPECT_EQ(shots[i].end_frame, 74 + 25 * i);
    EXPECT_EQ(shots[i].start_ms, 2000 + 1000 * i);
    EXPECT_EQ(shots[i].duration_ms, 1000);
    EXPECT_GE(shots[i].confidence, 50.f);
    EXPECT_LE(shots[i].confidence, 100.f);
  }
  EXPECT_EQ(shots[1].start_timecode, "00:00:03:00");
  EXPECT_EQ(shots[2].end_timecode, "00:00:05:00");
  // Sorted by start.
  for (size_t i = 1; i < segs->size(); ++i) EXPECT_LE((*segs)[i - 1].start_ms, (*segs)[i].start_ms);
}

TEST_F(VideoSegments, OptionsSelectShotsOrCues) {
  SegmentOptions only_shots;
  only_shots.technical_cues = false;
  auto r = VideoReader::Open(path_);
  ASSERT_TRUE(r.ok());
  auto segs = DetectSegments(**r, only_shots, nullptr);
  ASSERT_TRUE(segs.ok());
  EXPECT_EQ(segs->size(), 3u);
  for (const auto& s : segs.value()) EXPECT_EQ(s.type, SegmentItem::Type::kShot);
}

TEST_F(VideoSegments, CancellingReturnsCancelled) {
  auto r = VideoReader::Open(path_);
  ASSERT_TRUE(r.ok());
  auto segs = DetectSegments(**r, SegmentOptions{}, [](double) { return false; });
  ASSERT_FALSE(segs.ok());
  EXPECT_EQ(segs.status().message(), Cancelled().message());
}

TEST(VideoSegmentSignature, SceneChangesDifferAndMotionDoesNot) {
  const cv::Size size(320, 180);
  auto a0 = internal::Signature(Scene(size, {30, 40, 200}, 0), 0.2f);
  auto a1 = internal::Signature(Scene(size, {30, 40, 200}, 3), 0.2f);
  auto b0 = internal::Signature(Scene(size, {40, 180, 60}, 0), 0.2f);
  EXPECT_LT(internal::Difference(a0, a1), internal::kShotCutThreshold);
  EXPECT_GE(internal::Difference(a0, b0), internal::kShotCutThreshold);
  EXPECT_GE(internal::Signature(ColorBars(size), 0.2f).bars_match, internal::kColorBarsMatch);
  EXPECT_LT(a0.bars_match, internal::kColorBarsMatch);
  EXPECT_FLOAT_EQ(
      internal::Signature(cv::Mat(size, CV_8UC3, cv::Scalar::all(5)), 0.2f).black_coverage, 1.f);
}

// One palette, two layouts (a lit figure on a dark stage, then the same
// figure across the stage): the colour histograms agree, so only the
// layout rule sees the cut; the figure's own slow motion is no cut.
TEST(VideoSegmentSignature, LayoutCutWithinOnePalette) {
  const cv::Size size(320, 180);
  const cv::Scalar stage(20, 25, 35), lit(60, 90, 160);
  auto frame = [&](int x) {
    cv::Mat f(size, CV_8UC3, stage);
    cv::rectangle(f, cv::Rect(x, 20, 80, 150), lit, cv::FILLED);
    return f;
  };
  internal::ShotCuts cuts;
  EXPECT_EQ(cuts.Next(internal::Signature(frame(20), 0.2f)), 0.f);  // the first frame
  for (int t = 1; t < 10; ++t)
    EXPECT_EQ(cuts.Next(internal::Signature(frame(20 + 2 * t), 0.2f)), 0.f) << t;
  const auto before = internal::Signature(frame(38), 0.2f);
  const auto after = internal::Signature(frame(220), 0.2f);
  EXPECT_LT(internal::Difference(before, after), internal::kShotCutThreshold);
  EXPECT_GE(internal::PixelDifference(before, after), internal::kLayoutCutThreshold);
  const float c = cuts.Next(after);
  EXPECT_GE(c, 50.f);
  EXPECT_LE(c, 100.f);
  EXPECT_EQ(cuts.Next(internal::Signature(frame(222), 0.2f)), 0.f);
}

TEST(VideoTimecode, NonDropFrame) {
  EXPECT_EQ(Timecode(0, 25), "00:00:00:00");
  EXPECT_EQ(Timecode(24, 25), "00:00:00:24");
  EXPECT_EQ(Timecode(25, 25), "00:00:01:00");
  EXPECT_EQ(Timecode(25 * 3600 + 1, 25), "01:00:00:01");
  EXPECT_EQ(Timecode(1800, 30), "00:01:00:00");
  EXPECT_EQ(Timecode(250, 10), "00:00:25:00");
}

TEST(VideoTimecode, DropFrameAt2997SkipsTwoNumbersEachMinuteButTheTenth) {
  const double ntsc = 30000.0 / 1001;
  EXPECT_EQ(Timecode(0, ntsc), "00:00:00;00");
  EXPECT_EQ(Timecode(1799, ntsc), "00:00:59;29");
  EXPECT_EQ(Timecode(1800, ntsc), "00:01:00;02");
  EXPECT_EQ(Timecode(3597, ntsc), "00:01:59;29");
  EXPECT_EQ(Timecode(3598, ntsc), "00:02:00;02");
  EXPECT_EQ(Timecode(17981, ntsc), "00:09:59;29");
  EXPECT_EQ(Timecode(17982, ntsc), "00:10:00;00");
  EXPECT_EQ(Timecode(17982 + 1800, ntsc), "00:11:00;02");
  EXPECT_EQ(Timecode(107892, ntsc), "01:00:00;00");  // one hour of 29.97
  EXPECT_EQ(Timecode(10, 29.97), "00:00:00;10");
}

TEST(VideoTimecode, DropFrameAt5994SkipsFour) {
  const double rate = 60000.0 / 1001;
  EXPECT_EQ(Timecode(3599, rate), "00:00:59;59");
  EXPECT_EQ(Timecode(3600, rate), "00:01:00;04");
  EXPECT_EQ(Timecode(35964, rate), "00:10:00;00");
}

}  // namespace
}  // namespace argus::video
