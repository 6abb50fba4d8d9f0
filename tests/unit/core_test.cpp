#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/base64.h"
#include "core/hash.h"
#include "core/image.h"

namespace argus {
namespace {

std::string Encode(const cv::Mat& img, const char* ext) {
  std::vector<uchar> buf;
  cv::imencode(ext, img, buf);
  return std::string(buf.begin(), buf.end());
}

cv::Mat Gradient(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(x % 256, y % 256, 128);
  return m;
}

// Inserts an APP1 Exif segment with the given Orientation right after SOI.
std::string WithExifOrientation(const std::string& jpeg, uint16_t orientation) {
  std::string tiff = std::string("MM\0*\0\0\0\x08", 8) + std::string("\0\x01", 2) +
                     std::string("\x01\x12\0\x03\0\0\0\x01", 8) + std::string(1, '\0') +
                     std::string(1, char(orientation)) + std::string("\0\0", 2) +
                     std::string("\0\0\0\0", 4);
  std::string payload = std::string("Exif\0\0", 6) + tiff;
  uint16_t len = uint16_t(payload.size() + 2);
  std::string seg = std::string("\xFF\xE1", 2) + char(len >> 8) + char(len & 0xFF) + payload;
  return jpeg.substr(0, 2) + seg + jpeg.substr(2);
}

TEST(Base64, RoundTrip) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto d = Base64Decode(Base64Encode(s), "Image.Bytes");
    ASSERT_TRUE(d.ok()) << s;
    EXPECT_EQ(d.value(), s);
  }
}

TEST(Base64, RejectsMalformedAndNamesField) {
  auto d = Base64Decode("abc", "Image.Bytes");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), Code::kInvalidParameter);
  EXPECT_NE(d.status().message().find("Image.Bytes"), std::string::npos);
  EXPECT_FALSE(Base64Decode("ab!@", "x").ok());
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DecodeImage, JpegAndPng) {
  cv::Mat g = Gradient(128, 96);
  for (const char* ext : {".jpg", ".png"}) {
    auto img = DecodeImage(Encode(g, ext));
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    EXPECT_EQ(img->width(), 128);
    EXPECT_EQ(img->height(), 96);
  }
}

TEST(DecodeImage, UnderEightyPixelsASideIsInvalidImageFormat) {
  for (auto [w, h] : {std::pair{79, 200}, std::pair{200, 79}}) {
    auto img = DecodeImage(Encode(Gradient(w, h), ".png"));
    ASSERT_FALSE(img.ok());
    EXPECT_EQ(img.status().code(), Code::kInvalidImageFormat);
  }
  EXPECT_TRUE(DecodeImage(Encode(Gradient(80, 80), ".png")).ok());
}

TEST(DecodeImage, NotAnImageIsInvalidImageFormat) {
  auto img = DecodeImage("this is plain text, not an image");
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.status().code(), Code::kInvalidImageFormat);
}

TEST(DecodeImage, TruncatedJpegIsInvalidImageFormat) {
  std::string jpeg = Encode(Gradient(128, 96), ".jpg");
  for (size_t cut : {size_t(40), jpeg.size() / 2, jpeg.size() - 2}) {
    auto img = DecodeImage(jpeg.substr(0, cut));
    ASSERT_FALSE(img.ok()) << cut;
    EXPECT_EQ(img.status().code(), Code::kInvalidImageFormat) << cut;
  }
}

TEST(DecodeImage, EmptyIsInvalidParameter) {
  EXPECT_EQ(DecodeImage("").status().code(), Code::kInvalidParameter);
}

TEST(DecodeImage, OverFiveMegabytesIsImageTooLarge) {
  std::string big(kMaxImageBytes + 1, '\0');
  big[0] = char(0xFF), big[1] = char(0xD8), big[2] = char(0xFF);
  EXPECT_EQ(DecodeImage(big).status().code(), Code::kImageTooLarge);
}

TEST(DecodeImage, HugeDeclaredDimensionsRefusedBeforeDecoding) {
  std::string png = Encode(Gradient(32, 32), ".png");
  // IHDR width/height at bytes 16..23: claim 30000 x 30000.
  for (int i : {16, 20}) {
    png[i] = 0, png[i + 1] = 0, png[i + 2] = char(0x75), png[i + 3] = char(0x30);
  }
  EXPECT_EQ(DecodeImage(png).status().code(), Code::kImageTooLarge);
}

TEST(DecodeImage, HonoursExifOrientation) {
  std::string jpeg = WithExifOrientation(Encode(Gradient(160, 96), ".jpg"), 6);  // rotate 90 CW
  auto img = DecodeImage(jpeg);
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width(), 96);
  EXPECT_EQ(img->height(), 160);
}

}  // namespace
}  // namespace argus
