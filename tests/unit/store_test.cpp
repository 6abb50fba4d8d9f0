// The store against a real engine: an SQLite database file, or a database
// on a private PostgreSQL cluster (store_engine.h says which).
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "store/data_dir.h"
#include "store_engine.h"

namespace argus::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(engine_.Create("store-test"));
    dir_ = engine_.dir();
    auto s = engine_.Open();
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s.value());
  }
  void TearDown() override {
    store_.reset();
    engine_.Remove();
  }
  Face MakeFace(const std::string& id, const std::string& image = "img", float v = 1) {
    Face f;
    f.face_id = id;
    f.image_id = image;
    f.confidence = 99.5f;
    f.left = 0.1f, f.top = 0.2f, f.width = 0.3f, f.height = 0.4f;
    f.model_version = "m1";
    f.created_ms = 1000;
    f.descriptor.assign(128, v);
    return f;
  }
  Collection Coll(const std::string& id) {
    Collection c;
    c.id = id;
    c.created_ms = 42;
    c.face_model_version = "m1";
    return c;
  }
  argus::testing::StoreEngine engine_;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, CollectionLifecycleWithTagsAndCounts) {
  Collection c = Coll("c1");
  c.tags = {{"team", "a"}, {"env", "test"}};
  ASSERT_TRUE(store_->CreateCollection(c).ok());
  EXPECT_EQ(store_->CreateCollection(c).code(), Code::kResourceAlreadyExists);
  auto got = store_->GetCollection("c1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags.at("team"), "a");
  EXPECT_EQ(got->created_ms, 42);
  EXPECT_EQ(got->face_count, 0);
  std::vector<Face> faces = {MakeFace("f1"), MakeFace("f2")};
  ASSERT_TRUE(store_->InsertFaces("c1", faces).ok());
  EXPECT_LT(faces[0].label, faces[1].label);
  ASSERT_TRUE(store_->CreateUser("c1", "u1", "", 1).ok());
  got = store_->GetCollection("c1");
  EXPECT_EQ(got->face_count, 2);
  EXPECT_EQ(got->user_count, 1);
  ASSERT_TRUE(store_->DeleteCollection("c1").ok());
  EXPECT_EQ(store_->GetCollection("c1").status().code(), Code::kResourceNotFound);
  EXPECT_EQ(store_->DeleteCollection("c1").code(), Code::kResourceNotFound);
  // Faces went with it; a new collection of the same name starts empty.
  ASSERT_TRUE(store_->CreateCollection(Coll("c1")).ok());
  EXPECT_TRUE(store_->Labels("c1")->empty());
}

TEST_F(StoreTest, ListCollectionsPagesInIdOrder) {
  for (const char* id : {"b", "a", "c"}) ASSERT_TRUE(store_->CreateCollection(Coll(id)).ok());
  auto page = store_->ListCollections("", 2);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, "a");
  EXPECT_EQ((*page)[1].id, "b");
  page = store_->ListCollections("b", 2);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "c");
}

TEST_F(StoreTest, InsertIntoMissingCollectionWritesNothing) {
  std::vector<Face> faces = {MakeFace("f1")};
  EXPECT_EQ(store_->InsertFaces("nope", faces).code(), Code::kResourceNotFound);
  ASSERT_TRUE(store_->CreateCollection(Coll("nope")).ok());
  EXPECT_TRUE(store_->Labels("nope")->empty());
}

