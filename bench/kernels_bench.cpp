// Kernel benchmarks (Google Benchmark): image decode and pre-processing.
// Prints figures; no pass/fail on time.
#include <benchmark/benchmark.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/image.h"
#include "ml/model.h"

namespace {

std::string MakeJpeg(int w, int h) {
  cv::Mat img(h, w, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  cv::GaussianBlur(img, img, cv::Size(9, 9), 3);
  std::vector<uchar> buf;
  cv::imencode(".jpg", img, buf);
  return std::string(buf.begin(), buf.end());
}

void BM_DecodeJpeg640x480(benchmark::State& state) {
  std::string jpeg = MakeJpeg(640, 480);
  for (auto _ : state) {
    auto img = argus::DecodeImage(jpeg);
    benchmark::DoNotOptimize(img.ok());
  }
}
BENCHMARK(BM_DecodeJpeg640x480);

void BM_SyntheticInput512(benchmark::State& state) {
  argus::ml::InputSpec in;
  in.shape = {1, 3, 512, 512};
  for (auto _ : state) benchmark::DoNotOptimize(argus::ml::SyntheticInput(in, 1).data);
}
BENCHMARK(BM_SyntheticInput512);

}  // namespace

BENCHMARK_MAIN();
