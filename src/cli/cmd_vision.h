#pragma once
// `argus detect-labels | detect-text | detect-moderation-labels`, `argus bench ops`
// `argus eval text` and `argus eval labels`.
#include "cli/args.h"

namespace argus::cli {

int CmdDetectLabels(const Args& a);
int CmdDetectText(const Args& a);
int CmdDetectModerationLabels(const Args& a);
// p50 latency of whole operations (through the router) on a photo.
int CmdBenchOps(const Args& a);
// Word recall and character accuracy on word crops, detection recall on
// scene images; side by side with the `tesseract` command when installed.
int CmdEvalText(const Args& a);
// Per-class instance recall and precision of DetectLabels at IoU >= 0.5
// against hand-drawn boxes.
int CmdEvalLabels(const Args& a);
// Face liveness FRR on genuine video windows and FAR on simulated spoofs
// (print, screen replay, photo held still) built from the same frames.
int CmdEvalLiveness(const Args& a);

}  // namespace argus::cli
