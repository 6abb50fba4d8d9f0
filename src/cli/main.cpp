// argus: Rekognition-compatible image analysis server and its tools.
#include <cstdio>
#include <cstring>
#include <string>

#include "argus/version.h"
#include "cli/args.h"
#include "cli/cmd_vision.h"
#include "cli/collections_cli.h"
#include "cli/governance_cli.h"
#include "cli/jobs_cli.h"
#include "ml/onednn_graph.h"

namespace argus::cli {
int CmdBenchMemory(const Args& a);  // bench memory: server RSS under large images
int CmdVideo(const Args& a);        // video analyse: one stored-video analysis in-process
int CmdBenchVideo(const Args& a);   // bench video: decode and analysis speed on video clips
}  // namespace argus::cli

namespace {

const char* kUsage = R"(usage: argus <command> [options]

Commands:
  serve                 run the Rekognition-compatible HTTP server
      --host H            listen address (default 127.0.0.1)
      --port P            port (default 8080)
      --data-dir D        data directory (default ./argus-data)
      --model-dir M       model cache (default $ARGUS_MODEL_DIR or ~/.cache/argus/models)
      --threads N         inference threads (default 2)
      --workers N         requests analysed at once (default 2)
      --queue N           requests that may wait for a worker; more get ThrottlingException (default 32)
      --connections N     request handler threads (default 64)
      --header-timeout S  seconds a connection may take to send a request head (default 10)
      --body-timeout S    seconds a request body may take after its head (default 60)
      --idle-timeout S    seconds a keep-alive connection may sit idle (default 60)
      --max-connections N connections served at once (default 1024); beyond: 503
      --max-connections-per-address N
                          connections served at once per client address (default 32)
      --rate-limit R      requests/s per principal, 0 = none (default 0); a key's own limit wins
      --rate-burst B      token bucket size for --rate-limit (default max(1, R))
      --s3-root DIR       serve S3Object {Bucket B, Name K} from DIR/B/K
      --video-max-mb N    refuse stored videos over N MiB (default 10240)
      --video-max-minutes N
                          refuse stored videos over N minutes (default 360)
      --video-workers N   stored-video jobs run at once (default 1)
      --webhook NAME=URL,...  POST notifications of jobs whose SNS topic is NAME to URL
      --no-auth           accept unsigned requests (local experiments only)
      --policy P,...      use policies: presets (moratorium-2020, eu-ai-act-art5, open) or JSON
                          files (default moratorium-2020); a bad policy refuses to start
      --policy-param N=V,...  set policy parameters (e.g. enrollment_daily_cap=200)
      --retention-interval S  seconds between retention purges (default 3600; 0 = off)
      --anonymous-org-type T, --anonymous-purpose P
                          the principal of unsigned requests under --no-auth
                          (default individual, testing)
  keys create           issue an access key; prints {"AccessKeyId", "SecretAccessKey", ...}
      --name N --org-type T --purpose P [--authorisation REF] [--rate-limit R] [--admin]
      --data-dir D        (default ./argus-data; same for list and revoke)
  keys list             every key and its principal (no secrets)
  keys revoke KEY_ID    revoke a key; a running server refuses it at once
  policy show           the policies in force (--policy, --policy-param as for serve; --json)
  policy test --org-type T --purpose P --op OPERATION|CLASS
                        explain the decision [--attributes A,..] [--case-id C]
                        [--authorisation REF] [--at DATE] [--json]
  audit verify          check the audit log's hash chain; names the first bad record
      [--expect-head SEQ:HASH] [--data-dir D]
  audit head            the last record as SEQ:HASH (keep it elsewhere)
  audit export          JSON lines [--since DATE] [--until DATE] [--format jsonl]
  report transparency   requests by org type x class x decision, thresholds, denials by rule
      [--since DATE] [--until DATE] [--format json|html] [--out FILE]
  retention purge       delete faces past their collection's retention (server stopped)
      [--as-of DATE] [--data-dir D]
  bench server          DetectFaces requests/s and p50/p99 on loopback (starts argus serve)
      --concurrency N     clients (default 8)   --duration S   seconds per run (default 20)
      --image FILE        (default face-api's sample1.jpg)  --workers N  --threads N
      --endpoint URL      use a running server (key from --access-key/--secret-key or AWS_*)
  bench protocol        per-request cost of SigV4 + JSON + validation with a tiny image
  bench faces [IMAGE...]
                        DetectFaces + a descriptor per face, per image: argus in process against
                        the same weights in @vladmandic/face-api on node (tfjs WASM backend,
                        npm ci into ~/.cache/argus/bench/faces-peer); p50/mean and the ratio
      --images DIR        (default face-api's demo/sample*.jpg)  --n N  timed runs (default 5)
      --warmup W          (default 1)  --threads N  (default 1: tfjs-wasm on node has one)
      --face-detector D   argus's detector; other than ssd, ssd is timed as well
      --no-peer           argus only   --peer-dir DIR   --peer-src DIR   --json
  bench memory          the server's peak and after-burst RSS under concurrent large images
      --concurrency N     requests per burst (default 4)  --rounds R  bursts (default 2)
      --megapixels M      image size, at most 50 (default 50)  --op OP  DetectFaces (default),
                          DetectLabels, DetectText, DetectModerationLabels, CompareFaces
      --workers N  --threads N  --queue N  --image-memory-mb MB   passed to argus serve
  bench video [CLIP...] decode fps (libav, cv::VideoCapture) and the real-time factor of the
                        faces, persons, labels and segments analyses; the face search check
      --data DIR          shared data (default $ARGUS_DATA, else ../shared/data)
      --ops LIST  --fps F (default 5)  --seconds S  per clip (default 20)  --no-720p  --no-search
  detect-faces IMAGE    print DetectFaces JSON for an image file
      --attributes ALL|DEFAULT
  compare-faces SOURCE TARGET
                        print CompareFaces JSON (largest source face against the target's)
      --similarity-threshold N (default 80)  --quality-filter NONE|AUTO|LOW|MEDIUM|HIGH
  detect-labels IMAGE   print DetectLabels JSON for an image file
      --max-labels N --min-confidence C --features GENERAL_LABELS,IMAGE_PROPERTIES
  detect-text IMAGE     print DetectText JSON for an image file
      --min-confidence C  word filter
  detect-moderation-labels IMAGE
                        print DetectModerationLabels JSON for an image file
      --min-confidence C
  video analyse --op faces|search|persons|labels|moderation|text|segments FILE
                        run one stored-video analysis in-process and print the JSON its Get*
                        operation answers (all results), with a progress bar on stderr
      --collection C --threshold T   face search (collections from --data-dir)
      --attributes DEFAULT|ALL       faces
      --min-confidence X             labels, moderation, text
      --aggregate-by TIMESTAMPS|SEGMENTS
                                     labels, moderation
  eval text --data DIR [--tesseract auto|none] [--json]
                        word recall / character accuracy (word crops) and word detection
                        (scene images) of argus and, when installed, Tesseract
  eval labels --annotations FILE [--images DIR] [--min-confidence C] [--json]
                        DetectLabels per-class instance recall and precision at IoU 0.5
                        (tests/data/labels/annotations.json)
  eval verification --pairs FILE --images DIR [--json]
                        10-fold accuracy, TAR at FAR, EER (LFW pairs.txt or CSV)
      --identities FILE   instead of --pairs: every same-identity pair of a CSV
                          image,identity list and as many different-identity pairs
                          (seeded draw)
  eval detection --annotations FILE --images DIR [--json]
                        WIDER FACE AP (easy/medium/hard)
  eval demographics --labels FILE --images DIR --out DIR [--json] [--limit N]
                        per group (gender x race, age bands): FMR at Similarity 80/90/95/99,
                        gender error, age MAE, failure to detect; report.json + report.html
      --face-detector D   cascade (default), ssd-tiled, ssd-wide, ssd
  collections create|list|describe|delete|faces|index|search|share|unshare|chown|owners
                        collections on a data dir (--data-dir D; `argus collections` for
                        details); the server must not be running on that dir
  jobs list [--state S] [--api A] | describe JOB_ID | cancel JOB_ID
                        stored video and media analysis jobs on a data dir (--data-dir D);
                        works while the server runs
  models list           list the models of the manifest and their state
  models verify         check every model file's sha256; non-zero exit on a problem
  bench models          per-model inference latency on synthetic input
      --iterations N      timed runs per model (default 20)
      --threads N         inference threads (default 2)
  bench ops             p50/p90 latency of DetectLabels, DetectText, DetectModerationLabels
      --image PATH        photo, resized to 640x480 (default face-api's demo/sample1.jpg)
      --iterations N      timed runs per operation (default 20)
  bench search          1:N search at scale: recall@1 vs exact, SearchFaces and
                        SearchFacesByImage latency, RSS, cold start, IndexFaces faces/s
      --faces N           synthetic faces in the collection (default 1000000)
      --queries N         search queries (default 500)
      --data-dir D        keep the store there and reuse it (default: a temp dir)
      --reuse-snapshot    with --data-dir: load the HNSW snapshot of an earlier run
      --ef-search N       HNSW search beam (default 384)
      --hnsw-m N, --ef-construction N   HNSW graph degree (48) and build beam (100)
      --beams             also recall@1 and p50 of the graph at efSearch 128..512
      --real-faces DIR    fit the synthetic descriptors to face photos in DIR (largest
                          face of each, up to --real-faces-limit 1000) instead of the
                          model package's sample photos
      --sweep             exact vs HNSW at 10k..400k faces (up to --faces; --sweep-from N)

  --help                this text
  --version             print the version
)";

}  // namespace

int main(int argc, char** argv) {
  argus::ml::OnednnGraph::PreferPassiveWaiting(argv);
  using namespace argus::cli;
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "--version" || cmd == "version") {
    std::printf("argus %s\n", argus::kVersion);
    return 0;
  }
  Args args = Parse(argc, argv, 2,
                    {"json", "no-auth", "help", "admin", "sweep", "reuse-snapshot", "beams", "keep",
                     "no-peer", "read-only", "no-720p", "no-search"});
  if (!args.error.empty()) {
    std::fprintf(stderr, "argus %s: %s\n", cmd.c_str(), args.error.c_str());
    return 2;
  }
  if (args.Has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "serve") return CmdServe(args);
  if (cmd == "keys") return CmdKeys(args);
  if (cmd == "policy") return CmdPolicy(args);
  if (cmd == "audit") return CmdAudit(args);
  if (cmd == "report") return CmdReport(args);
  if (cmd == "retention") return CmdRetention(args);
  if (cmd == "bench" && !args.positional.empty() && args.positional[0] == "server")
    return CmdBenchServer(args);
  if (cmd == "bench" && !args.positional.empty() && args.positional[0] == "protocol")
    return CmdBenchProtocol(args);
  if (cmd == "bench" && !args.positional.empty() && args.positional[0] == "faces")
    return CmdBenchFaces(args);
  if (cmd == "bench" && !args.positional.empty() && args.positional[0] == "memory")
    return CmdBenchMemory(args);
  if (cmd == "bench" && !args.positional.empty() && args.positional[0] == "video")
    return CmdBenchVideo(args);
  if (cmd == "detect-faces") return CmdDetectFaces(args);
  if (cmd == "compare-faces") return CmdCompareFaces(args);
  if (cmd == "detect-labels") return CmdDetectLabels(args);
  if (cmd == "detect-text") return CmdDetectText(args);
  if (cmd == "detect-moderation-labels") return CmdDetectModerationLabels(args);
  if (cmd == "eval" && !args.positional.empty() && args.positional[0] == "text")
    return CmdEvalText(args);
  if (cmd == "eval" && !args.positional.empty() && args.positional[0] == "labels")
    return CmdEvalLabels(args);
  if (cmd == "bench" && !args.positional.empty() && args.positional[0] == "ops")
    return CmdBenchOps(args);
  if (cmd == "video") return CmdVideo(args);
  if (cmd == "models") return CmdModels(args);
  if (cmd == "bench") return CmdBench(args);
  if (cmd == "collections") return CmdCollections(args);
  if (cmd == "jobs") return CmdJobs(args);
  if (cmd == "eval") return CmdEval(args);
  std::fprintf(stderr, "argus: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
