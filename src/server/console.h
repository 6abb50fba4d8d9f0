#pragma once
// The web console's static files, bundled by console/build.mjs at build time
// and embedded in the binary; served at GET /console/ with a strict
// Content-Security-Policy. Nothing is fetched from elsewhere at run time.
#include <string_view>
#include <vector>

#include "server/http_server.h"

namespace argus::server {

struct ConsoleAsset {
  std::string_view name;  // "index.html", "app.js", "app.css"
  std::string_view content_type;
  std::string_view body;
};

// Every embedded file (generated: build/generated/console_assets.cpp).
const std::vector<ConsoleAsset>& ConsoleAssets();

// Whether `path` ("/console", "/console/...") is the console's.
bool IsConsolePath(std::string_view path);
// The answer to GET `path`: the file with its type and security headers,
// a redirect from /console to /console/, or 404 (status only; the caller
// writes the error body).
HttpResponse ConsoleResponse(std::string_view path);

}  // namespace argus::server
