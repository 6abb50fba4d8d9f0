#pragma once
// `argus collections ...`, `argus bench search`, and the collection service
// as `argus serve` opens it.
#include <memory>
#include <string>

#include "cli/args.h"
#include "service/collections.h"

namespace argus::cli {

// Makes the process's files private (umask 077), creates the data dir or
// makes an existing one private (0700, files 0600; what changed is logged),
// and opens its store: DATA_DIR/argus.db, or the PostgreSQL database of
// `store_url` (--store postgresql://...) with a pool of `pool_size`
// connections.
Result<std::shared_ptr<store::Store>> OpenDataDir(const std::string& data_dir,
                                                  const std::string& store_url = "",
                                                  int pool_size = 8);

// The collection service over `store` and DATA_DIR/index/, with
// --hnsw-threshold N and --snapshot-interval S applied.
Result<std::unique_ptr<service::CollectionService>> OpenCollections(
    const Args& a, const std::string& data_dir, service::FaceService* faces,
    std::shared_ptr<store::Store> store);

int CmdCollections(const Args& a);
int CmdBenchSearch(const Args& a);

}  // namespace argus::cli
