// Post-processing of DetectLabels, DetectText and DetectModerationLabels
// without models: CenterNet decode, colours, DB boxes, CTC, taxonomy,
// moderation mapping, text filters and request validation.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "api/rekognition/router.h"
#include "service/label_taxonomy.h"
#include "service/labels.h"
#include "service/moderation.h"
#include "service/text.h"
#include "vision/labels/labels.h"
#include "vision/text/text.h"

namespace argus {
namespace {

using nlohmann::json;

TEST(CenterNetDecode, PeaksBoxesAndPerClassNms) {
  const int G = 8, C = 3;
  std::vector<float> heat(G * G * C, 0.f), wh(G * G * 4, 0.f);
  auto at = [&](int x, int y, int c) -> float& { return heat[(y * G + x) * C + c]; };
  auto box = [&](int x, int y, float l, float t, float r, float b) {
    float* d = &wh[(y * G + x) * 4];
    d[0] = l, d[1] = t, d[2] = r, d[3] = b;
  };
  at(2, 2, 0) = 0.9f;  // peak
  at(3, 2, 0) = 0.8f;  // neighbour of a higher value: not a peak
  at(6, 6, 0) = 0.7f;  // second peak of class 0
  at(2, 2, 1) = 0.5f;  // same cell, other class: kept (NMS is per class)
  at(5, 1, 2) = 0.1f;  // below min_score
  box(2, 2, 4, 4, 4, 4);
  box(6, 6, 2, 2, 2, 2);
  // Input 32 px on an 8-cell grid: stride 4; image 64x32 → sx 2, sy 1.
  auto out =
      vision::DecodeCenterNet(heat.data(), wh.data(), G, C, 32, cv::Size(64, 32), 100, 0.2f, 0.5f);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FLOAT_EQ(out[0].score, 0.9f);
  EXPECT_EQ(out[0].class_id, 0);
  // Cell (2,2): centre (8,8) in input pixels, +-4 → (4..12) x 2 horizontally.
  EXPECT_FLOAT_EQ(out[0].box.x, 8.f);
  EXPECT_FLOAT_EQ(out[0].box.width, 16.f);
  EXPECT_FLOAT_EQ(out[0].box.y, 4.f);
  EXPECT_FLOAT_EQ(out[0].box.height, 8.f);
  EXPECT_EQ(out[1].class_id, 0);
  EXPECT_FLOAT_EQ(out[1].score, 0.7f);
  EXPECT_EQ(out[2].class_id, 1);
  // Top-k keeps only the best peak.
  auto top1 =
      vision::DecodeCenterNet(heat.data(), wh.data(), G, C, 32, cv::Size(64, 32), 1, 0.2f, 0.5f);
  ASSERT_EQ(top1.size(), 1u);
  EXPECT_FLOAT_EQ(top1[0].score, 0.9f);
}

TEST(CenterNetDecode, DuplicateBoxesOfOneClassAreSuppressed) {
  const int G = 8, C = 1;
  std::vector<float> heat(G * G * C, 0.f), wh(G * G * 4, 16.f);
  heat[(4 * G + 2) * C] = 0.9f;
  heat[(4 * G + 4) * C] = 0.8f;  // two cells apart: both peaks, boxes overlap heavily
  auto out =
      vision::DecodeCenterNet(heat.data(), wh.data(), G, C, 32, cv::Size(32, 32), 100, 0.2f, 0.5f);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].score, 0.9f);
}

