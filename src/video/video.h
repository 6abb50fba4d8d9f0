#pragma once
// Stored-video analysis free of HTTP and JSON: a decoder over libavformat /
// libavcodec (MP4, MOV, MKV; H.264 at least) that samples frames at a rate,
// and the analyses Rekognition Video runs as jobs (faces, face search,
// people tracking, labels, moderation, text, segments), each feeding the
// image services frame by frame. Frames are decoded one at a time and never
// held for the whole video, so memory does not grow with its length.
// Boxes are in pixels of the frame; timestamps in milliseconds from the
// start of the video.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/status.h"
#include "service/collections.h"
#include "service/faces.h"
#include "service/labels.h"
#include "service/moderation.h"
#include "service/text.h"

namespace argus::video {

// What the container says (Rekognition's VideoMetadata).
struct VideoMetadata {
  std::string codec;  // "h264"
  int64_t duration_ms = 0;
  std::string format;     // "QuickTime / MOV", "Matroska / WebM", ...
  double frame_rate = 0;  // frames per second
  int width = 0, height = 0;
  std::string color_range;  // "FULL" or "LIMITED"
  int64_t frame_count = 0;  // estimated when the container does not say
};

// Limits checked when a video is opened. Over max_bytes or max_duration_ms:
// Code::kVideoTooLarge; a frame larger than max_width x max_height: the same.
struct Limits {
  int64_t max_bytes = 10LL << 30;               // Rekognition: 10 GB
  int64_t max_duration_ms = 6LL * 3600 * 1000;  // Rekognition: 6 hours
  int max_width = 4096, max_height = 4096;
};

struct Frame {
  cv::Mat bgr;  // 8-bit BGR, owned by the caller after Next()
  int64_t timestamp_ms = 0;
  int64_t number = 0;  // 0-based index of the frame in the stream
};

// Sequential reader of one video stream. Not thread-safe; one per job.
class VideoReader {
 public:
  virtual ~VideoReader() = default;
  // `path` is a local file the caller resolved (S3 mapping). kVideoTooLarge over `limits`;
  // kInvalidParameter with a clear message for a file that is not a decodable video ("no video
  // stream", "unsupported codec", "truncated or corrupt container").
  static Result<std::unique_ptr<VideoReader>> Open(const std::string& path,
                                                   const Limits& limits = {});
  virtual const VideoMetadata& metadata() const = 0;
  // The next frame whose timestamp is at or after the next sampling point
  // (every 1000/fps ms; fps <= 0: every frame). Frames between sampling
  // points are decoded but not converted. false at the end of the stream;
  // an error for a stream that breaks off (the frames before it were
  // returned).
  virtual Result<bool> Next(Frame& frame, double fps) = 0;
};

// Called with the fraction done (0..1) at least once a second of work;
// returning false cancels the analysis, which then returns Cancelled().
using ProgressFn = std::function<bool(double fraction)>;
Status Cancelled();  // Code::kInternal, "The job was cancelled."

// The image services an analysis may call; null ones are unavailable and
// the analysis fails with ServiceUnavailable naming the model.
struct Services {
  service::FaceService* faces = nullptr;
  service::CollectionService* collections = nullptr;
  service::LabelService* labels = nullptr;
  service::ModerationService* moderation = nullptr;
  service::TextService* text = nullptr;
};

struct SampleRates {
  double faces = 5, persons = 5, labels = 2, moderation = 2, text = 1,
         segments = 0;  // 0: every frame
  // Face detection and face search detect then track: a full detection on
  // the first sampled frame, after a hard cut, wherever the cheap pass
  // hints at a new face, and at least this often (ms; 0: on every sampled
  // frame); in between, the faces of the frame before are looked for
  // around where they were (vision::FaceDetector::DetectNear). A small face
  // that appears in between is found at the next full detection.
  int64_t faces_full_every_ms = 1000;
};

// GetFaceDetection: one item per face per sampled frame.
struct FaceItem {
  int64_t timestamp_ms = 0;
  service::FaceDetail face;  // attributes filled when asked for ALL
};
Result<std::vector<FaceItem>> DetectFaces(VideoReader& reader, const Services& s,
                                          bool all_attributes, const SampleRates& rates,
                                          const ProgressFn& progress);

// GetPersonTracking and GetFaceSearch: one item per tracked person per
// sampled frame. TrackPersons tracks the "Person" boxes of LabelService with
// a colour descriptor of the torso; the face inside a body (the smallest body
// whose upper half holds its centre) is attached, and a face without a body
// is tracked with a body box estimated from it (body left empty). `index` is the track's number (0,
// 1, ...), the same for one person through the whole video (tracker.h documents the association
// rule).
struct PersonItem {
  int64_t timestamp_ms = 0;
  int64_t index = 0;
  std::optional<cv::Rect2f> body;           // the person's box when seen
  std::optional<service::FaceDetail> face;  // the person's face when seen
  std::vector<service::FaceMatch> matches;  // face search only: the track's, confirmed here
};
Result<std::vector<PersonItem>> TrackPersons(VideoReader& reader, const Services& s,
                                             const SampleRates& rates, const ProgressFn& progress);
// Face search: people tracked by their faces (descriptors from
// FaceService::Describe; the body holding each face is attached when the
// label model is available), each track's faces searched in `collection`:
// those at least 80 confident (else all), at most 32 spread over the track.
// A stored face matches the track when at least a quarter of them find it at
// or above `threshold` (0..100); an item of the track that shows a face
// reports those of the track's matches that its own face finds at or above
// `threshold`, with its own similarity. ResourceNotFound for a missing
// collection, before any decoding.
Result<std::vector<PersonItem>> SearchFaces(VideoReader& reader, const Services& s,
                                            const std::string& collection, float threshold,
                                            const SampleRates& rates, const ProgressFn& progress);

// GetLabelDetection / GetContentModeration. With aggregate_segments, one
// item per continuous run of a label (start/end/duration set, timestamp =
// start; a run continues while the label is seen again within two sampling
// gaps plus one frame, and carries its most confident sighting, instances
// included); else one item per label per sampled frame (start = end =
// timestamp, duration 0). Items are sorted by timestamp.
struct LabelItem {
  int64_t timestamp_ms = 0, start_ms = 0, end_ms = 0, duration_ms = 0;
  service::Label label;  // instances' boxes in pixels of the frame
};
Result<std::vector<LabelItem>> DetectLabels(VideoReader& reader, const Services& s,
                                            const service::LabelOptions& options,
                                            bool aggregate_segments, const SampleRates& rates,
                                            const ProgressFn& progress);
struct ModerationItem {
  int64_t timestamp_ms = 0, start_ms = 0, end_ms = 0, duration_ms = 0;
  service::ModerationLabel label;
  std::vector<service::ContentType> content_types;
};
Result<std::vector<ModerationItem>> DetectModeration(VideoReader& reader, const Services& s,
                                                     float min_confidence, bool aggregate_segments,
                                                     const SampleRates& rates,
                                                     const ProgressFn& progress);

// GetTextDetection: one item per line or word per sampled frame.
struct TextItem {
  int64_t timestamp_ms = 0;
  service::TextDetection text;  // quad in pixels of the frame
};
Result<std::vector<TextItem>> DetectText(VideoReader& reader, const Services& s,
                                         const service::TextOptions& options,
                                         const SampleRates& rates, const ProgressFn& progress);

// GetSegmentDetection, over every frame. Shots: a new shot starts where the
// colour histograms of consecutive frames differ by at least a threshold
// (segments_internal.h: hue, saturation and value histograms of a 64x36
// thumbnail); its confidence grows from 50 at the threshold to 100 for
// disjoint histograms (100 for the first shot). Frames that are technical
// cues belong to no shot. Technical cues: BlackFrames (options below) and
// ColorBars (seven SMPTE bars with each channel clearly on or off, sampled at
// three heights of the top half). Not detected: EndCredits, Slate,
// StudioLogo, OpeningCredits and Content, which need trained classifiers
// this server does not ship; gradual transitions (fades, dissolves) are not
// shot boundaries. Items are sorted by start; start_frame and end_frame are
// inclusive, end_ms and end_timecode are those of the frame after the last.
struct SegmentOptions {
  bool shots = true, technical_cues = true;
  float shot_min_confidence = 50, cue_min_confidence = 50;  // 0..100
  // BlackFrames filter: a pixel is black at luma <= max_pixel_threshold of
  // the range; a frame is black when at least min_coverage of it is.
  float black_max_pixel_threshold = 0.2f, black_min_coverage = 0.99f;
};
struct SegmentItem {
  enum class Type { kShot, kTechnicalCue };
  Type type = Type::kShot;
  std::string cue_type;  // "BlackFrames", "ColorBars", ... for technical cues
  int64_t start_ms = 0, end_ms = 0, duration_ms = 0;
  int64_t start_frame = 0, end_frame = 0, duration_frames = 0;
  std::string start_timecode, end_timecode,
      duration_timecode;   // SMPTE HH:MM:SS:FF (";" drop-frame)
  int64_t shot_index = 0;  // shots only: 0, 1, ...
  float confidence = 0;
};
Result<std::vector<SegmentItem>> DetectSegments(VideoReader& reader, const SegmentOptions& options,
                                                const ProgressFn& progress);
// SMPTE timecode of frame `frame` at `fps` (drop-frame with ";" for 29.97
// and 59.94).
std::string Timecode(int64_t frame, double fps);

}  // namespace argus::video
