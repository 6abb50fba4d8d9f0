#pragma once
// The HTTP front: POST / with X-Amz-Target (AWS JSON 1.1), GET /healthz.
#include <string>

#include "api/rekognition/handlers.h"

namespace argus::server {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  int workers = 4;                          // HTTP worker threads
  size_t max_body_bytes = 8 * 1024 * 1024;  // base64 of a 5 MB image plus JSON
};

// Serves until SIGINT/SIGTERM. Returns a process exit code.
int Serve(const Options& options, api::Services& services);

// A random RFC 4122 version-4 UUID, as AWS request ids look.
std::string NewRequestId();

}  // namespace argus::server
