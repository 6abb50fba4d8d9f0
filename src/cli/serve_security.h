#pragma once
// The security and limits part of `argus serve` (cmd_keys.cpp).
#include <memory>
#include <string>

#include "auth/key_store.h"
#include "cli/args.h"
#include "server/server.h"

namespace argus::cli {

// Applies --workers, --queue, --connections, --header-timeout,
// --body-timeout, --idle-timeout, --max-connections,
// --max-connections-per-address, --rate-limit, --rate-burst, --s3-root and
// --no-auth to `opts` (host and port already set), opens the keys of
// `store` (sealed under data_dir/argus.key) and, when there is no active
// key, creates the admin key and prints how to use it. A store several
// nodes share keeps the rate-limit buckets too. The key store must outlive
// the server.
Result<std::unique_ptr<auth::KeyStore>> ConfigureServeSecurity(const Args& a,
                                                               const std::string& data_dir,
                                                               store::Store& store,
                                                               server::Options& opts);

}  // namespace argus::cli
