// LiveSource over libavformat / libavcodec: one thread per source that
// connects, decodes and reconnects; the newest sampled frame waits in a
// one-slot mailbox.
#include "video/live.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
}

#include "video/frame_convert.h"

namespace argus::video {
namespace {

using Clock = std::chrono::steady_clock;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}
int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// libav objects of one connection, freed together.
struct Connection {
  AVFormatContext* format = nullptr;
  AVCodecContext* codec = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  ~Connection() {
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
  }
};

class LibavLiveSource final : public LiveSource {
 public:
  LibavLiveSource(std::string url, LiveOptions options, LiveEventFn on_event)
      : url_(std::move(url)),
        options_(options),
        on_event_(std::move(on_event)),
        is_file_(!StartsWith(url_, "rtsp://") && !StartsWith(url_, "http://") &&
                 !StartsWith(url_, "https://")),
        started_steady_ms_(SteadyMs()) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~LibavLiveSource() override { Stop(); }

  bool Take(LiveFrame& out, int timeout_ms) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return slot_.has_value() || stop_ || ended_; });
    if (!slot_) return false;
    out = std::move(*slot_);
    slot_.reset();
    return true;
  }

  void Stop() override {
    stop_flag_ = true;
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  bool ended() const override {
    std::lock_guard lock(mu_);
    return ended_;
  }

  LiveStats stats() const override {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  static int Interrupt(void* p) {
    auto* self = static_cast<LibavLiveSource*>(p);
    return self->stop_flag_.load() || SteadyMs() > self->deadline_ms_.load() ? 1 : 0;
  }

  void Emit(LiveEvent e, const std::string& detail) {
    if (!on_event_) return;
    try {
      on_event_(e, detail);
    } catch (...) {
    }
  }

  // Sleeps up to `ms`, false when stopped meanwhile.
  bool Wait(int64_t ms) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_; });
  }

  void Loop() {
    int64_t backoff = options_.first_backoff_ms;
    while (!stop_flag_.load()) {
      bool got_frames = false;
      Status st = RunOnce(got_frames);
      if (stop_flag_.load()) break;
      if (is_file_ && st.ok()) {
        {
          std::lock_guard lock(mu_);
          ended_ = true;
          stats_.connected = false;
        }
        cv_.notify_all();
        Emit(LiveEvent::kEnded, "the file ended");
        return;
      }
      if (got_frames) backoff = options_.first_backoff_ms;
      {
        std::lock_guard lock(mu_);
        ++stats_.drops;
        stats_.connected = false;
      }
      std::string why = st.ok() ? "the source ended" : st.message();
      Emit(LiveEvent::kDropped, why + "; reconnecting in " + std::to_string(backoff) + " ms");
      if (!Wait(backoff)) break;
      backoff = std::min<int64_t>(backoff * 2, options_.max_backoff_ms);
    }
  }

  // One connection: open, then decode until the source ends (OK), breaks
  // off (an error) or Stop.
  Status RunOnce(bool& got_frames) {
    Connection c;
    c.format = avformat_alloc_context();
    if (!c.format) return Internal("cannot allocate the demuxer");
    c.format->interrupt_callback.callback = &Interrupt;
    c.format->interrupt_callback.opaque = this;
    deadline_ms_ = SteadyMs() + options_.open_timeout_ms;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "protocol_whitelist",
                is_file_ ? "file" : "http,https,tcp,tls,rtsp,rtp,udp,crypto,httpproxy", 0);
    if (StartsWith(url_, "rtsp://")) av_dict_set(&opts, "rtsp_transport", "tcp", 0);
    av_dict_set_int(&opts, "probesize", 1 << 20, 0);
    av_dict_set_int(&opts, "analyzeduration", 1000000, 0);
    av_dict_set(&opts, "fflags", "nobuffer", 0);
    int err = avformat_open_input(&c.format, url_.c_str(), nullptr, &opts);
    av_dict_free(&opts);
    if (err < 0) {
      c.format = nullptr;
      return Status(Code::kServiceUnavailable,
                    err == AVERROR_EXIT ? std::string("the source did not answer in time")
                                        : "cannot open the source: " + AvError(err));
    }
    err = avformat_find_stream_info(c.format, nullptr);
    if (err < 0)
      return Status(Code::kServiceUnavailable, "cannot probe the source: " + AvError(err));
    const AVCodec* codec = nullptr;
    int index = av_find_best_stream(c.format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (index < 0 || !codec) return InvalidParameter("the source has no decodable video stream");
    AVStream* stream = c.format->streams[index];
    for (unsigned i = 0; i < c.format->nb_streams; ++i)
      if (int(i) != index) c.format->streams[i]->discard = AVDISCARD_ALL;
    const AVCodecParameters* par = stream->codecpar;
    if (par->width > options_.max_width || par->height > options_.max_height)
      return InvalidParameter("the source's frames are " + std::to_string(par->width) + "x" +
                              std::to_string(par->height) + ", over the limit of " +
                              std::to_string(options_.max_width) + "x" +
                              std::to_string(options_.max_height));
    c.codec = avcodec_alloc_context3(codec);
    if (!c.codec || avcodec_parameters_to_context(c.codec, par) < 0)
      return Internal("cannot set up the decoder");
    // Two frame threads keep a 720p H.264 source at real time while the
    // analysis shares the cores, for one frame of delay; an intra-only
    // codec (MJPEG) decodes each frame on its own.
    c.codec->thread_count = 2;
    c.codec->thread_type = FF_THREAD_FRAME;
    c.codec->pkt_timebase = stream->time_base;
    err = avcodec_open2(c.codec, codec, nullptr);
    if (err < 0) return InvalidParameter("the source's codec is unsupported: " + AvError(err));
    c.frame = av_frame_alloc();
    c.packet = av_packet_alloc();
    if (!c.frame || !c.packet) return Internal("cannot allocate decoder buffers");
    {
      std::lock_guard lock(mu_);
      ++stats_.connects;
      stats_.connected = true;
    }
    Emit(LiveEvent::kConnected,
         std::string(c.format->iformat->name ? c.format->iformat->name : "") + " " +
             avcodec_get_name(par->codec_id) + " " + std::to_string(par->width) + "x" +
             std::to_string(par->height));
    // A file is replayed at its own rate from now.
    const int64_t replay_start = SteadyMs();
    const int64_t start_pts = stream->start_time != AV_NOPTS_VALUE ? stream->start_time : 0;
    const double gap_ms = options_.fps > 0 ? 1000.0 / options_.fps : 0;
    internal::BgrConverter converter;
    while (!stop_flag_.load()) {
      deadline_ms_ = SteadyMs() + options_.read_timeout_ms;
      err = av_read_frame(c.format, c.packet);
      if (err == AVERROR_EOF) return Status::Ok();
      if (err < 0) {
        if (err == AVERROR_EXIT)
          return Status(
              Code::kServiceUnavailable,
              "no data from the source for " + std::to_string(options_.read_timeout_ms) + " ms");
        return Status(Code::kServiceUnavailable, "the source broke off: " + AvError(err));
      }
      if (c.packet->stream_index != index) {
        av_packet_unref(c.packet);
        continue;
      }
      err = avcodec_send_packet(c.codec, c.packet);
      av_packet_unref(c.packet);
      if (err < 0 && err != AVERROR(EAGAIN)) continue;  // a damaged packet: skip it
      while (avcodec_receive_frame(c.codec, c.frame) == 0) {
        got_frames = true;
        int64_t number;
        {
          std::lock_guard lock(mu_);
          number = stats_.decoded++;
        }
        if (is_file_) {
          int64_t pts = c.frame->best_effort_timestamp;
          int64_t ms = pts == AV_NOPTS_VALUE
                           ? 0
                           : av_rescale_q(pts - start_pts, stream->time_base, {1, 1000});
          int64_t wait = replay_start + ms - SteadyMs();
          if (wait > 0 && !Wait(wait)) return Status::Ok();
        }
        // Offers keep to the rate on average: each is due one gap after the
        // previous one was due (not after it came), never earlier than now.
        const int64_t now = SteadyMs();
        if (gap_ms > 0 && next_offer_ms_ >= 0 && double(now) < next_offer_ms_) {
          av_frame_unref(c.frame);
          continue;
        }
        if (gap_ms > 0)
          next_offer_ms_ = next_offer_ms_ < 0 ? double(now) + gap_ms
                                              : std::max(next_offer_ms_ + gap_ms, double(now));
        LiveFrame f;
        Status st = converter.Convert(*c.frame, f.bgr);
        av_frame_unref(c.frame);
        if (!st.ok()) return st;
        f.captured_steady_ms = now;
        f.captured_unix_ms = UnixMs();
        f.offset_ms = now - started_steady_ms_;
        f.number = number;
        {
          std::lock_guard lock(mu_);
          if (slot_) ++stats_.skipped;
          ++stats_.offered;
          slot_ = std::move(f);
        }
        cv_.notify_all();
      }
    }
    return Status::Ok();
  }

  const std::string url_;
  const LiveOptions options_;
  const LiveEventFn on_event_;
  const bool is_file_;
  const int64_t started_steady_ms_;
  std::atomic<bool> stop_flag_{false};
  std::atomic<int64_t> deadline_ms_{0};
  double next_offer_ms_ = -1;  // steady ms the next offer is due (the reader thread's)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<LiveFrame> slot_;
  LiveStats stats_;
  bool stop_ = false, ended_ = false;
  std::thread thread_;
};

}  // namespace

bool IsLiveSourceUrl(const std::string& url) {
  return StartsWith(url, "rtsp://") || StartsWith(url, "http://") || StartsWith(url, "https://") ||
         StartsWith(url, "/");
}

Result<std::unique_ptr<LiveSource>> LiveSource::Start(const std::string& url,
                                                      const LiveOptions& options,
                                                      LiveEventFn on_event) {
  if (!IsLiveSourceUrl(url))
    return InvalidParameter("A stream source is an rtsp://, http(s):// URL or an absolute path: " +
                            url);
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  return std::unique_ptr<LiveSource>(
      std::make_unique<LibavLiveSource>(url, options, std::move(on_event)));
}

}  // namespace argus::video
