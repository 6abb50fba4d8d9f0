// `argus collections ...`: the collection operations on a data dir, through
// the same service and response shapes as the API.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "api/rekognition/handlers.h"
#include "api/rekognition/router.h"
#include "auth/principal.h"
#include "cli/collections_cli.h"
#include "core/base64.h"
#include "core/log.h"
#include "eval/progress.h"
#include "store/data_dir.h"

namespace argus::cli {
namespace {

const char* kCollectionsUsage =
    "usage: argus collections <command> [--data-dir D] [--model-dir M]\n"
    "  create ID                  create a collection\n"
    "  list                       list collections\n"
    "  describe ID                face and user counts, model version\n"
    "  delete ID                  delete a collection and its faces\n"
    "  faces ID [--max N]         list faces\n"
    "  index ID DIR [--max-faces N] [--quality Q]\n"
    "                             index every .jpg/.jpeg/.png under DIR (ExternalImageId = file\n"
    "                             name), with a progress bar\n"
    "  search ID IMAGE [--max-faces N] [--threshold T]\n"
    "                             SearchFacesByImage with an image file\n"
    "  share ID --with PRINCIPAL [--read-only]\n"
    "                             let PRINCIPAL use the collection (read-only: describe, list,\n"
    "                             search)\n"
    "  unshare ID --with PRINCIPAL\n"
    "                             withdraw a share\n"
    "  chown ID --to PRINCIPAL    make PRINCIPAL the collection's only owner (shares dropped)\n"
    "  owners ID                  the collection's owner and shares\n";

int PrintResponse(const api::Response& r) {
  std::printf("%s\n", r.body.c_str());
  return r.http_status == 200 ? 0 : 1;
}

std::string Sanitise(const std::string& name) {
  std::string s;
  for (char c : name)
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
          c == ':')
             ? c
             : '_';
  return s.substr(0, 255);
}

// share / unshare / chown / owners: the collection grants (tenancy) on the
// data dir's store, without loading any index.
int CollectionGrants(const Args& a) {
  const std::string sub = a.positional[0];
  const std::string id = a.positional.size() > 1 ? a.positional[1] : "";
  const std::string who = a.Get(sub == "chown" ? "to" : "with");
  if (id.empty() || (sub != "owners" && who.empty())) {
    std::fputs(kCollectionsUsage, stderr);
    return 2;
  }
  if (!who.empty() && !auth::ValidPrincipalName(who)) {
    std::fprintf(stderr, "argus collections %s: '%s' is not a principal name\n", sub.c_str(),
                 who.c_str());
    return 2;
  }
  std::string path = a.Get("data-dir", "./argus-data") + "/argus.db";
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "argus collections: no argus database at %s (--data-dir)\n", path.c_str());
    return 1;
  }
  auto store = store::Store::OpenSqlite(path);
  if (!store.ok()) {
    std::fprintf(stderr, "argus collections: %s\n", store.status().message().c_str());
    return 1;
  }
  store::Store& s = *store.value();
  Status st = s.GetCollection(id).status();
  if (st.ok()) {
    if (sub == "share")
      st = s.GrantCollection(id, who, a.Has("read-only") ? "read" : "full");
    else if (sub == "unshare")
      st = s.RevokeCollection(id, who);
    else if (sub == "chown")
      st = s.SetCollectionOwner(id, who);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "argus collections %s: %s\n", sub.c_str(), st.message().c_str());
    return 1;
  }
  auto grants = s.GrantsOfCollection(id);
  if (!grants.ok()) {
    std::fprintf(stderr, "argus collections %s: %s\n", sub.c_str(),
                 grants.status().message().c_str());
    return 1;
  }
  api::json out = {{"CollectionId", id}, {"Grants", api::json::array()}};
  for (const auto& g : grants.value()) {
    out["Grants"].push_back({{"Principal", g.principal}, {"Access", g.access}});
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

Result<std::shared_ptr<store::Store>> OpenDataDir(const std::string& data_dir,
                                                  const std::string& store_url, int pool_size) {
  store::PrivateUmask();
  auto changed = store::SecureDataDir(data_dir);
  if (!changed.ok()) return changed.status();
  if (!changed->empty()) {
    std::string list;
    for (const auto& p : changed.value()) list += (list.empty() ? "" : ", ") + p;
    log::Warn("data dir " + data_dir + ": made private (directories 0700, files 0600): " + list);
  }
  if (!store_url.empty() && !store::Store::IsPostgresUrl(store_url)) {
    return InvalidParameter("--store must be a postgresql:// URL, got '" + store_url + "'");
  }
  auto st = store_url.empty()
                ? store::Store::OpenSqlite((std::filesystem::path(data_dir) / "argus.db").string())
                : store::Store::OpenPostgres(store_url, pool_size);
  if (!st.ok()) return st.status();
  return std::shared_ptr<store::Store>(std::move(st.value()));
}

Result<std::unique_ptr<service::CollectionService>> OpenCollections(
    const Args& a, const std::string& data_dir, service::FaceService* faces,
    std::shared_ptr<store::Store> store) {
  service::CollectionsConfig config;
  config.data_dir = data_dir;
  config.index.hnsw_threshold =
      size_t(a.GetInt("hnsw-threshold", int(config.index.hnsw_threshold)));
  config.index.build_threads = a.GetInt("threads", 2);
  config.snapshot_interval_s = a.GetInt("snapshot-interval", config.snapshot_interval_s);
  return service::CollectionService::Open(config, faces, std::move(store));
}

int CmdCollections(const Args& a) {
  if (a.positional.empty()) {
    std::fputs(kCollectionsUsage, stderr);
    return 2;
  }
  const std::string sub = a.positional[0];
  if (sub == "share" || sub == "unshare" || sub == "chown" || sub == "owners") {
    return CollectionGrants(a);
  }
  auto arg = [&](size_t i) { return i < a.positional.size() ? a.positional[i] : std::string(); };
  const bool needs_faces = sub == "index" || sub == "search";
  ApplyThreads(a);
  ml::Registry registry(ModelDir(a));
  std::unique_ptr<service::FaceService> faces;
  if (needs_faces) {
    auto f = service::FaceService::Create(registry);
    if (!f.ok()) {
      std::fprintf(stderr, "%s\n", f.status().message().c_str());
      return 1;
    }
    faces = std::move(f.value());
  }
  const std::string data_dir = a.Get("data-dir", "./argus-data");
  auto store = OpenDataDir(data_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  auto svc = OpenCollections(a, data_dir, faces.get(), store.value());
  if (!svc.ok()) {
    std::fprintf(stderr, "%s\n", svc.status().message().c_str());
    return 1;
  }
  api::Services services;
  services.faces = faces.get();
  services.collections = svc.value().get();
  auto call = [&](const char* op, const api::json& body) {
    return PrintResponse(
        api::Handle(std::string("RekognitionService.") + op, body.dump(), services));
  };
  if (sub == "create" && !arg(1).empty())
    return call("CreateCollection", {{"CollectionId", arg(1)}});
  if (sub == "describe" && !arg(1).empty())
    return call("DescribeCollection", {{"CollectionId", arg(1)}});
  if (sub == "delete" && !arg(1).empty())
    return call("DeleteCollection", {{"CollectionId", arg(1)}});
  if (sub == "list") return call("ListCollections", api::json::object());
  if (sub == "faces" && !arg(1).empty())
    return call("ListFaces", {{"CollectionId", arg(1)}, {"MaxResults", a.GetInt("max", 1000)}});
  if (sub == "search" && !arg(2).empty()) {
    auto bytes = ReadFile(arg(2));
    if (!bytes.ok()) {
      std::fprintf(stderr, "%s\n", bytes.status().message().c_str());
      return 1;
    }
    api::json body = {{"CollectionId", arg(1)},
                      {"Image", {{"Bytes", Base64Encode(bytes.value())}}},
                      {"MaxFaces", a.GetInt("max-faces", 10)},
                      {"FaceMatchThreshold", std::stod(a.Get("threshold", "80"))}};
    return call("SearchFacesByImage", body);
  }
  if (sub == "index" && !arg(2).empty()) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(arg(2), ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code fe;
      if (it->is_regular_file(fe) && IsImageFile(it->path())) files.push_back(it->path());
    }
    if (ec) {
      std::fprintf(stderr, "cannot read %s: %s\n", arg(2).c_str(), ec.message().c_str());
      return 1;
    }
    std::sort(files.begin(), files.end());
    auto q = service::ParseQualityFilter(a.Get("quality", "AUTO"));
    if (!q.ok()) {
      std::fprintf(stderr, "%s\n", q.status().message().c_str());
      return 2;
    }
    size_t indexed = 0, unindexed = 0, failed = 0;
    eval::Progress bar("index " + arg(1), files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      service::IndexFacesRequest req;
      req.collection_id = arg(1);
      req.external_image_id = Sanitise(files[i].filename().string());
      req.max_faces = std::clamp(a.GetInt("max-faces", 100), 1, 100);
      req.quality = q.value();
      auto bytes = ReadFile(files[i].string());
      Result<Image> image = bytes.ok() ? DecodeImage(bytes.value()) : Result<Image>(bytes.status());
      Status st = image.status();
      if (image.ok()) {
        auto r = svc.value()->IndexFaces(image.value(), req);
        st = r.status();
        if (r.ok()) {
          indexed += r->indexed.size();
          unindexed += r->unindexed.size();
        } else if (r.status().code() == Code::kResourceNotFound) {
          std::fprintf(stderr, "\n%s\n", r.status().message().c_str());
          return 1;
        }
      }
      if (!st.ok()) {
        ++failed;
        bar.Note(files[i].string() + ": " + st.message());
      }
      bar.Tick();
    }
    bar.Done();
    std::printf(
        "{\"Images\": %zu, \"FacesIndexed\": %zu, \"FacesNotIndexed\": %zu, "
        "\"ImagesFailed\": %zu}\n",
        files.size(), indexed, unindexed, failed);
    return failed ? 1 : 0;
  }
  std::fputs(kCollectionsUsage, stderr);
  return 2;
}

}  // namespace argus::cli
