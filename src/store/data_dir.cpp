#include "store/data_dir.h"

#include <sys/stat.h>

#include <filesystem>

namespace argus::store {
namespace fs = std::filesystem;

void PrivateUmask() { ::umask(077); }

Result<std::vector<std::string>> SecureDataDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create data dir " + dir + ": " + ec.message());
  std::vector<std::string> changed;
  auto fix = [&](const fs::path& p, fs::perms want) -> Status {
    std::error_code e;
    auto st = fs::symlink_status(p, e);
    if (e) return Internal("cannot stat " + p.string() + ": " + e.message());
    if (fs::is_symlink(st)) return Status::Ok();
    if ((st.permissions() & fs::perms::mask) == want) return Status::Ok();
    fs::permissions(p, want, fs::perm_options::replace, e);
    if (e) return Internal("cannot make " + p.string() + " private: " + e.message());
    changed.push_back(p.string());
    return Status::Ok();
  };
  constexpr fs::perms kDir = fs::perms::owner_all;
  constexpr fs::perms kFile = fs::perms::owner_read | fs::perms::owner_write;
  ARGUS_RETURN_IF_ERROR(fix(dir, kDir));
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e;
    auto st = it->symlink_status(e);
    if (e || fs::is_symlink(st)) continue;
    if (fs::is_directory(st))
      ARGUS_RETURN_IF_ERROR(fix(it->path(), kDir));
    else if (fs::is_regular_file(st))
      ARGUS_RETURN_IF_ERROR(fix(it->path(), kFile));
  }
  if (ec) return Internal("cannot read data dir " + dir + ": " + ec.message());
  return changed;
}

}  // namespace argus::store
