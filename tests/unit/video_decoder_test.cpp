// VideoReader over libav on clips the test writes with cv::VideoWriter
// (H.264 in MP4): metadata, sampling, timestamps, hostile files, limits.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <random>

#include "video/decoder.h"
#include "video/video.h"

namespace argus::video {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("argus_video_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// A clip of `frames` frames at `fps`: frame i shows i in its grey level and
// a square moving across it.
bool WriteClip(const std::string& path, int frames, double fps, cv::Size size) {
  cv::VideoWriter w(path, cv::VideoWriter::fourcc('a', 'v', 'c', '1'), fps, size);
  if (!w.isOpened()) return false;
  for (int i = 0; i < frames; ++i) {
    cv::Mat f(size, CV_8UC3, cv::Scalar::all(40 + (i * 5) % 160));
    cv::rectangle(f, cv::Rect((i * 7) % (size.width - 40), size.height / 3, 40, 40),
                  cv::Scalar(0, 0, 255), cv::FILLED);
    w.write(f);
  }
  w.release();
  return fs::exists(path) && fs::file_size(path) > 0;
}

std::vector<Frame> ReadAll(VideoReader& r, double fps, Status* error = nullptr) {
  std::vector<Frame> out;
  Frame f;
  while (true) {
    auto more = r.Next(f, fps);
    if (!more.ok()) {
      if (error) *error = more.status();
      break;
    }
    if (!more.value()) break;
    out.push_back(f);
  }
  return out;
}

class VideoDecoder : public ::testing::Test {
 protected:
  void SetUp() override {
    clip_ = dir_.File("clip.mp4");
    ASSERT_TRUE(WriteClip(clip_, 30, 10, {320, 240})) << "cv::VideoWriter cannot write H.264";
  }
  TempDir dir_;
  std::string clip_;
};

TEST_F(VideoDecoder, MetadataComesFromTheContainerAndCodec) {
  auto r = VideoReader::Open(clip_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const VideoMetadata& m = (*r)->metadata();
  EXPECT_EQ(m.codec, "h264");
  EXPECT_EQ(m.format, "QuickTime / MOV");
  EXPECT_NEAR(m.frame_rate, 10.0, 1e-6);
  EXPECT_EQ(m.width, 320);
  EXPECT_EQ(m.height, 240);
  EXPECT_NEAR(double(m.duration_ms), 3000.0, 100.0);
  EXPECT_EQ(m.frame_count, 30);
  EXPECT_TRUE(m.color_range == "LIMITED" || m.color_range == "FULL") << m.color_range;
}

TEST_F(VideoDecoder, EveryFrameWithItsNumberAndTimestamp) {
  auto r = VideoReader::Open(clip_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Status err;
  auto frames = ReadAll(**r, 0, &err);
  EXPECT_TRUE(err.ok()) << err.ToString();
  ASSERT_EQ(frames.size(), 30u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(frames[i].number, int64_t(i));
    EXPECT_EQ(frames[i].timestamp_ms, int64_t(i) * 100);
    EXPECT_EQ(frames[i].bgr.type(), CV_8UC3);
    EXPECT_EQ(frames[i].bgr.size(), cv::Size(320, 240));
  }
  // The pixels are those written: frame 7's background grey level.
  const cv::Vec3b bg = frames[7].bgr.at<cv::Vec3b>(10, 10);
  EXPECT_NEAR(bg[1], 40 + 35, 6);
  // The red square of frame 7 sits at x = 49..88.
  const cv::Vec3b sq = frames[7].bgr.at<cv::Vec3b>(240 / 3 + 20, 49 + 20);
  EXPECT_GT(sq[2], 200);
  EXPECT_LT(sq[0], 60);
}

TEST_F(VideoDecoder, SamplesAtFiveAndOneFramesPerSecond) {
  for (auto [fps, expected] : {std::pair{5.0, 15}, std::pair{1.0, 3}, std::pair{3.0, 9}}) {
    auto r = VideoReader::Open(clip_);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    auto frames = ReadAll(**r, fps);
    ASSERT_EQ(int(frames.size()), expected) << "at " << fps << " fps";
    const double gap = 1000.0 / fps;
    for (size_t i = 0; i < frames.size(); ++i) {
      // The first frame at or after each sampling point.
      EXPECT_GE(double(frames[i].timestamp_ms), i * gap - 1e-6);
      EXPECT_LT(double(frames[i].timestamp_ms), i * gap + 100);
      EXPECT_EQ(frames[i].number * 100, frames[i].timestamp_ms);
    }
  }
}

TEST_F(VideoDecoder, SkippingNonReferenceFramesStillSamplesEveryPoint) {
  DecoderOptions o;
  o.skip_nonref_min_gap_frames = 2;
  auto r = OpenVideo(clip_, Limits{}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto frames = ReadAll(**r, 1);
  ASSERT_EQ(frames.size(), 3u);
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_GE(frames[i].timestamp_ms, int64_t(i) * 1000);
    EXPECT_LT(frames[i].timestamp_ms, int64_t(i) * 1000 + 400);
    EXPECT_EQ(frames[i].number * 100, frames[i].timestamp_ms);
  }
}

TEST_F(VideoDecoder, TruncatedFileIsACorruptContainerNotACrash) {
  const std::string cut = dir_.File("cut.mp4");
  {
    std::ifstream in(clip_, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(cut, std::ios::binary).write(bytes.data(), long(bytes.size() / 2));
  }
  auto r = VideoReader::Open(cut);
  if (r.ok()) {
    Status err;
    ReadAll(**r, 0, &err);
    ASSERT_FALSE(err.ok()) << "a file cut in half read as a whole video";
    EXPECT_EQ(err.code(), Code::kInvalidParameter) << err.ToString();
  } else {
    EXPECT_EQ(r.status().code(), Code::kInvalidParameter) << r.status().ToString();
  }
}

TEST_F(VideoDecoder, HostileFilesAreInvalidParameters) {
  const std::string empty = dir_.File("empty.mp4"), noise = dir_.File("noise.mp4"),
                    png = dir_.File("image.mp4"), text = dir_.File("text.mov"),
                    header_only = dir_.File("header.mp4");
  std::ofstream(empty, std::ios::binary).flush();
  {
    std::mt19937 rng(7);
    std::string bytes(200000, '\0');
    for (char& c : bytes) c = char(rng());
    std::ofstream(noise, std::ios::binary).write(bytes.data(), long(bytes.size()));
  }
  {
    cv::Mat img(120, 160, CV_8UC3, cv::Scalar(10, 200, 30));
    std::vector<uchar> buf;
    cv::imencode(".png", img, buf);
    std::ofstream(png, std::ios::binary)
        .write(reinterpret_cast<char*>(buf.data()), long(buf.size()));
  }
  std::ofstream(text) << "this is not a video\n";
  {
    std::ifstream in(clip_, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(header_only, std::ios::binary).write(bytes.data(), 64);
  }
  for (const auto& path : {empty, noise, png, text, header_only, dir_.File("missing.mp4")}) {
    auto r = VideoReader::Open(path);
    if (r.ok()) {
      Status err;
      auto frames = ReadAll(**r, 0, &err);
      EXPECT_FALSE(err.ok()) << path << " decoded " << frames.size() << " frames";
      EXPECT_EQ(err.code(), Code::kInvalidParameter) << path;
      continue;
    }
    EXPECT_EQ(r.status().code(), Code::kInvalidParameter) << path << ": " << r.status().ToString();
    EXPECT_FALSE(r.status().message().empty());
  }
}

TEST_F(VideoDecoder, LimitsGiveVideoTooLarge) {
  Limits bytes;
  bytes.max_bytes = 100;
  Limits duration;
  duration.max_duration_ms = 1000;
  Limits size;
  size.max_width = 160;
  for (const Limits& l : {bytes, duration, size}) {
    auto r = VideoReader::Open(clip_, l);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Code::kVideoTooLarge) << r.status().ToString();
  }
  EXPECT_TRUE(VideoReader::Open(clip_, Limits{}).ok());
}

}  // namespace
}  // namespace argus::video
