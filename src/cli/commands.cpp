#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "argus/version.h"
#include "cli/args.h"
#include "cli/cmd_vision.h"
#include "cli/collections_cli.h"
#include "cli/governance_cli.h"
#include "cli/jobs_cli.h"

namespace argus::cli {
int CmdBenchMemory(const Args& a);  // bench memory: server RSS under large images
int CmdVideo(const Args& a);        // video analyse: one stored-video analysis in-process
int CmdBenchVideo(const Args& a);   // bench video: decode and analysis speed on video clips

namespace {

// One flag: `value` names its argument; a flag without one is boolean.
struct Flag {
  const char* name;
  const char* value;
  const char* help;
};
using Flags = std::vector<Flag>;

// One command (`serve`) or action of a command group (`keys create`).
struct Command {
  std::string group;  // "" for a plain command
  std::string name;   // command or action name
  std::string args;   // positional synopsis, e.g. "IMAGE" or "ID DIR"
  size_t max_args;    // positionals accepted
  std::string help;   // one line
  std::vector<Flags> flags;
  int (*run)(const Args&);
};

constexpr size_t kAny = size_t(-1);

// Flags whose value names are N, PORT or SECONDS take whole numbers; CLI11
// refuses anything else (a flag read with GetInt would otherwise fall back
// to its default).
bool WholeNumberValue(const char* value) {
  return value && (!std::strcmp(value, "N") || !std::strcmp(value, "PORT") ||
                   !std::strcmp(value, "SECONDS"));
}

const CLI::Validator kWholeNumber(
    [](std::string& v) -> std::string {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || errno == ERANGE || n < INT_MIN || n > INT_MAX)
        return "needs a whole number, got '" + v + "'";
      return "";
    },
    "", "");

// Flag groups read by shared helpers (args.cpp, OpenCollections, ...).
const Flags kModel = {
    {"model-dir", "M", "model cache (default $ARGUS_MODEL_DIR or ~/.cache/argus/models)"},
    {"threads", "N", "inference threads (default 2)"}};
const Flags kFace = {{"face-detector", "D", "cascade (default), ssd-tiled, ssd-wide, ssd"}};
const Flags kData = {{"data-dir", "D", "data directory (default ./argus-data)"}};
const Flags kJson = {{"json", nullptr, "print JSON"}};
const Flags kCollectionsStore = {
    {"hnsw-threshold", "N", "faces from which a collection is searched through HNSW"},
    {"snapshot-interval", "SECONDS", "seconds between index snapshots"}};
const Flags kPolicies = {
    {"policy", "P,...",
     "use policies: presets (moratorium-2020, eu-ai-act-art5, open) or JSON files "
     "(default moratorium-2020); a bad policy refuses to start"},
    {"policy-param", "N=V,...", "set policy parameters (e.g. enrollment_daily_cap=200)"}};
const Flags kGovernance = {
    {"retention-interval", "SECONDS", "seconds between retention purges (default 3600; 0 = off)"},
    {"anonymous-org-type", "T", "the organisation type of unsigned requests under --no-auth"},
    {"anonymous-purpose", "P", "the purpose of unsigned requests under --no-auth"}};
const Flags kJobs = {
    {"video-workers", "N", "stored-video jobs run at once (default 1)"},
    {"max-pending-jobs", "N", "jobs that may wait; more are refused (LimitExceededException)"},
    {"job-retention-days", "D", "days finished jobs are kept (default 7)"},
    {"webhook", "NAME=URL,...", "POST notifications of jobs whose SNS topic is NAME to URL"}};
const Flags kServe = {
    {"host", "H", "listen address (default 127.0.0.1)"},
    {"port", "PORT", "port (default 8080)"},
    {"workers", "N", "requests analysed at once (default 2)"},
    {"queue", "N",
     "requests that may wait for a worker; more get ThrottlingException (default 32)"},
    {"connections", "N", "request handler threads (default 64)"},
    {"header-timeout", "SECONDS",
     "seconds a connection may take to send a request head (default 10)"},
    {"body-timeout", "SECONDS", "seconds a request body may take after its head (default 60)"},
    {"idle-timeout", "SECONDS", "seconds a keep-alive connection may sit idle (default 60)"},
    {"max-connections", "N", "connections served at once (default 1024); beyond: 503"},
    {"max-connections-per-address", "N",
     "connections served at once per client address (default 32)"},
    {"rate-limit", "R", "requests/s per principal, 0 = none (default 0); a key's own limit wins"},
    {"rate-burst", "B", "token bucket size for --rate-limit (default max(1, R))"},
    {"s3-root", "DIR", "serve S3Object {Bucket B, Name K} from DIR/B/K"},
    {"video-max-mb", "X", "refuse stored videos over N MiB (default 10240)"},
    {"video-max-minutes", "X", "refuse stored videos over N minutes (default 360)"},
    {"image-memory-mb", "MB", "decoded-image memory admitted at once"},
    {"no-auth", nullptr, "accept unsigned requests (local experiments only)"},
    {"log-format", "text|logfmt|json",
     "access log and messages: text (default), logfmt or JSON, one line each"},
    {"log-level", "debug|info|warn|error", "the least severe messages written (default info)"},
    {"region", "R,...",
     "regions a request may be signed for (default: any; the region is logged); another "
     "region gets InvalidSignatureException"}};
const Flags kKeyCreate = {{"name", "NAME", "the principal's name"},
                          {"org-type", "T", "organisation type"},
                          {"purpose", "P", "the principal's default purpose"},
                          {"authorisation", "REF", "authorisation reference"},
                          {"rate-limit", "R", "the key's own requests/s"},
                          {"admin", nullptr, "an administrator key"}};
const Flags kPolicyTest = {{"org-type", "T", "organisation type"},
                           {"purpose", "P", "purpose"},
                           {"op", "OPERATION|CLASS", "the operation or its class"},
                           {"attributes", "A,...", "requested attributes"},
                           {"case-id", "C", "a case id is given"},
                           {"authorisation", "REF", "an authorisation reference is given"},
                           {"at", "DATE", "decide as of DATE"}};
const Flags kPeriod = {{"since", "DATE", "from DATE (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"},
                       {"until", "DATE", "until DATE"}};
const Flags kBenchServe = {{"workers", "N", "passed to argus serve"},
                           {"threads", "N", "passed to argus serve"},
                           {"queue", "N", "passed to argus serve"},
                           {"model-dir", "M", "model cache"}};

const std::vector<Command>& Table() {
  static const std::vector<Command> table = {
      {"",
       "serve",
       "",
       0,
       "run the Rekognition-compatible HTTP server",
       {kServe, kModel, kFace, kData, kCollectionsStore, kPolicies, kGovernance, kJobs},
       CmdServe},
      {"keys",
       "create",
       "",
       0,
       "issue an access key; prints {\"AccessKeyId\", \"SecretAccessKey\"}",
       {kKeyCreate, kData},
       CmdKeys},
      {"keys", "list", "", 0, "every key and its principal (no secrets)", {kData}, CmdKeys},
      {"keys",
       "revoke",
       "KEY_ID",
       1,
       "revoke a key; a running server refuses it at once",
       {kData},
       CmdKeys},
      {"policy", "show", "", 0, "the policies in force", {kPolicies, kJson}, CmdPolicy},
      {"policy",
       "test",
       "",
       0,
       "explain the decision for a principal and an operation",
       {kPolicyTest, kPolicies, kJson},
       CmdPolicy},
      {"audit",
       "verify",
       "",
       0,
       "check the audit log's hash chain; names the first bad record",
       {{{"expect-head", "SEQ:HASH", "the head kept elsewhere"}}, kData},
       CmdAudit},
      {"audit",
       "head",
       "",
       0,
       "the last record as SEQ:HASH (keep it elsewhere)",
       {kData},
       CmdAudit},
      {"audit",
       "export",
       "",
       0,
       "the audit records as JSON lines",
       {kPeriod, {{"format", "jsonl", "output format"}}, kData},
       CmdAudit},
      {"report",
       "transparency",
       "",
       0,
       "requests by org type x class x decision, thresholds, denials by rule",
       {kPeriod,
        {{"format", "json|html", "output format (default json)"}, {"out", "FILE", "write there"}},
        kData},
       CmdReport},
      {"retention",
       "purge",
       "",
       0,
       "delete faces past their collection's retention (server stopped)",
       {{{"as-of", "DATE", "purge as of DATE (default now)"}}, kData, kModel, kCollectionsStore},
       CmdRetention},
      {"bench",
       "server",
       "",
       0,
       "DetectFaces requests/s and p50/p99 on loopback",
       {{{"concurrency", "N", "clients (default 8)"},
         {"duration", "SECONDS", "seconds per run (default 20)"},
         {"image", "FILE", "(default face-api's sample1.jpg)"},
         {"endpoint", "URL", "use a running server"},
         {"access-key", "ID", "key for --endpoint (default $AWS_ACCESS_KEY_ID)"},
         {"secret-key", "S", "secret for --endpoint (default $AWS_SECRET_ACCESS_KEY)"}},
        kBenchServe},
       CmdBenchServer},
      {"bench",
       "protocol",
       "",
       0,
       "per-request cost of SigV4 + JSON + validation",
       {{{"iterations", "N", "requests (default 20000)"}}},
       CmdBenchProtocol},
      {"bench",
       "faces",
       "[IMAGE...]",
       kAny,
       "DetectFaces + descriptors: argus against face-api on node, same weights",
       {{{"images", "DIR", "(default face-api's demo/sample*.jpg)"},
         {"n", "N", "timed runs (default 5)"},
         {"warmup", "W", "(default 1)"},
         {"no-peer", nullptr, "argus only"},
         {"peer-dir", "DIR", "the node peer's install"},
         {"peer-src", "DIR", "the node peer's sources"}},
        kModel,
        kFace,
        kJson},
       CmdBenchFaces},
      {"bench",
       "memory",
       "",
       0,
       "the server's peak and after-burst RSS under large images",
       {{{"concurrency", "N", "requests per burst (default 4)"},
         {"rounds", "R", "bursts (default 2)"},
         {"megapixels", "M", "image size, at most 50 (default 50)"},
         {"op", "OP",
          "DetectFaces (default), DetectLabels, DetectText, DetectModerationLabels, "
          "CompareFaces"},
         {"image", "FILE", "the image to scale"},
         {"image-memory-mb", "MB", "passed to argus serve"}},
        kBenchServe},
       CmdBenchMemory},
      {"bench",
       "video",
       "[CLIP...]",
       kAny,
       "decode fps and the real-time factor of the video analyses",
       {{{"data", "DIR", "shared data (default $ARGUS_DATA, else ../shared/data)"},
         {"ops", "LIST", "analyses to time"},
         {"fps", "F", "(default 5)"},
         {"seconds", "X", "per clip (default 20)"},
         {"no-720p", nullptr, "skip the 720p clip"},
         {"no-search", nullptr, "skip the face search check"}},
        kModel,
        kFace},
       CmdBenchVideo},
      {"bench",
       "models",
       "",
       0,
       "per-model inference latency on synthetic input",
       {{{"iterations", "N", "timed runs per model (default 20)"},
         {"only", "NAME", "one model"},
         {"backend", "B", "onednn, opencv or both side by side (default both)"}},
        kModel},
       CmdBench},
      {"bench",
       "ops",
       "",
       0,
       "p50/p90 latency of DetectLabels, DetectText, DetectModerationLabels",
       {{{"image", "PATH", "photo, resized to 640x480"},
         {"iterations", "N", "timed runs per operation (default 20)"}},
        kModel,
        kFace},
       CmdBenchOps},
      {"bench",
       "search",
       "",
       0,
       "1:N search at scale: recall@1, latency, RSS, cold start",
       {{{"faces", "N", "synthetic faces (default 1000000)"},
         {"faces-per-identity", "N", "(default 4)"},
         {"queries", "N", "search queries (default 500)"},
         {"data-dir", "D", "keep the store there and reuse it (default: a temp dir)"},
         {"reuse-snapshot", nullptr, "with --data-dir: load the HNSW snapshot of an earlier run"},
         {"ef-search", "N", "HNSW search beam (default 384)"},
         {"hnsw-m", "N", "HNSW graph degree (48)"},
         {"ef-construction", "N", "HNSW build beam (100)"},
         {"beams", nullptr, "also recall@1 and p50 at efSearch 128..512"},
         {"real-faces", "DIR", "fit the synthetic descriptors to face photos in DIR"},
         {"real-faces-limit", "N", "(default 1000)"},
         {"image-queries", "N", "SearchFacesByImage queries (default 30)"},
         {"index-photos", "N", "IndexFaces photos (default 60)"},
         {"sweep", nullptr, "exact vs HNSW at 10k..--faces"},
         {"sweep-from", "N", "first size of --sweep"},
         {"keep", nullptr, "keep the temporary data dir"}},
        kModel},
       CmdBench},
      {"",
       "detect-faces",
       "IMAGE",
       1,
       "print DetectFaces JSON for an image file",
       {{{"attributes", "ALL|DEFAULT|A,...", "face attributes"}}, kModel, kFace},
       CmdDetectFaces},
      {"",
       "compare-faces",
       "SOURCE TARGET",
       2,
       "print CompareFaces JSON (largest source face against the target's)",
       {{{"similarity-threshold", "T", "(default 80)"},
         {"quality-filter", "Q", "NONE|AUTO|LOW|MEDIUM|HIGH"}},
        kModel,
        kFace},
       CmdCompareFaces},
      {"",
       "detect-labels",
       "IMAGE",
       1,
       "print DetectLabels JSON for an image file",
       {{{"max-labels", "N", "labels returned"},
         {"min-confidence", "C", "confidence floor"},
         {"features", "F,...", "GENERAL_LABELS,IMAGE_PROPERTIES"}},
        kModel},
       CmdDetectLabels},
      {"",
       "detect-text",
       "IMAGE",
       1,
       "print DetectText JSON for an image file",
       {{{"min-confidence", "C", "word filter"}}, kModel},
       CmdDetectText},
      {"",
       "detect-moderation-labels",
       "IMAGE",
       1,
       "print DetectModerationLabels JSON for an image file",
       {{{"min-confidence", "C", "confidence floor"}}, kModel},
       CmdDetectModerationLabels},
      {"video",
       "analyse",
       "FILE",
       1,
       "run one stored-video analysis in-process and print its Get* answer",
       {{{"op", "OP", "faces|search|persons|labels|moderation|text|segments"},
         {"collection", "C", "face search: the collection (from --data-dir)"},
         {"threshold", "T", "face search: FaceMatchThreshold"},
         {"attributes", "DEFAULT|ALL", "faces"},
         {"min-confidence", "X", "labels, moderation, text"},
         {"aggregate-by", "TIMESTAMPS|SEGMENTS", "labels, moderation"}},
        kData,
        kModel,
        kFace,
        kCollectionsStore},
       CmdVideo},
      {"eval",
       "text",
       "",
       0,
       "word recall and character accuracy of argus (and Tesseract)",
       {{{"data", "DIR", "the text data set"}, {"tesseract", "auto|none", "compare Tesseract"}},
        kModel,
        kJson},
       CmdEvalText},
      {"eval",
       "labels",
       "",
       0,
       "DetectLabels per-class recall and precision at IoU 0.5",
       {{{"annotations", "FILE", "annotations.json"},
         {"images", "DIR", "image folder"},
         {"min-confidence", "C", "confidence floor"}},
        kModel,
        kJson},
       CmdEvalLabels},
      {"eval",
       "verification",
       "",
       0,
       "10-fold accuracy, TAR at FAR, EER",
       {{{"pairs", "FILE", "LFW pairs.txt or CSV"},
         {"identities", "FILE", "instead of --pairs: a CSV image,identity list"},
         {"images", "DIR", "image folder"},
         {"scores", "FILE", "write the pair scores there"}},
        kModel,
        kFace,
        kJson},
       CmdEval},
      {"eval",
       "detection",
       "",
       0,
       "WIDER FACE AP (easy/medium/hard)",
       {{{"annotations", "FILE", "WIDER FACE annotations"}, {"images", "DIR", "image folder"}},
        kModel,
        kFace,
        kJson},
       CmdEval},
      {"eval",
       "demographics",
       "",
       0,
       "per group: FMR, gender error, age MAE, failure to detect",
       {{{"labels", "FILE", "image labels"},
         {"images", "DIR", "image folder"},
         {"out", "DIR", "report.json + report.html"},
         {"limit", "N", "images at most"}},
        kModel,
        kFace,
        kJson},
       CmdEval},
      {"collections",
       "create",
       "ID",
       1,
       "create a collection",
       {kData, kModel, kCollectionsStore},
       CmdCollections},
      {"collections",
       "list",
       "",
       0,
       "list collections",
       {kData, kModel, kCollectionsStore},
       CmdCollections},
      {"collections",
       "describe",
       "ID",
       1,
       "face and user counts, model version",
       {kData, kModel, kCollectionsStore},
       CmdCollections},
      {"collections",
       "delete",
       "ID",
       1,
       "delete a collection and its faces",
       {kData, kModel, kCollectionsStore},
       CmdCollections},
      {"collections",
       "faces",
       "ID",
       1,
       "list faces",
       {{{"max", "N", "faces listed (default 1000)"}}, kData, kModel, kCollectionsStore},
       CmdCollections},
      {"collections",
       "index",
       "ID DIR",
       2,
       "index every .jpg/.jpeg/.png under DIR (ExternalImageId = file name)",
       {{{"max-faces", "N", "faces per image (default 100)"},
         {"quality", "Q", "quality filter (default AUTO)"}},
        kData,
        kModel,
        kCollectionsStore},
       CmdCollections},
      {"collections",
       "search",
       "ID IMAGE",
       2,
       "SearchFacesByImage with an image file",
       {{{"max-faces", "N", "matches (default 10)"},
         {"threshold", "T", "FaceMatchThreshold (default 80)"}},
        kData,
        kModel,
        kCollectionsStore},
       CmdCollections},
      {"collections",
       "share",
       "ID",
       1,
       "let a principal use the collection",
       {{{"with", "PRINCIPAL", "the principal"},
         {"read-only", nullptr, "describe, list and search only"}},
        kData},
       CmdCollections},
      {"collections",
       "unshare",
       "ID",
       1,
       "withdraw a share",
       {{{"with", "PRINCIPAL", "the principal"}}, kData},
       CmdCollections},
      {"collections",
       "chown",
       "ID",
       1,
       "make a principal the collection's only owner",
       {{{"to", "PRINCIPAL", "the new owner"}}, kData},
       CmdCollections},
      {"collections",
       "owners",
       "ID",
       1,
       "the collection's owner and shares",
       {kData},
       CmdCollections},
      {"jobs",
       "list",
       "",
       0,
       "stored video and media analysis jobs (works while serving)",
       {{{"state", "S", "IN_PROGRESS|SUCCEEDED|FAILED"},
         {"api", "A", "the Start* operation"},
         {"owner", "P", "the principal"},
         {"max", "N", "jobs listed (default 1000)"}},
        kData},
       CmdJobs},
      {"jobs", "describe", "JOB_ID", 1, "one job", {kData}, CmdJobs},
      {"jobs", "cancel", "JOB_ID", 1, "cancel a job", {kData}, CmdJobs},
      {"models", "list", "", 0, "the models of the manifest and their state", {kModel}, CmdModels},
      {"models", "verify", "", 0, "check every model file's sha256", {kModel}, CmdModels},
  };
  return table;
}

// Group one-liners for the overview.
const std::map<std::string, std::string>& GroupHelp() {
  static const std::map<std::string, std::string> help = {
      {"keys", "access keys: create, list, revoke"},
      {"policy", "use policies: show, test"},
      {"audit", "the audit log: verify, head, export"},
      {"report", "transparency report"},
      {"retention", "retention purge"},
      {"bench", "benchmarks: server, protocol, faces, memory, video, models, ops, search"},
      {"video", "video analyse: one stored-video analysis in-process"},
      {"eval", "evaluations: text, labels, verification, detection, demographics"},
      {"collections", "collections on a data dir (the server must not run on it)"},
      {"jobs", "stored video and media analysis jobs on a data dir"},
      {"models", "the model files: list, verify"},
  };
  return help;
}

std::vector<std::string> TopNames() {
  std::vector<std::string> names;
  for (const auto& c : Table()) {
    std::string n = c.group.empty() ? c.name : c.group;
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return names;
}

void PrintOverview(FILE* out) {
  std::fprintf(out,
               "usage: argus <command> [<action>] [flags]\n"
               "       argus <command> [<action>] --help   the flags of one command\n\n"
               "Commands:\n");
  for (const auto& n : TopNames()) {
    std::string help;
    for (const auto& c : Table())
      if (c.group.empty() && c.name == n) help = c.help;
    if (help.empty()) help = GroupHelp().at(n);
    std::fprintf(out, "  %-26s %s\n", n.c_str(), help.c_str());
  }
  std::fprintf(out,
               "\n  --help                     this text\n"
               "  --version                  print the version\n\n"
               "Exit codes: 0 done, 1 the operation failed, 2 usage error, 3 start-up failure\n"
               "(cannot listen, cannot open the data dir, a model missing).\n");
}

void PrintGroup(const std::string& group, FILE* out) {
  std::fprintf(out, "usage: argus %s <action> [flags]   (argus %s <action> --help)\n\nActions:\n",
               group.c_str(), group.c_str());
  for (const auto& c : Table()) {
    if (c.group != group) continue;
    std::string synopsis = c.name + (c.args.empty() ? "" : " " + c.args);
    std::fprintf(out, "  %-26s %s\n", synopsis.c_str(), c.help.c_str());
  }
}

int UsageError(const std::string& where, const std::string& message, const std::string& hint) {
  std::fprintf(stderr, "argus%s%s: %s\n%s\n", where.empty() ? "" : " ", where.c_str(),
               message.c_str(), hint.c_str());
  return kExitUsage;
}

// Parses argv[first..] against one command's declaration and runs it.
int RunCommand(const Command& c, int argc, char** argv, int first) {
  const std::string full = c.group.empty() ? c.name : c.group + " " + c.name;
  CLI::App app(c.help, "argus " + full);
  app.set_help_flag("-h,--help", "print this help");
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
  std::vector<std::string> flag_names = {"help"};
  for (const auto& group : c.flags) {
    for (const Flag& f : group) {
      if (options.count(f.name)) continue;  // declared by an earlier group
      std::string opt = std::string("--") + f.name;
      options[f.name] = f.value ? app.add_option(opt, values[f.name], f.help)->type_name(f.value)
                                : app.add_flag(opt, f.help);
      if (WholeNumberValue(f.value)) options[f.name]->check(kWholeNumber);
      flag_names.push_back(f.name);
    }
  }
  std::vector<std::string> positional;
  if (c.max_args > 0) {
    // Named after the synopsis when it is one word (IMAGE, KEY_ID), else ARGS.
    std::string name;
    for (char ch : c.args)
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') name += ch;
    if (c.args.find(' ') != std::string::npos || name.empty()) name = "ARGS";
    auto* p = app.add_option(name, positional, name == c.args ? "" : c.args)->type_name("");
    p->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    p->expected(0, c.max_args == kAny ? CLI::detail::expected_max_vector_size : int(c.max_args));
  }
  app.footer("usage: argus " + full + (c.args.empty() ? "" : " " + c.args) + " [flags]");
  std::vector<std::string> rest(argv + first, argv + argc);
  std::reverse(rest.begin(), rest.end());
  try {
    app.parse(rest);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::ExtrasError&) {
    std::vector<std::string> extra = app.remaining();
    for (const auto& e : extra) {
      if (e.rfind("-", 0) != 0) continue;
      std::string name = e.substr(e.rfind("--", 0) == 0 ? 2 : 1);
      name = name.substr(0, name.find('='));
      std::string near = Suggest(name, flag_names);
      return UsageError(
          full, "unknown flag " + e + (near.empty() ? "" : "; did you mean --" + near + "?"),
          "see 'argus " + full + " --help'");
    }
    std::string list;
    for (const auto& e : extra) list += (list.empty() ? "" : " ") + e;
    return UsageError(full, "unexpected argument(s): " + list,
                      "usage: argus " + full + (c.args.empty() ? "" : " " + c.args) + " [flags]");
  } catch (const CLI::ParseError& e) {
    return UsageError(full, e.what(), "see 'argus " + full + " --help'");
  }
  Args a;
  if (!c.group.empty()) a.positional.push_back(c.name);
  a.positional.insert(a.positional.end(), positional.begin(), positional.end());
  for (const auto& [name, opt] : options) {
    if (opt->count() == 0) continue;
    a.flags[name] = opt->get_expected_min() == 0 ? "true" : values[name];
  }
  return c.run(a);
}

}  // namespace

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Suggest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

int RunCommandLine(int argc, char** argv) {
  if (argc < 2) {
    PrintOverview(stderr);
    return kExitUsage;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    PrintOverview(stdout);
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("argus %s\n", argus::kVersion);
    return kExitOk;
  }
  for (const auto& c : Table())
    if (c.group.empty() && c.name == cmd) return RunCommand(c, argc, argv, 2);
  const auto names = TopNames();
  if (std::find(names.begin(), names.end(), cmd) == names.end()) {
    std::string near = Suggest(cmd, names);
    return UsageError(
        "",
        "unknown command '" + cmd + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"),
        "see 'argus --help' for the commands");
  }
  // A command group: the action comes next.
  const std::string action = argc > 2 ? argv[2] : "";
  if (action == "--help" || action == "-h" || action == "help") {
    PrintGroup(cmd, stdout);
    return kExitOk;
  }
  std::vector<std::string> actions;
  for (const auto& c : Table()) {
    if (c.group != cmd) continue;
    if (c.name == action) return RunCommand(c, argc, argv, 3);
    actions.push_back(c.name);
  }
  if (action.empty() || action[0] == '-') {
    PrintGroup(cmd, stderr);
    return kExitUsage;
  }
  std::string near = Suggest(action, actions);
  return UsageError(
      cmd,
      "unknown action '" + action + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"),
      "see 'argus " + cmd + " --help' for its actions");
}

}  // namespace argus::cli
