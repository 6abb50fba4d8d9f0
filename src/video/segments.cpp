// DetectSegments: shots from colour-histogram and thumbnail differences
// between consecutive frames, BlackFrames and ColorBars technical cues, and SMPTE
// timecodes.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

#include "video/analysis_util.h"
#include "video/segments_internal.h"
#include "video/video.h"

namespace argus::video {

std::string Timecode(int64_t frame, double fps) {
  if (frame < 0) frame = 0;
  const bool drop = std::abs(fps - 30000.0 / 1001) < 0.01 || std::abs(fps - 60000.0 / 1001) < 0.01;
  const int64_t nominal = std::max<int64_t>(1, std::llround(fps));
  if (drop) {
    // SMPTE drop-frame: frame numbers 0 and 1 (0..3 at 59.94) are skipped
    // at the start of every minute except each tenth.
    const int64_t dropped = nominal / 15;               // 2 or 4
    const int64_t per10 = nominal * 600 - 9 * dropped;  // frames in 10 minutes
    const int64_t per1 = nominal * 60 - dropped;        // frames in a dropping minute
    const int64_t tens = frame / per10, rem = frame % per10;
    frame += 9 * dropped * tens;
    if (rem > dropped) frame += dropped * ((rem - dropped) / per1);
  }
  const int64_t ff = frame % nominal;
  const int64_t ss = (frame / nominal) % 60;
  const int64_t mm = (frame / (nominal * 60)) % 60;
  const int64_t hh = frame / (nominal * 3600);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%02lld", (long long)hh, (long long)mm,
                (long long)ss, drop ? ';' : ':', (long long)ff);
  return buf;
}

namespace internal {

FrameSignature Signature(const cv::Mat& bgr, float black_threshold) {
  FrameSignature sig;
  cv::Mat small, hsv, grey;
  cv::resize(bgr, small, cv::Size(kThumbWidth, kThumbHeight), 0, 0, cv::INTER_AREA);
  cv::cvtColor(small, hsv, cv::COLOR_BGR2HSV);
  cv::cvtColor(small, grey, cv::COLOR_BGR2GRAY);
  const int limit = int(std::lround(black_threshold * 255));
  int black = 0;
  for (int y = 0; y < kThumbHeight; ++y) {
    const auto* p = hsv.ptr<cv::Vec3b>(y);
    const auto* g = grey.ptr<uchar>(y);
    for (int x = 0; x < kThumbWidth; ++x) {
      sig.hist[p[x][0] * 16 / 180] += 1;
      sig.hist[16 + p[x][1] * 8 / 256] += 1;
      sig.hist[24 + p[x][2] * 8 / 256] += 1;
      if (g[x] <= limit) ++black;
    }
  }
  const float n = float(kThumbWidth * kThumbHeight);
  for (float& v : sig.hist) v /= n;
  sig.black_coverage = float(black) / n;
  sig.thumb = small;
  // SMPTE colour bars: seven vertical bars over the top half, each channel
  // clearly on or off: grey/white, yellow, cyan, green, magenta, red, blue.
  static constexpr std::array<std::array<int, 3>, 7> kBars = {
      {{1, 1, 1}, {0, 1, 1}, {1, 1, 0}, {0, 1, 0}, {1, 0, 1}, {0, 0, 1}, {1, 0, 0}}};  // B, G, R
  int matched = 0, total = 0;
  for (int bar = 0; bar < 7; ++bar) {
    const int x = int((bar + 0.5) * kThumbWidth / 7);
    for (float fy : {0.1f, 0.3f, 0.5f}) {
      const int y = int(fy * kThumbHeight);
      const cv::Vec3b c = small.at<cv::Vec3b>(y, x);
      bool ok = true;
      for (int ch = 0; ch < 3; ++ch) ok = ok && (kBars[bar][ch] ? c[ch] >= 140 : c[ch] <= 70);
      matched += ok;
      ++total;
    }
  }
  sig.bars_match = float(matched) / float(total);
  return sig;
}

float Difference(const FrameSignature& a, const FrameSignature& b) {
  // Half the L1 distance of each histogram (0 equal .. 1 disjoint), hue
  // weighted as much as saturation and value together.
  float h = 0, s = 0, v = 0;
  for (size_t i = 0; i < 16; ++i) h += std::abs(a.hist[i] - b.hist[i]);
  for (size_t i = 16; i < 24; ++i) s += std::abs(a.hist[i] - b.hist[i]);
  for (size_t i = 24; i < 32; ++i) v += std::abs(a.hist[i] - b.hist[i]);
  return std::min(1.f, 0.25f * h + 0.125f * s + 0.125f * v);
}

float PixelDifference(const FrameSignature& a, const FrameSignature& b) {
  if (a.thumb.empty() || a.thumb.size() != b.thumb.size()) return 0.f;
  return float(cv::norm(a.thumb, b.thumb, cv::NORM_L1) / (double(a.thumb.total()) * 3 * 255));
}

float ShotCuts::Next(const FrameSignature& sig) {
  float confidence = 0;
  if (prev_) {
    const float diff = Difference(*prev_, sig);
    if (diff >= kShotCutThreshold)
      confidence = 50 + 50 * (diff - kShotCutThreshold) / (1 - kShotCutThreshold);
    const float pixels = PixelDifference(*prev_, sig);
    float mean = 0;
    for (float r : recent_) mean += r;
    mean = recent_.empty() ? 0.f : mean / float(recent_.size());
    if (pixels >= kLayoutCutThreshold && pixels >= kLayoutCutRatio * mean) {
      // 50 at the threshold, 100 at twice it.
      confidence =
          std::max(confidence, 50 + 50 * (pixels - kLayoutCutThreshold) / kLayoutCutThreshold);
    }
    recent_.push_back(pixels);
    if (recent_.size() > size_t(kLayoutWindow)) recent_.pop_front();
  }
  prev_ = sig;
  return std::clamp(confidence, 0.f, 100.f);
}

}  // namespace internal