TEST(Colors, SimplifiedAndCssNames) {
  EXPECT_EQ(vision::SimplifiedColorName({255, 0, 0}), "red");
  EXPECT_EQ(vision::SimplifiedColorName({255, 192, 203}), "pink");
  EXPECT_EQ(vision::SimplifiedColorName({0, 0, 255}), "blue");
  EXPECT_EQ(vision::SimplifiedColorName({0, 128, 128}), "teal");
  EXPECT_EQ(vision::SimplifiedColorName({139, 69, 19}), "brown");
  EXPECT_EQ(vision::SimplifiedColorName({255, 165, 0}), "orange");
  EXPECT_EQ(vision::SimplifiedColorName({255, 255, 0}), "yellow");
  EXPECT_EQ(vision::SimplifiedColorName({0, 128, 0}), "green");
  EXPECT_EQ(vision::SimplifiedColorName({128, 0, 128}), "purple");
  EXPECT_EQ(vision::SimplifiedColorName({128, 128, 128}), "grey");
  EXPECT_EQ(vision::SimplifiedColorName({250, 250, 250}), "white");
  EXPECT_EQ(vision::SimplifiedColorName({10, 10, 10}), "black");
  EXPECT_EQ(vision::SimplifiedColorNames().size(), 12u);
  EXPECT_EQ(vision::CssColorName({255, 0, 0}), "red");
  EXPECT_EQ(vision::CssColorName({0, 0, 128}), "navy");
  EXPECT_EQ(vision::CssColorName({47, 79, 79}), "darkslategray");
  EXPECT_EQ(vision::CssColorName({250, 128, 115}), "salmon");
}

TEST(Colors, DominantColorsOfTwoHalves) {
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(0, 0, 255));      // red (BGR)
  img(cv::Rect(0, 0, 60, 100)).setTo(cv::Scalar(255, 0, 0));  // blue, 30%
  auto colors = vision::DominantColors(img, 10);
  ASSERT_EQ(colors.size(), 2u);
  EXPECT_EQ(colors[0].simplified, "red");
  EXPECT_EQ(colors[0].css_name, "red");
  EXPECT_NEAR(colors[0].pixel_percent, 70.f, 1.f);
  EXPECT_EQ(colors[0].hex, "#ff0000");
  EXPECT_EQ(colors[1].simplified, "blue");
  EXPECT_NEAR(colors[1].pixel_percent, 30.f, 1.f);
  // Deterministic, and limited by max_colors.
  auto again = vision::DominantColors(img, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].hex, colors[0].hex);
  // A mask restricts the pixels.
  cv::Mat mask = cv::Mat::zeros(img.size(), CV_8U);
  mask(cv::Rect(0, 0, 60, 100)).setTo(255);
  auto blue = vision::DominantColors(img, 10, mask);
  ASSERT_EQ(blue.size(), 1u);
  EXPECT_EQ(blue[0].simplified, "blue");
  EXPECT_NEAR(blue[0].pixel_percent, 100.f, 0.01f);
}

TEST(Colors, ImageQuality) {
  cv::Mat flat(120, 160, CV_8UC3, cv::Scalar(128, 128, 128));
  auto q = vision::MeasureImageQuality(flat);
  EXPECT_NEAR(q.brightness, 50.2f, 0.5f);
  EXPECT_NEAR(q.sharpness, 0.f, 0.01f);
  EXPECT_NEAR(q.contrast, 0.f, 0.01f);
  cv::Mat checks(120, 160, CV_8UC3);
  for (int y = 0; y < checks.rows; ++y)
    for (int x = 0; x < checks.cols; ++x)
      checks.at<cv::Vec3b>(y, x) =
          ((x / 4 + y / 4) % 2) ? cv::Vec3b(255, 255, 255) : cv::Vec3b(0, 0, 0);
  auto c = vision::MeasureImageQuality(checks);
  EXPECT_GT(c.sharpness, 90.f);
  EXPECT_GT(c.contrast, 95.f);
  cv::Mat blurred;
  cv::GaussianBlur(checks, blurred, cv::Size(0, 0), 3);
  EXPECT_LT(vision::MeasureImageQuality(blurred).sharpness, c.sharpness);
}

