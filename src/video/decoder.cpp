// VideoReader over libavformat / libavcodec / libswscale: probing bounded in
// bytes, time and protocols; every frame decoded, only sampled ones converted
// to BGR.
#include "video/decoder.h"

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <string>

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

// Probing reads at most this many bytes and this much stream time.
constexpr int64_t kProbeBytes = 8 << 20;
constexpr int64_t kAnalyzeMicros = 5'000'000;
// A stream with this many undecodable packets in a row is corrupt.
constexpr int kMaxBadPackets = 64;

Status Corrupt(const std::string& detail) {
  return InvalidParameter("The video is a truncated or corrupt container (" + detail + ").");
}

std::string AvError(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof buf);
  return buf;
}

Status TooLarge(const std::string& m) { return {Code::kVideoTooLarge, m}; }

struct Deadline {
  std::chrono::steady_clock::time_point until;
  static int Expired(void* p) {
    auto* d = static_cast<Deadline*>(p);
    return std::chrono::steady_clock::now() > d->until ? 1 : 0;
  }
};

class LibavReader final : public VideoReader {
 public:
  ~LibavReader() override {
    av_frame_free(&frame_);
    av_packet_free(&packet_);
    avcodec_free_context(&codec_);
    avformat_close_input(&format_);
  }

  Status Open(const std::string& path, const Limits& limits, const DecoderOptions& options) {
    options_ = options;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      return InvalidParameter("The video file cannot be read.");
    if (st.st_size == 0) return InvalidParameter("The video file is empty.");
    if (st.st_size > limits.max_bytes)
      return TooLarge("The video is " + std::to_string(st.st_size) + " bytes, over the limit of " +
                      std::to_string(limits.max_bytes) + ".");
    file_bytes_ = st.st_size;

    format_ = avformat_alloc_context();
    if (!format_) return Internal("Cannot allocate the demuxer.");
    deadline_.until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options.open_timeout_ms);
    format_->interrupt_callback.callback = &Deadline::Expired;
    format_->interrupt_callback.opaque = &deadline_;
    AVDictionary* opts = nullptr;
    av_dict_set(&opts, "protocol_whitelist", "file", 0);
    av_dict_set_int(&opts, "probesize", kProbeBytes, 0);
    av_dict_set_int(&opts, "analyzeduration", kAnalyzeMicros, 0);
    av_dict_set_int(&opts, "formatprobesize", 1 << 20, 0);
    int err = avformat_open_input(&format_, path.c_str(), nullptr, &opts);
    av_dict_free(&opts);
    if (err < 0) {
      format_ = nullptr;  // freed by avformat_open_input on failure
      if (err == AVERROR_EXIT) return InvalidParameter("The video took too long to probe.");
      return InvalidParameter(
          "The file is not a video in a supported container (MP4, MOV, Matroska): " + AvError(err) +
          ".");
    }
    const std::string demuxer = format_->iformat->name ? format_->iformat->name : "";
    if (demuxer.find("mov") == std::string::npos && demuxer.find("matroska") == std::string::npos)
      return InvalidParameter(
          "The file is not a video in a supported container (MP4, MOV, Matroska).");
    err = avformat_find_stream_info(format_, nullptr);
    if (err < 0) return Corrupt(AvError(err));
    const AVCodec* codec = nullptr;
    stream_index_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (stream_index_ == AVERROR_STREAM_NOT_FOUND)
      return InvalidParameter("The file has no video stream.");
    if (stream_index_ < 0 || !codec) return InvalidParameter("The video's codec is unsupported.");
    stream_ = format_->streams[stream_index_];
    for (unsigned i = 0; i < format_->nb_streams; ++i)
      if (int(i) != stream_index_) format_->streams[i]->discard = AVDISCARD_ALL;
    const AVCodecParameters* par = stream_->codecpar;
    if (par->width <= 0 || par->height <= 0) return Corrupt("the video stream has no frame size");
    if (par->width > limits.max_width || par->height > limits.max_height)
      return TooLarge("The video's frames are " + std::to_string(par->width) + "x" +
                      std::to_string(par->height) + ", over the limit of " +
                      std::to_string(limits.max_width) + "x" + std::to_string(limits.max_height) +
                      ".");

