#include "bench/server_bench.h"

#include <httplib.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <thread>

#include "api/rekognition/validate.h"
#include "auth/key_store.h"
#include "auth/sigv4.h"
#include "bench/server_process.h"
#include "core/base64.h"
#include "core/image.h"

namespace argus::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// An 80x80 grey PNG: the smallest image DetectFaces accepts.
std::string TinyPng() {
  cv::Mat m(80, 80, CV_8UC3, cv::Scalar(128, 128, 128));
  std::vector<uchar> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5));
  return v[i];
}

struct LoadResult {
  std::vector<double> ms;
  std::map<std::string, long> errors;
  double seconds = 0;
};

// `clients` threads, each with one keep-alive connection, send signed
// DetectFaces requests back to back for `duration` seconds.
// `expect` is the error __type counted as the expected answer ("" = 200).
LoadResult Load(const ServerProcess& t, const std::string& body, int clients, double duration,
                const std::string& expect = "") {
  LoadResult out;
  std::mutex mu;
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration<double>(duration);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      httplib::Client cli(t.host, t.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(120);
      std::vector<double> ms;
      std::map<std::string, long> errors;
      while (Clock::now() < end) {
        auto s = Clock::now();
        auto r = cli.Post("/", SignedHeaders(t, "DetectFaces", body), body,
                          "application/x-amz-json-1.1");
        double e = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
        if (!r) {
          errors["connection: " + httplib::to_string(r.error())]++;
        } else if (!expect.empty() && r->body.find(expect) != std::string::npos) {
          ms.push_back(e);
        } else if (r->status != 200) {
          errors[ErrorType(*r)]++;
        } else {
          ms.push_back(e);
        }
      }
      std::lock_guard lock(mu);
      out.ms.insert(out.ms.end(), ms.begin(), ms.end());
      for (auto& [k, n] : errors) out.errors[k] += n;
    });
  }
  for (auto& th : threads) th.join();
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

void PrintLoad(const char* label, int clients, const LoadResult& r) {
  std::printf("%-34s %3d clients %7.1f req/s  p50 %7.1f ms  p99 %7.1f ms  (%zu ok", label, clients,
              double(r.ms.size()) / r.seconds, Percentile(r.ms, 50), Percentile(r.ms, 99),
              r.ms.size());
  for (auto& [k, n] : r.errors) std::printf(", %ld %s", n, k.c_str());
  std::printf(")\n");
}

std::string RequestBody(const std::string& image) {
  return json{{"Image", {{"Bytes", Base64Encode(image)}}}}.dump();
}

ServeOptions ServeArgs(const ServerBenchOptions& o) {
  ServeOptions s;
  s.model_dir = o.model_dir;
  s.extra_args = {"--workers", o.workers, "--threads", o.threads};
  if (!o.queue.empty()) s.extra_args.insert(s.extra_args.end(), {"--queue", o.queue});
  return s;
}

}  // namespace

int RunServerBench(const ServerBenchOptions& o) {
  ServerProcess t;
  if (!o.endpoint.empty()) {
    const std::string& ep = o.endpoint;  // http://host:port
    auto colon = ep.rfind(':');
    if (ep.rfind("http://", 0) != 0 || colon == std::string::npos || colon < 7) {
      std::fprintf(stderr, "argus bench server: --endpoint http://HOST:PORT\n");
      return 2;
    }
    t.host = ep.substr(7, colon - 7);
    t.port = std::atoi(ep.c_str() + colon + 1);
    t.key = o.access_key;
    t.secret = o.secret_key;
  } else if (!StartServer(ServeArgs(o), "argus-bench", &t)) {
    std::fprintf(stderr, "argus bench server: could not start argus serve\n");
    return 1;
  }
  std::string image_path =
      o.image.empty() ? o.model_dir + "/packages/face-api/package/demo/sample1.jpg" : o.image;
  auto image = ReadFile(image_path);
  int clients = std::max(1, o.clients);
  double duration = std::max(1.0, o.duration_s);
  int rc = 0;
  if (!image.ok()) {
    std::fprintf(stderr, "argus bench server: %s\n", image.status().message().c_str());
    rc = 1;
  } else {
    cv::Mat m =
        cv::imdecode(cv::Mat(1, int(image->size()), CV_8UC1, image->data()), cv::IMREAD_COLOR);
    std::printf(
        "DetectFaces on loopback, SigV4-signed, keep-alive; server: %s workers, %s "
        "inference threads; %.0f s per run\n",
        o.workers.c_str(), o.threads.c_str(), duration);
    std::string body = RequestBody(image.value());
    Load(t, body, 1, 1);  // warm-up
    std::string label = std::filesystem::path(image_path).filename().string() + " " +
                        std::to_string(m.cols) + "x" + std::to_string(m.rows);
    PrintLoad(label.c_str(), clients, Load(t, body, clients, duration));
    std::string tiny = RequestBody(TinyPng());
    PrintLoad("tiny 80x80 PNG", 1, Load(t, tiny, 1, std::min(duration, 5.0)));
    PrintLoad("tiny 80x80 PNG", clients, Load(t, tiny, clients, std::min(duration, 5.0)));
    // The same request stopped by validation: HTTP + SigV4 + JSON + validation, no model.
    std::string invalid =
        json{{"Image", {{"Bytes", Base64Encode(TinyPng())}}}, {"Attributes", {"NOT_AN_ATTRIBUTE"}}}
            .dump();
    PrintLoad("tiny, refused by validation", 1,
              Load(t, invalid, 1, std::min(duration, 5.0), "InvalidParameterException"));
  }
  StopServer(t);
  return rc;
}

