// `argus eval liveness`: the face liveness service on genuine clips (short
// windows of real videos) and on spoofs built from the same frames by image
// processing (a print moved rigidly, a screen replay, a photo held still):
// false reject rate on the genuine clips, false accept rate per spoof kind,
// at the service's decision threshold. The spoofs are simulations, labelled
// as such; docs/MODEL_CARD.md#face-liveness says what they do not cover.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/cmd_vision.h"
#include "service/liveness.h"
#include "video/video.h"

namespace argus::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct Window {
  std::string video;
  int start = 0;
  std::vector<cv::Mat> frames;  // full frames, in order
};

// Portrait 3:4 crop around a face, as a phone's front camera frames it: the
// face about a third of the crop's height. Clipped to the frame.
cv::Rect SelfieCrop(const cv::Rect2f& face, cv::Size frame) {
  const float h = std::min(float(frame.height), 3.f * std::max(face.width, face.height));
  const float w = std::min(float(frame.width), h * 0.75f);
  const float cx = face.x + face.width / 2, cy = face.y + face.height / 2;
  const float x = std::clamp(cx - w / 2, 0.f, frame.width - w);
  const float y = std::clamp(cy - h / 2, 0.f, frame.height - h);
  return cv::Rect(int(x), int(y), int(w), int(h)) & cv::Rect(0, 0, frame.width, frame.height);
}

cv::Mat Recompress(const cv::Mat& bgr, int quality) {
  std::vector<uchar> buf;
  cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  return cv::imdecode(buf, cv::IMREAD_COLOR);
}

// `content` shown at `fill` of the frame's size over `background`, moved by a
// small rigid transform (shift, rotation, scale) drawn from `rng`.
cv::Mat HeldInFront(const cv::Mat& content, const cv::Mat& background, double fill,
                    std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  const cv::Size size = background.size();
  const double s = fill *
                   std::min(double(size.width) / content.cols, double(size.height) / content.rows) *
                   (1 + 0.02 * u(rng));
  const double angle = 2.0 * u(rng);
  const cv::Point2f c(content.cols / 2.f, content.rows / 2.f);
  cv::Mat m = cv::getRotationMatrix2D(c, angle, s);
  m.at<double>(0, 2) += size.width / 2.0 - c.x + 0.02 * size.width * u(rng);
  m.at<double>(1, 2) += size.height / 2.0 - c.y + 0.02 * size.height * u(rng);
  cv::Mat out = background.clone();
  cv::warpAffine(content, out, m, size, cv::INTER_LINEAR, cv::BORDER_TRANSPARENT);
  return out;
}

// A dim, defocused room behind the print or the screen.
cv::Mat Room(const cv::Mat& frame) {
  cv::Mat room;
  cv::GaussianBlur(frame, room, cv::Size(0, 0), 12);
  room.convertTo(room, -1, 0.6, 0);
  return room;
}

// A photo printed on paper: softer, lower contrast, a white paper border;
// held in front of the camera with small hand movements.
std::vector<cv::Mat> Print(const std::vector<cv::Mat>& frames, std::mt19937& rng) {
  cv::Mat photo;
  cv::GaussianBlur(frames[0], photo, cv::Size(0, 0), 1.0);
  photo.convertTo(photo, -1, 0.75, 40);  // ink on paper: contrast down, blacks lifted
  const int b = std::max(4, photo.cols / 16);
  cv::copyMakeBorder(photo, photo, b, b, b, b, cv::BORDER_CONSTANT, cv::Scalar(235, 240, 242));
  const cv::Mat room = Room(frames[0]);
  std::vector<cv::Mat> out;
  for (size_t i = 0; i < frames.size(); ++i)
    out.push_back(Recompress(HeldInFront(photo, room, 0.9, rng), 75));
  return out;
}

// The clip replayed on a phone or monitor and filmed: moiré, gamma and a
// bluish white point, a glare spot, a black bezel, small hand movements.
std::vector<cv::Mat> ScreenReplay(const std::vector<cv::Mat>& frames, std::mt19937& rng) {
  const cv::Size size = frames[0].size();
  cv::Mat moire(size, CV_32FC3);
  const double period = 3.3, theta = 0.35;
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double p = (x * std::cos(theta) + y * std::sin(theta)) / period;
      const float v = float(1 + 0.07 * std::sin(2 * CV_PI * p));
      moire.at<cv::Vec3f>(y, x) = cv::Vec3f(v, v, v);
    }
  cv::Mat glare(size, CV_32FC3, cv::Scalar::all(0));
  cv::circle(glare, cv::Point(size.width * 3 / 4, size.height / 4), size.width / 5,
             cv::Scalar::all(70), cv::FILLED);
  cv::GaussianBlur(glare, glare, cv::Size(0, 0), size.width / 10.0);
  const cv::Mat room = Room(frames[0]);
  std::vector<cv::Mat> out;
  for (const auto& f : frames) {
    cv::Mat s;
    f.convertTo(s, CV_32FC3, 1 / 255.0);
    cv::pow(s, 0.8, s);                              // the display's gamma
    s = s.mul(cv::Scalar(1.08, 1.0, 0.94)) * 255.0;  // BGR: bluish white point
    s = s.mul(moire) + glare;
    s.convertTo(s, CV_8UC3);
    const int b = std::max(6, s.cols / 14);
    cv::copyMakeBorder(s, s, b, b, b, b, cv::BORDER_CONSTANT, cv::Scalar(12, 12, 12));
    out.push_back(Recompress(HeldInFront(s, room, 0.95, rng), 80));
  }
  return out;
}