TEST(TextGeometry, OrientedQuadReadsLeftToRightWithinNinetyDegrees) {
  // A 100x20 box rotated by various angles: pts[0]→pts[1] is the long side,
  // pointing right (or down at exactly 90 degrees).
  for (float angle : {0.f, 30.f, -30.f, 60.f, -60.f, 89.f, -89.f, 90.f}) {
    cv::RotatedRect r(cv::Point2f(200, 200), cv::Size2f(100, 20), angle);
    vision::Quad q = vision::OrientedQuad(r);
    cv::Point2f d = q[1] - q[0];
    EXPECT_NEAR(cv::norm(d), 100.0, 0.01) << angle;
    EXPECT_NEAR(cv::norm(q[3] - q[0]), 20.0, 0.01) << angle;
    EXPECT_TRUE(d.x > 1e-3f || (std::abs(d.x) <= 1e-3f && d.y > 0)) << angle;
    // Angle of the reading direction equals the rotation (mod 180).
    float got = std::atan2(d.y, d.x) * 180.f / float(CV_PI);
    float want = std::fmod(angle + 90.f + 1800.f, 180.f) - 90.f;
    if (std::abs(std::abs(want) - 90.f) < 0.01f) want = 90.f;
    EXPECT_NEAR(got, want, 0.05) << angle;
  }
  // Near-square boxes take the more horizontal side.
  vision::Quad q =
      vision::OrientedQuad(cv::RotatedRect(cv::Point2f(50, 50), cv::Size2f(20, 22), 80));
  cv::Point2f d = q[1] - q[0];
  EXPECT_GT(std::abs(d.x), std::abs(d.y));
  cv::Point2f mid = vision::QuadPoint(q, 0.5f, 0.5f);
  EXPECT_NEAR(mid.x, 50.f, 1e-3);
  EXPECT_NEAR(mid.y, 50.f, 1e-3);
}

TEST(TextGeometry, DbPostprocessFindsAndUnclipsABox) {
  cv::Mat prob = cv::Mat::zeros(100, 200, CV_32F);
  prob(cv::Rect(40, 40, 100, 20)).setTo(0.9f);
  prob(cv::Rect(10, 80, 1, 1)).setTo(0.95f);  // a one-pixel blob: too small, never a crash
  auto boxes = vision::DbPostprocess(prob, vision::DbParams{}, 2.f);
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].score, 0.9f, 0.05f);
  const auto& q = boxes[0].quad;
  // Shrunk-map box 99x19 grows by 2d, d = area*1.5/perimeter ≈ 12.0; then x2.
  float w = float(cv::norm(q[1] - q[0])), h = float(cv::norm(q[3] - q[0]));
  EXPECT_NEAR(w, 2 * (99 + 2 * 99 * 19 * 1.5 / (2 * (99 + 19))), 3.0);
  EXPECT_NEAR(h, 2 * (19 + 2 * 99 * 19 * 1.5 / (2 * (99 + 19))), 3.0);
  EXPECT_LT(q[0].x, q[1].x);
  EXPECT_LT(q[0].y, q[3].y);
  // Low-scoring regions are dropped.
  prob.setTo(0.4f);
  EXPECT_TRUE(vision::DbPostprocess(prob, vision::DbParams{}, 1.f).empty());
}

TEST(Ctc, GreedyDecodeCollapsesRepeatsAndBlanks) {
  const std::vector<std::string> vocab = {"a", "b", " "};
  const int C = 4;  // blank + 3
  // steps: a a blank a b b blank  → "aab"
  std::vector<int> path = {1, 1, 0, 1, 2, 2, 0};
  std::vector<float> probs(path.size() * C, 0.f);
  for (size_t t = 0; t < path.size(); ++t) probs[t * C + path[t]] = t == 0 ? 0.6f : 0.9f;
  auto r = vision::CtcGreedyDecode(probs.data(), int(path.size()), C, vocab, 8.f, 0.f, 1e9f);
  EXPECT_EQ(r.text, "aab");
  ASSERT_EQ(r.chars.size(), 3u);
  EXPECT_FLOAT_EQ(r.chars[0].x, 4.f);   // centre of step 0
  EXPECT_FLOAT_EQ(r.chars[1].x, 28.f);  // step 3
  EXPECT_NEAR(r.confidence, (0.6f + 0.9f + 0.9f) / 3, 1e-6);
  // A window of columns decodes only its steps, with x relative to it.
  auto w = vision::CtcGreedyDecode(probs.data(), int(path.size()), C, vocab, 8.f, 24.f, 48.f);
  EXPECT_EQ(w.text, "ab");
  EXPECT_FLOAT_EQ(w.chars[0].x, 4.f);
  // Nothing decoded: empty text, confidence 0.
  std::vector<float> blank(5 * C, 0.f);
  for (int t = 0; t < 5; ++t) blank[t * C] = 1.f;
  auto e = vision::CtcGreedyDecode(blank.data(), 5, C, vocab, 8.f, 0.f, 1e9f);
  EXPECT_EQ(e.text, "");
  EXPECT_EQ(e.confidence, 0.f);
}