namespace {

enum class Kind { kContent, kBlack, kBars };

struct Open {
  Kind kind = Kind::kContent;
  int64_t start_frame = 0, start_ms = 0, last_frame = 0, last_ms = 0;
  double confidence_sum = 0;
  int frames = 0;
  float start_confidence = 100;
};

}  // namespace

Result<std::vector<SegmentItem>> DetectSegments(VideoReader& reader, const SegmentOptions& options,
                                                const ProgressFn& progress) {
  using internal::kColorBarsMatch;
  const double fps = reader.metadata().frame_rate > 0 ? reader.metadata().frame_rate : 25;
  const int64_t frame_ms = std::llround(1000.0 / fps);
  std::vector<SegmentItem> shots, cues;
  std::optional<Open> open;
  internal::ShotCuts cuts;
  bool seen = false;
  auto close = [&](const Open& o) {
    SegmentItem item;
    item.start_frame = o.start_frame;
    item.end_frame = o.last_frame;
    item.duration_frames = o.last_frame - o.start_frame + 1;
    item.start_ms = o.start_ms;
    item.end_ms = o.last_ms + frame_ms;
    item.duration_ms = item.end_ms - item.start_ms;
    item.start_timecode = Timecode(item.start_frame, fps);
    item.end_timecode = Timecode(item.end_frame + 1, fps);
    item.duration_timecode = Timecode(item.duration_frames, fps);
    if (o.kind == Kind::kContent) {
      item.type = SegmentItem::Type::kShot;
      item.confidence = o.start_confidence;
      if (options.shots && item.confidence >= options.shot_min_confidence) {
        item.shot_index = int64_t(shots.size());
        shots.push_back(std::move(item));
      }
    } else {
      item.type = SegmentItem::Type::kTechnicalCue;
      item.cue_type = o.kind == Kind::kBlack ? "BlackFrames" : "ColorBars";
      item.confidence = float(o.confidence_sum / std::max(1, o.frames));
      if (options.technical_cues && item.confidence >= options.cue_min_confidence)
        cues.push_back(std::move(item));
    }
  };
  Status st = internal::ForEachFrame(reader, 0, progress, [&](const Frame& f) -> Status {
    const auto sig = internal::Signature(f.bgr, options.black_max_pixel_threshold);
    Kind kind = Kind::kContent;
    float cue_confidence = 0;
    if (sig.black_coverage >= options.black_min_coverage) {
      kind = Kind::kBlack;
      const float span = std::max(1e-3f, 1.f - options.black_min_coverage);
      cue_confidence =
          50 + 50 * std::min(1.f, (sig.black_coverage - options.black_min_coverage) / span + 0.f);
      if (sig.black_coverage >= 1.f) cue_confidence = 100;
    } else if (sig.bars_match >= kColorBarsMatch) {
      kind = Kind::kBars;
      cue_confidence = 100 * sig.bars_match;
    }
    const float cut_confidence = cuts.Next(sig);
    const bool first_frame = !seen;
    seen = true;
    const bool cut = kind == Kind::kContent && cut_confidence > 0;
    if (open && (open->kind != kind || cut)) {
      close(*open);
      open.reset();
    }
    if (!open) {
      open = Open{};
      open->kind = kind;
      open->start_frame = f.number;
      open->start_ms = f.timestamp_ms;
      // A shot's confidence: how clearly its first frame differs from the
      // one before (100 at the start of the video, 50 after a cue).
      open->start_confidence = first_frame ? 100.f : std::max(50.f, cut_confidence);
    }
    open->last_frame = f.number;
    open->last_ms = f.timestamp_ms;
    open->confidence_sum += cue_confidence;
    ++open->frames;
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (open) close(*open);
  std::vector<SegmentItem> out;
  out.reserve(shots.size() + cues.size());
  std::merge(cues.begin(), cues.end(), shots.begin(), shots.end(), std::back_inserter(out),
             [](const SegmentItem& a, const SegmentItem& b) { return a.start_ms < b.start_ms; });
  return out;
}

}  // namespace argus::video