// Whether the window crosses a cut between two shots (a whole-frame colour
// histogram changes abruptly): a front camera's capture has none, so such a
// window is no genuine sample.
bool CrossesACut(const std::vector<cv::Mat>& frames) {
  cv::Mat prev;
  for (const auto& f : frames) {
    cv::Mat hsv, hist;
    cv::cvtColor(f, hsv, cv::COLOR_BGR2HSV);
    const int channels[] = {0, 1}, bins[] = {30, 32};
    const float hue[] = {0, 180}, sat[] = {0, 256};
    const float* ranges[] = {hue, sat};
    cv::calcHist(&hsv, 1, channels, cv::Mat(), hist, 2, bins, ranges);
    cv::normalize(hist, hist, 1, 0, cv::NORM_L1);
    if (!prev.empty() && cv::compareHist(prev, hist, cv::HISTCMP_CORREL) < 0.5) return true;
    prev = hist;
  }
  return false;
}

struct Tally {
  std::map<std::string, int> rejected_because;  // check → samples it capped
  int n = 0, live = 0;
  double confidence = 0, model = 0, motion = 0;
};

}  // namespace

int CmdEvalLiveness(const Args& a) {
  const char* env = std::getenv("ARGUS_DATA");
  const std::string data = a.Get("data", env && *env ? env : "../shared/data");
  const int length = a.GetInt("frames", 8), step = a.GetInt("step", 3),
            stride = a.GetInt("stride", 15);
  if (length < 2 || length > service::kLivenessMaxFrames || step < 1 || stride < 1) {
    std::fprintf(stderr, "argus eval liveness: --frames 2..%d, --step and --stride >= 1\n",
                 service::kLivenessMaxFrames);
    return 2;
  }
  std::vector<std::string> videos;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data + "/video", ec))
    if (e.path().extension() == ".mp4") videos.push_back(e.path().string());
  std::sort(videos.begin(), videos.end());
  if (videos.empty()) {
    std::fprintf(stderr, "argus eval liveness: no .mp4 under %s/video (--data DIR)\n",
                 data.c_str());
    return 1;
  }
  ApplyThreads(a);
  ml::Registry registry(ModelDir(a));
  auto faces = MakeFaceService(a, registry);
  if (!faces) return 1;
  float crop_scale = 0;
  try {
    crop_scale = std::stof(a.Get("crop-scale", "1.4"));
  } catch (const std::exception&) {
  }
  if (crop_scale < 0.5f || crop_scale > 3) {
    std::fprintf(stderr, "argus eval liveness: --crop-scale wants a number in 0.5..3\n");
    return 2;
  }
  auto live = service::LivenessService::Create(registry, faces.get(), crop_scale);
  if (!live.ok()) {
    std::fprintf(stderr, "argus eval liveness: %s\n", live.status().message().c_str());
    return 1;
  }
  service::LivenessService& svc = *live.value();

  std::map<std::string, Tally> tally;
  json samples = json::array();
  int skipped = 0, cuts = 0;
  std::mt19937 rng(20261206);
  auto run = [&](const std::string& kind, const Window& w, const std::vector<cv::Mat>& frames) {
    auto r = svc.Analyze(frames, 0);
    if (!r.ok()) {
      std::fprintf(stderr, "argus eval liveness: %s@%d %s: %s\n", w.video.c_str(), w.start,
                   kind.c_str(), r.status().message().c_str());
      return;
    }
    const auto& c = r.value().checks;
    Tally& t = tally[kind];
    ++t.n;
    t.live += c.confidence >= service::kLivenessThreshold;
    if (c.confidence < service::kLivenessThreshold)
      for (const auto& why :
           c.reasons.empty() ? std::vector<std::string>{"score under the threshold"} : c.reasons)
        ++t.rejected_because[why];
    t.confidence += c.confidence, t.model += c.model, t.motion += c.motion;
    json reasons = c.reasons;
    samples.push_back({{"video", w.video},
                       {"start", w.start},
                       {"kind", kind},
                       {"confidence", c.confidence},
                       {"model", c.model},
                       {"motion", c.motion},
                       {"nonrigid", c.median_nonrigid},
                       {"flow", c.median_flow},
                       {"difference", c.median_difference},
                       {"framed", c.framed},
                       {"reasons", reasons}});
    if (a.Has("verbose"))
      std::fprintf(stderr,
                   "%-28s %5d %-8s conf %5.1f model %.2f motion %.2f nonrigid %.3f "
                   "flow %.3f diff %.2f framed %d/%d %s\n",
                   w.video.c_str(), w.start, kind.c_str(), c.confidence, c.model, c.motion,
                   c.median_nonrigid, c.median_flow, c.median_difference, c.framed, c.frames,
                   reasons.dump().c_str());
  };

  for (const auto& path : videos) {
    auto reader = video::VideoReader::Open(path);
    if (!reader.ok()) {
      std::fprintf(stderr, "argus eval liveness: %s: %s\n", path.c_str(),
                   reader.status().message().c_str());
      return 1;
    }
    // Windows start every `stride` frames and take every `step`-th frame.
    const std::string name = fs::path(path).filename().string();
    std::map<int, Window> open;
    video::Frame f;
    for (;;) {
      auto more = reader.value()->Next(f, 0);
      if (!more.ok() || !more.value()) break;
      const int n = int(f.number);
      if (n % stride == 0) open[n] = Window{name, n, {}};
      for (auto it = open.begin(); it != open.end();) {
        Window& w = it->second;
        if ((n - w.start) % step == 0) w.frames.push_back(f.bgr);
        if (int(w.frames.size()) < length) {
          ++it;
          continue;
        }
        // Frame it as a front camera would, around the first frame's largest face.
        Image first;
        first.bgr = w.frames[0];
        service::DetectOptions opts;
        opts.video_frame = true;
        auto found = faces->DetectFaces(first, opts);
        const float min_face = 0.15f * std::min(first.bgr.cols, first.bgr.rows);
        if (!found.ok() || found.value().empty() || found.value().front().box.width < min_face) {
          ++skipped;  // no face a selfie would show
          it = open.erase(it);
          continue;
        }
        if (CrossesACut(w.frames)) {
          ++cuts;
          it = open.erase(it);
          continue;
        }
        const cv::Rect crop = SelfieCrop(found.value().front().box, first.bgr.size());
        for (auto& frame : w.frames) frame = frame(crop).clone();
        run("genuine", w, w.frames);
        run("print", w, Print(w.frames, rng));
        run("replay", w, ScreenReplay(w.frames, rng));
        run("still", w, std::vector<cv::Mat>(w.frames.size(), w.frames[0]));
        it = open.erase(it);
      }
    }
  }

  json table = json::array();
  for (const char* kind : {"genuine", "print", "replay", "still"}) {
    const Tally& t = tally[kind];
    const bool genuine = std::string(kind) == "genuine";
    const int wrong = genuine ? t.n - t.live : t.live;
    table.push_back({{"kind", kind},
                     {"samples", t.n},
                     {"judged_live", t.live},
                     {genuine ? "frr" : "far", t.n ? double(wrong) / t.n : 0.0},
                     {"mean_confidence", t.n ? t.confidence / t.n : 0.0},
                     {"mean_model", t.n ? t.model / t.n : 0.0},
                     {"mean_motion", t.n ? t.motion / t.n : 0.0},
                     {"rejected_because", t.rejected_because}});
  }
  if (a.Has("json")) {
    std::printf("%s\n", json({{"threshold", service::kLivenessThreshold},
                              {"frames", length},
                              {"step", step},
                              {"stride", stride},
                              {"skipped_windows", skipped},
                              {"windows_across_a_cut", cuts},
                              {"table", table},
                              {"samples", samples}})
                            .dump(2)
                            .c_str());
    return 0;
  }
  std::printf(
      "face liveness at Confidence >= %.0f: %d-frame windows (every %d frames, "
      "one every %d frames) of %s/video; skipped: %d windows without a selfie-sized face, "
      "%d across a shot change\n",
      double(service::kLivenessThreshold), length, step, stride, data.c_str(), skipped, cuts);
  std::printf("%-34s %7s %6s %7s %9s %6s %7s\n", "kind", "samples", "live", "error", "mean conf",
              "model", "motion");
  for (const auto& row : table) {
    const std::string kind = row["kind"];
    const bool genuine = kind == "genuine";
    const std::string label = genuine ? "genuine (FRR)" : kind + " spoof, simulated (FAR)";
    std::printf("%-34s %7d %6d %6.1f%% %9.1f %6.2f %7.2f\n", label.c_str(),
                row["samples"].get<int>(), row["judged_live"].get<int>(),
                100 * row[genuine ? "frr" : "far"].get<double>(),
                row["mean_confidence"].get<double>(), row["mean_model"].get<double>(),
                row["mean_motion"].get<double>());
  }
  for (const auto& [why, n] : tally["genuine"].rejected_because)
    std::printf("genuine rejected, %s: %d\n", why.c_str(), n);
  return 0;
}

}  // namespace argus::cli
