#include "server/console.h"

namespace argus::server {
namespace {

// Scripts, styles, images and API calls from this origin only; images also
// from the blob: and data: URLs the page makes of files the user picks.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

bool IsConsolePath(std::string_view path) {
  return path == "/console" || path.substr(0, 9) == "/console/";
}

HttpResponse ConsoleResponse(std::string_view path) {
  HttpResponse res;
  if (path == "/console") {
    res.status = 308;
    res.set_header("Location", "/console/");
    return res;
  }
  std::string_view name = path.substr(9);
  if (name.empty()) name = "index.html";
  for (const auto& a : ConsoleAssets()) {
    if (a.name != name) continue;
    res.set_header("Content-Security-Policy", kPolicy);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(a.body), std::string(a.content_type));
    return res;
  }
  res.status = 404;
  return res;
}

}  // namespace argus::server