TEST_F(StoreTest, FacesRoundTripAndLabelsAreNeverReused) {
  ASSERT_TRUE(store_->CreateCollection(Coll("c")).ok());
  std::vector<Face> faces = {MakeFace("f1", "i1", 0.5f), MakeFace("f2", "i1"),
                             MakeFace("f3", "i2")};
  faces[1].external_image_id = "ext";
  ASSERT_TRUE(store_->InsertFaces("c", faces).ok());
  FaceFilter all;
  all.descriptors = true;
  auto list = store_->ListFaces("c", all);
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].descriptor.size(), 128u);
  EXPECT_FLOAT_EQ((*list)[0].descriptor[7], 0.5f);
  EXPECT_FLOAT_EQ((*list)[0].height, 0.4f);
  EXPECT_EQ(store_->FacesOfImage("c", "i1", "ext")->size(), 1u);
  EXPECT_EQ(store_->FacesOfImage("c", "i1", "")->size(), 1u);
  auto deleted = store_->DeleteFaces("c", {"f3", "missing"});
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ((*deleted)[0].face_id, "f3");
  std::vector<Face> more = {MakeFace("f4")};
  ASSERT_TRUE(store_->InsertFaces("c", more).ok());
  EXPECT_GT(more[0].label, faces[2].label) << "a deleted label must not come back";
  auto by_label = store_->FacesByLabel("c", {faces[2].label, more[0].label});
  ASSERT_EQ(by_label->size(), 1u);
  EXPECT_EQ((*by_label)[0].face_id, "f4");
  std::vector<int64_t> scanned;
  ASSERT_TRUE(store_
                  ->ScanDescriptors("c",
                                    [&](int64_t l, const std::vector<float>& d) {
                                      EXPECT_EQ(d.size(), 128u);
                                      scanned.push_back(l);
                                    })
                  .ok());
  EXPECT_EQ(scanned, store_->Labels("c").value());
  EXPECT_EQ(store_->GetCollection("c")->face_count, 3);
}

// Data dirs written before face model versions were numeric keep working:
// the descriptive names read as the numeric versions ([0-9.]+).
TEST_F(StoreTest, DescriptiveFaceModelVersionsReadAsNumeric) {
  Collection old = Coll("old");
  old.face_model_version = "argus-dlib128-1.0";
  Collection other = Coll("other");
  other.face_model_version = "argus-faceres1024-1.0";
  ASSERT_TRUE(store_->CreateCollection(old).ok());
  ASSERT_TRUE(store_->CreateCollection(other).ok());
  std::vector<Face> faces = {MakeFace("f1")};
  faces[0].model_version = "argus-dlib128-1.0";
  ASSERT_TRUE(store_->InsertFaces("old", faces).ok());
  EXPECT_EQ(store_->GetCollection("old")->face_model_version, "1.0");
  EXPECT_EQ(store_->GetCollection("other")->face_model_version, "2.0");
  auto listed = store_->ListCollections("", 10);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].face_model_version, "1.0");
  EXPECT_EQ((*listed)[1].face_model_version, "2.0");
  auto read = store_->ListFaces("old", FaceFilter{});
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].model_version, "1.0");
  EXPECT_EQ(store_->GetCollection("c-none").status().code(), Code::kResourceNotFound);
  EXPECT_EQ(FaceModelVersionOnRead("m1"), "m1");  // others unchanged
}

TEST_F(StoreTest, ListFacesPaginatesAndFilters) {
  ASSERT_TRUE(store_->CreateCollection(Coll("c")).ok());
  std::vector<Face> faces;
  for (int i = 0; i < 5; ++i) faces.push_back(MakeFace("f" + std::to_string(i)));
  ASSERT_TRUE(store_->InsertFaces("c", faces).ok());
  FaceFilter f;
  f.limit = 2;
  auto p1 = store_->ListFaces("c", f);
  ASSERT_EQ(p1->size(), 2u);
  f.after_label = p1->back().label;
  auto p2 = store_->ListFaces("c", f);
  ASSERT_EQ(p2->size(), 2u);
  EXPECT_EQ((*p2)[0].face_id, "f2");
  FaceFilter ids;
  ids.face_ids = {"f4", "f1", "zz"};
  auto some = store_->ListFaces("c", ids);
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ((*some)[0].face_id, "f1");
}

