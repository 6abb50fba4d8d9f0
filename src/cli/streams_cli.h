#pragma once
// Stream processors as `argus serve` runs them: --stream-source NAME=URL
// (what a KinesisVideoStream ARN ending in NAME reads), --stream-sink
// NAME=URL-or-path (where a KinesisDataStream ARN ending in NAME writes:
// an http(s) webhook or a JSON Lines file), --stream-fps N, and the SNS
// topics of --webhook for their notifications.
#include <memory>

#include "api/rekognition/handlers.h"
#include "cli/args.h"

namespace argus::cli {

class StreamSetup;

// Fills services.streams (left null when no --stream-source is given).
// InvalidParameter for a bad flag value. The result must outlive serving;
// destroying it stops every processor.
Result<std::shared_ptr<StreamSetup>> ConfigureStreams(const Args& a, api::Services& services);

}  // namespace argus::cli
