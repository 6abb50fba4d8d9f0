#pragma once
// Live video sources for stream processors: an RTSP URL, an HTTP(S) URL
// (MJPEG, multipart/x-mixed-replace, or any stream libavformat reads) or a
// local file replayed at its own frame rate. A background thread decodes
// every frame as it arrives and keeps only the newest sampled one, so a slow
// consumer skips frames instead of falling behind. A network source that
// drops, stalls or cannot be reached is reconnected with exponential backoff
// (reported through the event callback); a file ends once.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "video/video.h"

namespace argus::video {

struct LiveOptions {
  double fps = 5;               // frames offered per second of the source (<= 0: every frame)
  int open_timeout_ms = 10000;  // connecting and probing
  int read_timeout_ms = 5000;   // no data for this long: the source dropped
  int first_backoff_ms = 500;   // doubled after each failed attempt
  int max_backoff_ms = 10000;
  int max_width = 4096, max_height = 4096;
};

// What happened to the source: kConnected (decoding; detail names the
// format and size), kDropped (it broke off or could not be opened; detail
// says why and when the next attempt is), kEnded (a file reached its end).
enum class LiveEvent { kConnected, kDropped, kEnded };
using LiveEventFn = std::function<void(LiveEvent event, const std::string& detail)>;

struct LiveFrame {
  cv::Mat bgr;
  int64_t offset_ms = 0;  // since the source was started
  int64_t captured_unix_ms = 0;
  int64_t captured_steady_ms = 0;  // steady clock, when it was decoded
  int64_t number = 0;              // frames decoded before it, reconnections included
};

struct LiveStats {
  bool connected = false;
  int64_t connects = 0;  // successful openings
  int64_t drops = 0;     // openings that failed or broke off
  int64_t decoded = 0;   // frames decoded
  int64_t offered = 0;   // sampled frames put up for Take
  int64_t skipped = 0;   // offered frames replaced before anyone took them
};

class LiveSource {
 public:
  // Starts reading `url` ("rtsp://", "http://", "https://", or a path) on a
  // background thread. Errors (bad scheme) are InvalidParameter, before
  // any thread starts; a source that cannot be reached is not an error here
  // (it is retried and reported as kDropped).
  static Result<std::unique_ptr<LiveSource>> Start(const std::string& url,
                                                   const LiveOptions& options,
                                                   LiveEventFn on_event);
  virtual ~LiveSource() = default;
  // The newest offered frame not yet taken, waiting up to `timeout_ms`;
  // false on timeout, after Stop, or when a file ended and everything was
  // taken.
  virtual bool Take(LiveFrame& out, int timeout_ms) = 0;
  // Stops the thread (interrupting a blocked read or a backoff wait).
  virtual void Stop() = 0;
  virtual bool ended() const = 0;
  virtual LiveStats stats() const = 0;
};

// Whether `url` names a source LiveSource reads: rtsp://, http(s):// or
// an absolute path.
bool IsLiveSourceUrl(const std::string& url);

}  // namespace argus::video