TEST_F(StoreTest, UsersIdempotencyAssociationAndQuota) {
  ASSERT_TRUE(store_->CreateCollection(Coll("c")).ok());
  ASSERT_TRUE(store_->CreateUser("c", "u1", "tok", 1).ok());
  EXPECT_TRUE(store_->CreateUser("c", "u1", "tok", 1).ok()) << "same token: idempotent";
  EXPECT_EQ(store_->CreateUser("c", "u1", "", 1).code(), Code::kConflict);
  EXPECT_EQ(store_->CreateUser("c", "u2", "tok", 1).code(), Code::kIdempotentParameterMismatch);
  EXPECT_EQ(store_->CreateUser("zz", "u1", "", 1).code(), Code::kResourceNotFound);
  ASSERT_TRUE(store_->CreateUser("c", "u2", "", 1).ok());
  std::vector<Face> faces;
  for (int i = 0; i < 4; ++i) faces.push_back(MakeFace("f" + std::to_string(i)));
  ASSERT_TRUE(store_->InsertFaces("c", faces).ok());
  auto a = store_->AssociateFaces("c", "u1", {"f0", "f1", "nope"}, 100);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 2u);
  // Already associated to u1: not taken by u2.
  EXPECT_TRUE(store_->AssociateFaces("c", "u2", {"f0"}, 100)->empty());
  // Quota: nothing changes when it would be passed.
  EXPECT_EQ(store_->AssociateFaces("c", "u2", {"f2", "f3"}, 1).status().code(),
            Code::kServiceQuotaExceeded);
  EXPECT_EQ(store_->GetUser("c", "u2")->face_count, 0);
  EXPECT_EQ(store_->GetUser("c", "u1")->face_count, 2);
  // Faces of a user are not deleted.
  EXPECT_TRUE(store_->DeleteFaces("c", {"f0"})->empty());
  FaceFilter by_user;
  by_user.user_id = "u1";
  EXPECT_EQ(store_->ListFaces("c", by_user)->size(), 2u);
  auto d = store_->DisassociateFaces("c", "u1", {"f0", "f2"});
  ASSERT_EQ(d->size(), 1u);
  auto users = store_->ListUsers("c", "", 10);
  ASSERT_EQ(users->size(), 2u);
  EXPECT_EQ((*users)[0].face_count, 1);
  ASSERT_TRUE(store_->DeleteUser("c", "u1").ok());
  EXPECT_EQ(store_->DeleteUser("c", "u1").code(), Code::kResourceNotFound);
  EXPECT_EQ(store_->ListFaces("c", by_user)->size(), 0u) << "faces stay, unassociated";
  EXPECT_EQ(store_->GetCollection("c")->face_count, 4);
}

TEST_F(StoreTest, CommittedWritesSurviveReopen) {
  ASSERT_TRUE(store_->CreateCollection(Coll("c")).ok());
  std::vector<Face> faces = {MakeFace("f1")};
  ASSERT_TRUE(store_->InsertFaces("c", faces).ok());
  store_.reset();
  auto s = engine_.Open();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.value()->Labels("c")->size(), 1u);
  std::vector<Face> more = {MakeFace("f2")};
  ASSERT_TRUE(s.value()->InsertFaces("c", more).ok());
  EXPECT_GT(more[0].label, faces[0].label) << "labels go on ascending after a reopen";
}

// ------------------------------------------------- principals and access keys

TEST_F(StoreTest, AccessKeysRoundTripAndOtherConnectionsSeeTheirVersionMove) {
  PrincipalRow p;
  p.name = "lab";
  p.org_type = "research";
  p.default_purpose = "research";
  p.rate_limit = 2.5;
  p.created_at = 100;
  AccessKeyRow k;
  k.access_key_id = "AKAGONE";
  k.principal = "lab";
  k.nonce = std::string("\x00\x01\xff", 3);
  k.sealed = std::string("sealed\x00bytes", 12);
  k.created_at = 100;
  EXPECT_FALSE(store_->GetPrincipal("lab").value().has_value());
  auto other = engine_.Open();  // another process (or node) on the same keys
  ASSERT_TRUE(other.ok());
  const int64_t before = other.value()->AccessKeysVersion().value();
  ASSERT_TRUE(store_->InsertAccessKey(p, k).ok());
  EXPECT_NE(other.value()->AccessKeysVersion().value(), before);
  auto got = other.value()->GetPrincipal("lab");
  ASSERT_TRUE(got.ok() && got.value());
  EXPECT_EQ(got.value()->org_type, "research");
  EXPECT_EQ(got.value()->rate_limit, 2.5);
  // A new principal of a taken name, or a taken key id: refused, nothing written.
  AccessKeyRow k2 = k;
  k2.access_key_id = "AKAGTWO";
  EXPECT_EQ(store_->InsertAccessKey(p, k2).code(), Code::kResourceAlreadyExists);
  EXPECT_EQ(store_->InsertAccessKey(std::nullopt, k).code(), Code::kResourceAlreadyExists);
  ASSERT_TRUE(store_->InsertAccessKey(std::nullopt, k2).ok());
  auto keys = other.value()->ListAccessKeys(true);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->at(0).first.access_key_id, "AKAGTWO") << "newest first";
  EXPECT_EQ(keys->at(1).first.nonce, k.nonce) << "bytes round-trip";
  EXPECT_EQ(keys->at(1).first.sealed, k.sealed);
  EXPECT_EQ(keys->at(1).second.name, "lab");
  const int64_t mid = store_->AccessKeysVersion().value();
  ASSERT_TRUE(other.value()->RevokeAccessKey("AKAGONE", 200).ok());
  EXPECT_NE(store_->AccessKeysVersion().value(), mid);
  EXPECT_EQ(store_->RevokeAccessKey("AKAGONE", 201).code(), Code::kResourceNotFound);
  EXPECT_EQ(store_->ListAccessKeys(true)->size(), 1u);
  auto all = store_->ListAccessKeys(false);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at(1).first.revoked_at, 200);
}

