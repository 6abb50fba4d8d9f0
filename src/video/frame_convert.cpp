#include "video/frame_convert.h"

extern "C" {
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>
}

namespace argus::video::internal {

BgrConverter::~BgrConverter() {
  if (sws_) sws_freeContext(sws_);
}

Status BgrConverter::Convert(const AVFrame& frame, cv::Mat& bgr) {
  const int w = frame.width, h = frame.height;
  sws_ = sws_getCachedContext(sws_, w, h, AVPixelFormat(frame.format), w, h, AV_PIX_FMT_BGR24,
                              SWS_BILINEAR, nullptr, nullptr, nullptr);
  if (!sws_) return InvalidParameter("The video's pixel format is unsupported.");
  if (frame.color_range == AVCOL_RANGE_JPEG) {
    int* inv = nullptr;
    int* tab = nullptr;
    int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    if (sws_getColorspaceDetails(sws_, &inv, &src_range, &tab, &dst_range, &brightness, &contrast,
                                 &saturation) >= 0)
      sws_setColorspaceDetails(sws_, inv, 1, tab, 1, brightness, contrast, saturation);
  }
  // swscale writes whole SIMD blocks, past the end of a row whose length is
  // not a multiple of them: convert into a padded buffer, then copy into
  // a fresh continuous image.
  const int stride = (w * 3 + 63) / 64 * 64;
  if (scratch_.rows != h + 1 || scratch_.cols != stride) scratch_.create(h + 1, stride, CV_8UC1);
  uint8_t* dst[4] = {scratch_.data, nullptr, nullptr, nullptr};
  int dst_stride[4] = {stride, 0, 0, 0};
  sws_scale(sws_, frame.data, frame.linesize, 0, h, dst, dst_stride);
  bgr = cv::Mat(h, w, CV_8UC3);
  cv::Mat(h, w, CV_8UC3, scratch_.data, size_t(stride)).copyTo(bgr);
  return Status::Ok();
}

}  // namespace argus::video::internal