TEST(Ctc, LikelySpacesBetweenCharactersAreWordBreaks) {
  const std::vector<std::string> vocab = {"a", "b", " "};
  const int C = 4;  // blank + a, b, space (class 3)
  // steps: blank a blank blank b blank; the blanks carry some space probability.
  auto decode = [&](float before, float between, float after) {
    std::vector<int> path = {0, 1, 0, 0, 2, 0};
    std::vector<float> probs(path.size() * C, 0.f);
    for (size_t t = 0; t < path.size(); ++t) probs[t * C + path[t]] = 0.9f;
    probs[0 * C + 3] = before;
    probs[3 * C + 3] = between;
    probs[5 * C + 3] = after;
    return vision::CtcGreedyDecode(probs.data(), int(path.size()), C, vocab, 8.f, 0.f, 1e9f);
  };
  auto r = decode(0.3f, 0.08f, 0.3f);
  EXPECT_EQ(r.text, "a b");  // no space before the first or after the last character
  ASSERT_EQ(r.chars.size(), 3u);
  EXPECT_EQ(r.chars[1].text, " ");
  EXPECT_FLOAT_EQ(r.chars[1].x, 28.f);  // the step that carried it
  EXPECT_LT(r.chars[1].prob, 0.f);      // not part of the confidence
  EXPECT_NEAR(r.confidence, 0.9f, 1e-6);
  EXPECT_EQ(decode(0.f, 0.02f, 0.f).text, "ab");  // too unlikely
  // Without a space class (vocab not ending in " ") nothing is inserted.
  std::vector<float> probs(6 * C, 0.f);
  std::vector<int> path = {0, 1, 0, 0, 2, 0};
  for (size_t t = 0; t < path.size(); ++t) probs[t * C + path[t]] = 0.9f;
  probs[3 * C + 3] = 0.3f;
  EXPECT_EQ(vision::CtcGreedyDecode(probs.data(), 6, C, {"a", "b", "c"}, 8.f, 0.f, 1e9f).text,
            "ab");
}

TEST(Ctc, CutsFallInGapsBetweenInk) {
  // White line, black blocks at 10..89 of every 100 columns.
  cv::Mat line(48, 1000, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int x = 0; x < 1000; x += 100) line(cv::Rect(x + 10, 10, 80, 28)).setTo(cv::Scalar(0, 0, 0));
  auto ink = vision::InkProfile(line);
  ASSERT_EQ(ink.size(), 1000u);
  EXPECT_EQ(ink[5], 0.f);
  EXPECT_GT(ink[50], 0.f);
  // The rightmost blank column of the window.
  EXPECT_EQ(vision::FindCut(ink, 150, 299), 299);
  EXPECT_EQ(vision::FindCut(ink, 150, 205), 205);
  // All ink: the window's right end.
  EXPECT_EQ(vision::FindCut(ink, 20, 80), 80);
  // Out-of-range windows are clamped.
  EXPECT_EQ(vision::FindCut(ink, 990, 5000), 999);
}