    codec_ = avcodec_alloc_context3(codec);
    if (!codec_) return Internal("Cannot allocate the decoder.");
    if (avcodec_parameters_to_context(codec_, par) < 0) return Corrupt("bad codec parameters");
    codec_->thread_count = std::max(1, options.threads);
    codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    codec_->pkt_timebase = stream_->time_base;
    err = avcodec_open2(codec_, codec, nullptr);
    if (err < 0) return InvalidParameter("The video's codec is unsupported: " + AvError(err) + ".");

    // Metadata.
    meta_.codec = avcodec_get_name(par->codec_id);
    meta_.format = format_->iformat->long_name ? format_->iformat->long_name : demuxer;
    AVRational rate = stream_->avg_frame_rate;
    if (rate.num <= 0 || rate.den <= 0) rate = stream_->r_frame_rate;
    meta_.frame_rate = (rate.num > 0 && rate.den > 0) ? av_q2d(rate) : 0;
    meta_.width = par->width;
    meta_.height = par->height;
    meta_.color_range = par->color_range == AVCOL_RANGE_JPEG ? "FULL" : "LIMITED";
    if (stream_->duration != AV_NOPTS_VALUE && stream_->duration > 0)
      meta_.duration_ms = av_rescale_q(stream_->duration, stream_->time_base, {1, 1000});
    else if (format_->duration != AV_NOPTS_VALUE && format_->duration > 0)
      meta_.duration_ms = format_->duration / 1000;
    if (stream_->nb_frames > 0)
      meta_.frame_count = stream_->nb_frames;
    else if (meta_.frame_rate > 0)
      meta_.frame_count = std::llround(meta_.duration_ms * meta_.frame_rate / 1000.0);
    if (meta_.duration_ms > limits.max_duration_ms)
      return TooLarge("The video lasts " + std::to_string(meta_.duration_ms / 1000) +
                      " s, over the limit of " + std::to_string(limits.max_duration_ms / 1000) +
                      " s.");
    start_pts_ = stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time : 0;
    frame_ = av_frame_alloc();
    packet_ = av_packet_alloc();
    if (!frame_ || !packet_) return Internal("Cannot allocate decoder buffers.");
    // Reading after the probe has no deadline (a finite file always ends);
    // the file's I/O context keeps calling the callback, so lift it.
    deadline_.until = std::chrono::steady_clock::time_point::max();
    return Status::Ok();
  }

  const VideoMetadata& metadata() const override { return meta_; }

  Result<bool> Next(Frame& out, double fps) override {
    try {
      return NextImpl(out, fps);
    } catch (const std::exception& e) {
      return Internal(std::string("Video decoding failed: ") + e.what());
    }
  }

 private:
  // The next decoded frame into frame_; false at the end.
  Result<bool> Decode() {
    while (true) {
      int err = avcodec_receive_frame(codec_, frame_);
      if (err == 0) return true;
      if (err == AVERROR_EOF) return false;
      if (err != AVERROR(EAGAIN)) {
        if (++bad_packets_ > kMaxBadPackets) return Corrupt(AvError(err));
        continue;
      }
      if (flushing_) return false;
      err = av_read_frame(format_, packet_);
      if (err == AVERROR_EOF || (err < 0 && avio_feof(format_->pb))) {
        flushing_ = true;
        avcodec_send_packet(codec_, nullptr);
        continue;
      }
      if (err < 0) return Corrupt(AvError(err));
      if (packet_->stream_index != stream_index_) {
        av_packet_unref(packet_);
        continue;
      }
      err = avcodec_send_packet(codec_, packet_);
      av_packet_unref(packet_);
      if (err < 0 && err != AVERROR(EAGAIN)) {
        if (++bad_packets_ > kMaxBadPackets) return Corrupt(AvError(err));
      } else {
        bad_packets_ = 0;
      }
    }
  }

  Result<bool> NextImpl(Frame& out, double fps) {
    if (finished_) return false;
    const double gap_ms = fps > 0 ? 1000.0 / fps : 0;
    if (options_.skip_nonref_min_gap_frames > 0 && meta_.frame_rate > 0) {
      const bool skip = gap_ms * meta_.frame_rate / 1000.0 >= options_.skip_nonref_min_gap_frames;
      codec_->skip_frame = skip ? AVDISCARD_NONREF : AVDISCARD_DEFAULT;
      skipping_ = skip;
    }
    while (true) {
      auto got = Decode();
      if (!got.ok()) {
        finished_ = true;
        return got.status();
      }
      if (!got.value()) {
        finished_ = true;
        // A stream that ends well before the duration its container states
        // was cut off.
        const double frame_ms = meta_.frame_rate > 0 ? 1000.0 / meta_.frame_rate : 40;
        if (meta_.duration_ms > 0 && decoded_ > 0 &&
            last_ms_ + 3 * frame_ms + 500 < double(meta_.duration_ms))
          return Corrupt("the video stream breaks off at " + std::to_string(last_ms_) + " ms of " +
                         std::to_string(meta_.duration_ms) + " ms");
        if (decoded_ == 0) return Corrupt("no frame could be decoded");
        return false;
      }
      int64_t pts = frame_->best_effort_timestamp;
      int64_t ms;
      if (pts != AV_NOPTS_VALUE)
        ms = av_rescale_q(pts - start_pts_, stream_->time_base, {1, 1000});
      else
        ms = meta_.frame_rate > 0 ? std::llround(decoded_ * 1000.0 / meta_.frame_rate) : last_ms_;
      if (ms < 0) ms = 0;
      int64_t number = decoded_;
      if (skipping_ && meta_.frame_rate > 0) number = std::llround(ms * meta_.frame_rate / 1000.0);
      ++decoded_;
      last_ms_ = ms;
      if (gap_ms > 0 && double(ms) < next_sample_ms_) {
        av_frame_unref(frame_);
        continue;
      }
      if (gap_ms > 0) next_sample_ms_ = (std::floor(double(ms) / gap_ms) + 1) * gap_ms;
      Status st = Convert(out.bgr);
      av_frame_unref(frame_);
      if (!st.ok()) return st;
      out.timestamp_ms = ms;
      out.number = number;
      return true;
    }
  }

  Status Convert(cv::Mat& bgr) {
    const int w = frame_->width, h = frame_->height;
    if (w <= 0 || h <= 0 || w > meta_.width * 2 || h > meta_.height * 2)
      return Corrupt("a frame changes size");
    return converter_.Convert(*frame_, bgr);
  }

  DecoderOptions options_;
  Deadline deadline_;
  AVFormatContext* format_ = nullptr;
  AVCodecContext* codec_ = nullptr;
  AVStream* stream_ = nullptr;
  AVFrame* frame_ = nullptr;
  AVPacket* packet_ = nullptr;
  internal::BgrConverter converter_;
  int stream_index_ = -1;
  int64_t start_pts_ = 0;
  int64_t file_bytes_ = 0;
  VideoMetadata meta_;
  int64_t decoded_ = 0;
  int64_t last_ms_ = 0;
  double next_sample_ms_ = 0;
  int bad_packets_ = 0;
  bool flushing_ = false, finished_ = false, skipping_ = false;
};

}  // namespace

Result<std::unique_ptr<VideoReader>> OpenVideo(const std::string& path, const Limits& limits,
                                               const DecoderOptions& options) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });
  try {
    auto reader = std::make_unique<LibavReader>();
    ARGUS_RETURN_IF_ERROR(reader->Open(path, limits, options));
    return std::unique_ptr<VideoReader>(std::move(reader));
  } catch (const std::exception& e) {
    return Internal(std::string("Video opening failed: ") + e.what());
  }
}

Result<std::unique_ptr<VideoReader>> VideoReader::Open(const std::string& path,
                                                       const Limits& limits) {
  return OpenVideo(path, limits, DecoderOptions{});
}

}  // namespace argus::video