// ------------------------------------------------- enrolment with its record

AuditRecord EnrolmentRecord() {
  AuditRecord r;
  r.kind = "request";
  r.request_id = "req-1";
  r.principal = "p";
  r.operation = "IndexFaces";
  r.op_class = "face_enrollment";
  r.decision = "allow";
  r.outcome = "ok";
  r.matches = 2;
  return r;
}

std::string FakeHash(const AuditRecord& r) { return "h" + std::to_string(r.seq) + r.prev_hash; }

TEST_F(StoreTest, ResourcesUpdateByVersionAndSurviveReopening) {
  ResourceRow row;
  row.kind = "stream-processor";
  row.id = "p1";
  row.owner = "alice";
  row.body = R"({"Status":"STOPPED"})";
  row.created_ms = row.updated_ms = 100;
  ASSERT_TRUE(store_->InsertResource(row).ok());
  EXPECT_EQ(store_->InsertResource(row).code(), Code::kResourceAlreadyExists);
  row.id = "p0";
  ASSERT_TRUE(store_->InsertResource(row).ok());
  row.kind = "liveness-session";
  row.id = "p1";
  ASSERT_TRUE(store_->InsertResource(row).ok());  // another kind, the same id
  auto got = store_->GetResource("stream-processor", "p1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->owner, "alice");
  // Compare-and-set: the stale version loses.
  ResourceRow next = got.value();
  next.body = R"({"Status":"RUNNING"})";
  next.updated_ms = 200;
  EXPECT_TRUE(store_->UpdateResource(next, 1).value());
  next.body = "stale";
  EXPECT_FALSE(store_->UpdateResource(next, 1).value());
  next.id = "missing";
  EXPECT_EQ(store_->UpdateResource(next, 1).status().code(), Code::kResourceNotFound);
  auto list = store_->ListResources("stream-processor", "", 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, "p0");
  EXPECT_EQ((*list)[1].id, "p1");
  EXPECT_EQ(store_->ListResources("stream-processor", "p0", 10)->size(), 1u);
  // Durable: a fresh connection reads what was acknowledged.
  store_.reset();
  auto reopened = engine_.Open();
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(reopened.value());
  got = store_->GetResource("stream-processor", "p1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, R"({"Status":"RUNNING"})");
  EXPECT_EQ(got->version, 2);
  EXPECT_EQ(got->updated_ms, 200);
  EXPECT_EQ(store_->DeleteResourcesUpdatedBefore("stream-processor", 150).value(), 1);  // p0
  EXPECT_EQ(store_->GetResource("stream-processor", "p0").status().code(), Code::kResourceNotFound);
  ASSERT_TRUE(store_->DeleteResource("stream-processor", "p1").ok());
  EXPECT_EQ(store_->DeleteResource("stream-processor", "p1").code(), Code::kResourceNotFound);
  EXPECT_TRUE(store_->GetResource("liveness-session", "p1").ok());
}

TEST_F(StoreTest, InsertFacesCommitsTheAuditRecordWithTheFaces) {
  ASSERT_TRUE(store_->CreateCollection(Coll("c")).ok());
  std::vector<int64_t> committed;
  store_->OnAuditCommitted([&](const AuditRecord& r) { committed.push_back(r.seq); });
  AuditRecord r = EnrolmentRecord();
  AuditAppend append{&r, FakeHash};
  std::vector<Face> faces = {MakeFace("f1"), MakeFace("f2")};
  ASSERT_TRUE(store_->InsertFaces("c", faces, &append).ok());
  EXPECT_EQ(r.seq, 1);
  EXPECT_EQ(r.hash, "h1");
  EXPECT_EQ(committed, std::vector<int64_t>{1});
  std::vector<AuditRecord> stored;
  ASSERT_TRUE(store_
                  ->ScanAudit(0,
                              [&](const AuditRecord& x) {
                                stored.push_back(x);
                                return true;
                              })
                  .ok());
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].request_id, "req-1");
  EXPECT_EQ(stored[0].matches, 2);
  EXPECT_EQ(store_->GetCollection("c")->face_count, 2);
  // A plain append chains to it.
  AuditRecord next = EnrolmentRecord();
  ASSERT_TRUE(store_->AppendAudit(next, FakeHash).ok());
  EXPECT_EQ(next.seq, 2);
  EXPECT_EQ(next.prev_hash, "h1");
  EXPECT_EQ(committed, (std::vector<int64_t>{1, 2}));
  store_->OnAuditCommitted(nullptr);
}