TEST(Taxonomy, CocoClassesHaveNamesParentsAndCategories) {
  for (int c = 0; c < 80; ++c) {
    const auto* e = service::LabelForCocoClass(c);
    ASSERT_NE(e, nullptr) << c;
    EXPECT_FALSE(e->categories.empty()) << e->name;
    for (const auto& p : e->parents) EXPECT_NE(service::FindLabel(p), nullptr) << p;
  }
  EXPECT_EQ(service::LabelForCocoClass(80), nullptr);
  const auto* car = service::LabelForCocoClass(2);
  EXPECT_EQ(car->name, "Car");
  EXPECT_EQ(car->parents, (std::vector<std::string>{"Vehicle", "Transportation"}));
  EXPECT_EQ(car->aliases, (std::vector<std::string>{"Automobile"}));
  const auto* dog = service::LabelForCocoClass(16);
  EXPECT_EQ(dog->name, "Dog");
  EXPECT_EQ(dog->parents, (std::vector<std::string>{"Mammal", "Pet", "Animal"}));
  EXPECT_EQ(dog->categories, (std::vector<std::string>{"Animals and Pets"}));
  EXPECT_EQ(service::LabelForCocoClass(0)->name, "Person");
  EXPECT_EQ(service::LabelForCocoClass(67)->name, "Mobile Phone");
}

TEST(Moderation, NsfwScoresMapToRekognitionTaxonomy) {
  vision::NsfwScores s;
  s.p = {0.02f, 0.08f, 0.1f, 0.6f, 0.2f};  // drawing hentai neutral porn sexy
  auto r = service::ModerationService::FromScores(s, 50);
  ASSERT_EQ(r.labels.size(), 2u);
  EXPECT_EQ(r.labels[0].name, "Explicit Nudity");
  EXPECT_EQ(r.labels[0].parent, "");
  EXPECT_EQ(r.labels[0].taxonomy_level, 1);
  EXPECT_NEAR(r.labels[0].confidence, 68.f, 1e-3);
  EXPECT_EQ(r.labels[1].name, "Nudity");
  EXPECT_EQ(r.labels[1].parent, "Explicit Nudity");
  EXPECT_EQ(r.labels[1].taxonomy_level, 2);
  EXPECT_TRUE(r.content_types.empty());
  // Everything at MinConfidence 0; the larger top-level group first.
  auto all = service::ModerationService::FromScores(s, 0);
  ASSERT_EQ(all.labels.size(), 4u);
  EXPECT_EQ(all.labels[3].name, "Suggestive");
  ASSERT_EQ(all.content_types.size(), 1u);
  EXPECT_EQ(all.content_types[0].name, "Illustrated");
  // A neutral photo: no labels (a valid, empty answer).
  s.p = {0.01f, 0.0f, 0.97f, 0.01f, 0.01f};
  EXPECT_TRUE(service::ModerationService::FromScores(s, 50).labels.empty());
}

vision::TextLine Line(const std::string& a, const std::string& b, float y, float conf_b) {
  vision::TextLine l;
  l.quad = {cv::Point2f(10, y), cv::Point2f(110, y), cv::Point2f(110, y + 20),
            cv::Point2f(10, y + 20)};
  vision::TextWord w1{
      a,
      0.99f,
      {cv::Point2f(10, y), cv::Point2f(50, y), cv::Point2f(50, y + 20), cv::Point2f(10, y + 20)}};
  vision::TextWord w2{
      b,
      conf_b,
      {cv::Point2f(60, y), cv::Point2f(110, y), cv::Point2f(110, y + 20), cv::Point2f(60, y + 20)}};
  l.words = {w1, w2};
  l.text = a + " " + b;
  l.confidence = (0.99f + conf_b) / 2;
  return l;
}

