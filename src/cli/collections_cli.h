#pragma once
// `argus collections ...`, `argus bench search`, and the collection service
// as `argus serve` opens it.
#include <memory>
#include <string>

#include "cli/args.h"
#include "service/collections.h"

namespace argus::cli {

// The collection service over DATA_DIR/argus.db and DATA_DIR/index/, with
// --hnsw-threshold N and --snapshot-interval S applied.
Result<std::unique_ptr<service::CollectionService>> OpenCollections(
    const Args& a, const std::string& data_dir, service::FaceService* faces);

int CmdCollections(const Args& a);
int CmdBenchSearch(const Args& a);

}  // namespace argus::cli