TEST_F(StoreTest, InsertFacesWithAnAuditRecordIsAllOrNothing) {
  ASSERT_TRUE(store_->CreateCollection(Coll("c")).ok());
  if (engine_.Postgres()) {
    ASSERT_NO_FATAL_FAILURE(
        engine_.Sql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$BEGIN RAISE EXCEPTION 'audit refused'; END$$; "
                    "CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                    "FOR EACH ROW EXECUTE FUNCTION refuse()"));
  } else {
    ASSERT_NO_FATAL_FAILURE(
        engine_.Sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log "
                    "BEGIN SELECT RAISE(ABORT, 'audit refused'); END"));
  }
  int committed = 0;
  store_->OnAuditCommitted([&](const AuditRecord&) { ++committed; });
  AuditRecord r = EnrolmentRecord();
  AuditAppend append{&r, FakeHash};
  std::vector<Face> faces = {MakeFace("f1")};
  EXPECT_FALSE(store_->InsertFaces("c", faces, &append).ok());
  EXPECT_EQ(committed, 0);
  FaceFilter all;
  EXPECT_TRUE(store_->ListFaces("c", all)->empty());
  EXPECT_EQ(store_->GetCollection("c")->face_count, 0);
  store_->OnAuditCommitted(nullptr);
}

#if !defined(ARGUS_TEST_ENGINE_POSTGRESQL)
// SQLite only: the files of the database and of the data dir.
// ----------------------------------------------------------------- file modes

mode_t ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

TEST_F(StoreTest, DatabaseFilesArePrivateWhateverTheUmask) {
  mode_t old = ::umask(022);
  auto path = dir_ / "private.db";
  {
    auto s = Store::OpenSqlite(path.string());
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE(s.value()->CreateCollection(Coll("c")).ok());
    EXPECT_EQ(ModeOf(path), 0600u);
    EXPECT_EQ(ModeOf(path.string() + "-wal"), 0600u);
    EXPECT_EQ(ModeOf(path.string() + "-shm"), 0600u);
  }
  ::umask(old);
}

TEST_F(StoreTest, SecureDataDirMakesAnOpenDirPrivate) {
  auto root = dir_ / "data";
  std::filesystem::create_directories(root / "index");
  std::ofstream(root / "argus.db") << "x";
  std::ofstream(root / "index" / "a.idx") << "x";
  std::filesystem::create_symlink("/etc/hostname", root / "link");
  std::filesystem::permissions(root, std::filesystem::perms(0755));
  std::filesystem::permissions(root / "index", std::filesystem::perms(0755));
  std::filesystem::permissions(root / "argus.db", std::filesystem::perms(0644));
  std::filesystem::permissions(root / "index" / "a.idx", std::filesystem::perms(0644));
  auto changed = SecureDataDir(root.string());
  ASSERT_TRUE(changed.ok()) << changed.status().ToString();
  EXPECT_EQ(changed->size(), 4u);
  EXPECT_EQ(ModeOf(root), 0700u);
  EXPECT_EQ(ModeOf(root / "index"), 0700u);
  EXPECT_EQ(ModeOf(root / "argus.db"), 0600u);
  EXPECT_EQ(ModeOf(root / "index" / "a.idx"), 0600u);
  auto again = SecureDataDir(root.string());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  // A path that cannot be a directory is an error, not an exception.
  EXPECT_FALSE(SecureDataDir((root / "argus.db" / "sub").string()).ok());
  EXPECT_FALSE(SecureDataDir(std::string(5000, 'x')).ok());
}

#endif

}  // namespace
}  // namespace argus::store