int RunProtocolBench(int iterations) {
  int n = std::max(100, iterations);
  char tmpl[] = "/tmp/argus-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  auto store = auth::KeyStore::Open(tmpl);
  auth::NewKey k;
  k.name = "bench";
  k.org_type = auth::OrgType::kResearch;
  k.purpose = "benchmark";
  auto key = store.value()->Create(k);
  std::string body = RequestBody(TinyPng());
  auth::HttpRequest req{"POST",
                        "/",
                        {{"Host", "127.0.0.1:8080"},
                         {"Content-Type", "application/x-amz-json-1.1"},
                         {"X-Amz-Target", "RekognitionService.DetectFaces"},
                         {"User-Agent", "aws-cli/2.9.19 Python/3.11.2 Linux"}},
                        body};
  auth::Sign(req, key->key.access_key_id, key->secret_access_key, "us-east-1", std::time(nullptr));
  auto lookup = [&](const std::string& id) -> std::optional<std::string> {
    auto active = store.value()->Lookup(id);
    if (!active) return std::nullopt;
    return active->secret;
  };
  json response = {{"FaceDetails", json::array()}};
  for (int i = 0; i < 1; ++i) {
    response["FaceDetails"].push_back(
        {{"BoundingBox", {{"Width", 0.1}, {"Height", 0.2}, {"Left", 0.3}, {"Top", 0.4}}},
         {"Landmarks", json::array()},
         {"Pose", {{"Roll", 1.5}, {"Yaw", -3.25}, {"Pitch", 2.0}}},
         {"Quality", {{"Brightness", 51.2}, {"Sharpness", 78.6}}},
         {"Confidence", 99.9}});
    for (const char* type : {"eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"}) {
      response["FaceDetails"][0]["Landmarks"].push_back({{"Type", type}, {"X", 0.35}, {"Y", 0.45}});
    }
  }
  auto time_us = [&](auto&& fn) {
    for (int i = 0; i < n / 10; ++i) fn();  // warm-up
    auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) fn();
    return std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / n;
  };
  bool ok = true;
  double sign = time_us([&] {
    auth::HttpRequest r = req;
    auth::Sign(r, key->key.access_key_id, key->secret_access_key, "us-east-1", std::time(nullptr));
  });
  double verify = time_us([&] { ok &= auth::Verify(req, lookup, std::time(nullptr)).ok(); });
  double parse = time_us([&] {
    auto j = json::parse(body);
    ok &= api::ValidateRequest("DetectFaces", j).ok();
  });
  const std::string b64_text = json::parse(body)["Image"]["Bytes"].get<std::string>();
  const std::string png = TinyPng();
  double b64 = time_us([&] { ok &= Base64Decode(b64_text, "Image.Bytes").ok(); });
  double decode = time_us([&] { ok &= DecodeImage(png).ok(); });
  double serialize = time_us([&] {
    std::string s = response.dump(-1, ' ', false, json::error_handler_t::replace);
    ok &= !s.empty();
  });
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  if (!ok) {
    std::fprintf(stderr, "argus bench protocol: a step failed\n");
    return 1;
  }
  std::printf(
      "Per-request protocol cost, tiny image (80x80 PNG, %zu-byte body), %d iterations, "
      "one thread:\n",
      body.size(), n);
  std::printf("  client SigV4 signing                      %8.2f us\n", sign);
  std::printf("  server SigV4 verify (incl. key lookup)    %8.2f us\n", verify);
  std::printf("  JSON parse + model validation             %8.2f us\n", parse);
  std::printf("  base64 decode of Image.Bytes              %8.2f us\n", b64);
  std::printf("  response serialisation (1 face)           %8.2f us\n", serialize);
  std::printf("  server total (verify+parse+validate+b64+serialise) %8.2f us\n",
              verify + parse + b64 + serialize);
  std::printf("  (for scale: decoding the 80x80 PNG itself %.2f us)\n", decode);
  return 0;
}

}  // namespace argus::bench