TEST(TextFilter, IdsParentsAndFilters) {
  std::vector<vision::TextLine> lines = {Line("hello", "world", 10, 0.95f),
                                         Line("second", "line", 100, 0.40f)};
  const cv::Size size(200, 200);
  auto all = service::TextService::Filter(lines, size, {});
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].type, service::TextDetection::Type::kLine);
  EXPECT_EQ(all[0].id, 0);
  EXPECT_EQ(all[1].id, 1);
  EXPECT_EQ(all[2].type, service::TextDetection::Type::kWord);
  EXPECT_EQ(all[2].id, 2);
  EXPECT_EQ(all[2].parent_id, 0);
  EXPECT_EQ(all[5].parent_id, 1);
  // MinConfidence drops the weak word and rebuilds its line's text.
  service::TextOptions o;
  o.min_confidence = 50;
  auto f = service::TextService::Filter(lines, size, o);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[1].text, "second");
  // A region of interest around the first line only.
  o = {};
  o.regions.push_back({cv::Rect2f(0, 0, 1, 0.3f), {}});
  f = service::TextService::Filter(lines, size, o);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].text, "hello world");
  // A polygon region around the right half keeps "world" and "line".
  o = {};
  o.regions.push_back({{}, {{0.28f, 0.f}, {1.f, 0.f}, {1.f, 1.f}, {0.28f, 1.f}}});
  f = service::TextService::Filter(lines, size, o);
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[0].text, "world");
  EXPECT_EQ(f[1].text, "line");
  // Minimum word width (ratio of the image width): 45 px of 200.
  o = {};
  o.min_box_width = 0.22f;
  f = service::TextService::Filter(lines, size, o);
  ASSERT_EQ(f.size(), 4u);
  // At most max_words words.
  o = {};
  o.max_words = 3;
  f = service::TextService::Filter(lines, size, o);
  EXPECT_EQ(f.size(), 5u);  // 2 lines + 3 words
}

api::Response Call(const char* op, const json& body) {
  api::Services none;  // validation fails before any service is needed
  return api::Handle(std::string("RekognitionService.") + op, body.dump(), none);
}

const json kImage = {{"Bytes", "aGVsbG8="}};

TEST(Validation, SemanticConstraintsAreInvalidParameter) {
  for (json roi :
       {json{{"BoundingBox", {{"Left", 0.8}, {"Top", 0.1}, {"Width", 0.5}, {"Height", 0.1}}}},
        json{{"BoundingBox", {{"Left", -0.1}, {"Top", 0.1}, {"Width", 0.5}, {"Height", 0.1}}}},
        json{{"BoundingBox", {{"Left", 0.1}, {"Top", 0.1}, {"Width", 0.0}, {"Height", 0.1}}}},
        json{{"Polygon",
              {{{"X", 0.1}, {"Y", 0.1}}, {{"X", 1.5}, {"Y", 0.1}}, {{"X", 0.1}, {"Y", 0.9}}}}},
        json::object()}) {
    auto r = Call("DetectText", {{"Image", kImage}, {"Filters", {{"RegionsOfInterest", {roi}}}}});
    EXPECT_EQ(r.error_type, "InvalidParameterException") << roi.dump() << r.body;
  }
  auto r = Call("DetectText",
                {{"Image", kImage}, {"Filters", {{"WordFilter", {{"MinConfidence", 101}}}}}});
  EXPECT_EQ(r.error_type, "InvalidParameterException") << r.body;
  r = Call("DetectLabels", {{"Image", kImage}, {"MinConfidence", -1}});
  EXPECT_EQ(r.error_type, "InvalidParameterException") << r.body;
  r = Call("DetectLabels", {{"Image", kImage}, {"Features", {"FACES"}}});
  EXPECT_EQ(r.error_type, "InvalidParameterException") << r.body;
  r = Call("DetectLabels",
           {{"Image", kImage}, {"Settings", {{"ImageProperties", {{"MaxDominantColors", 21}}}}}});
  EXPECT_EQ(r.error_type, "InvalidParameterException") << r.body;
  r = Call("DetectModerationLabels", {{"Image", kImage}, {"MinConfidence", 100.5}});
  EXPECT_EQ(r.error_type, "InvalidParameterException") << r.body;
  r = Call("DetectModerationLabels", {{"Image", kImage}});
  // Past validation the image itself is checked: "hello" is not an image.
  EXPECT_EQ(r.error_type, "InvalidImageFormatException") << r.body;
}

}  // namespace
}  // namespace argus
