#pragma once
// A real `argus serve` started by a benchmark as a child process: a free
// loopback port, a fresh data dir under /tmp with one research key, and the
// requests signed with that key. Shared by `argus bench server` and
// `argus bench memory`.
#include <httplib.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace argus::bench {

struct ServerProcess {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string key, secret;  // the access key the requests are signed with
  std::string data_dir;     // "" for a server this process did not start
  pid_t pid = -1;
};

struct ServeOptions {
  std::string model_dir;
  std::vector<std::string> extra_args;  // appended to `argus serve ...`
  // A file in the data dir the server's stderr goes to ("" for the
  // benchmark's own stderr).
  std::string log_file;
};

// A loopback port nobody listens on now (the probing socket is closed again).
int FreePort();
// Whether GET /healthz answers 200 within a second.
bool Healthy(const ServerProcess& s);
// Starts `argus serve` (this executable) and waits up to a minute for it to
// answer /healthz. False when the key, the data dir or the server fails;
// `s->data_dir` is set as soon as it exists (for its log).
bool StartServer(const ServeOptions& options, const char* data_dir_prefix, ServerProcess* s);
// Stops a server StartServer started (SIGTERM, then waits) and removes its
// data dir; nothing for one it did not start.
void StopServer(ServerProcess& s);
// The headers of a SigV4-signed POST of `body` to operation `op`.
httplib::Headers SignedHeaders(const ServerProcess& s, const std::string& op,
                               const std::string& body);
// The __type of an error answer ("HTTP <status>" when the body has none).
std::string ErrorType(const httplib::Response& r);

}  // namespace argus::bench
