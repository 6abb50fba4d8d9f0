#pragma once
// The store engine a store test runs against, chosen when the test binary is
// built (ARGUS_TEST_ENGINE): "sqlite", a database file in a directory of
// its own, or "postgresql", a fresh database per test on the cluster at
// $ARGUS_TEST_PG_URL (tests/store/pg_cluster.py starts one). A PostgreSQL
// test without a reachable cluster fails: it never skips.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "store/store.h"

#ifndef ARGUS_TEST_ENGINE
#define ARGUS_TEST_ENGINE "sqlite"
#endif

namespace argus::testing {

class StoreEngine {
 public:
  static bool Postgres() { return std::string(ARGUS_TEST_ENGINE) == "postgresql"; }

  // A fresh, empty store location. Fails the test when it cannot be made.
  void Create(const std::string& tag) {
    if (!Postgres()) {
      dir_ = std::filesystem::temp_directory_path() /
             ("argus-" + tag + "-" + std::to_string(std::random_device{}()));
      std::filesystem::create_directories(dir_);
      location_ = (dir_ / "argus.db").string();
      return;
    }
    const char* base = std::getenv("ARGUS_TEST_PG_URL");
    ASSERT_TRUE(base && *base) << "ARGUS_TEST_PG_URL is not set: run through "
                                  "tests/store/pg_cluster.py run -- <test binary>";
    admin_ = base;
    static std::atomic<int> n{0};
    db_ = "argus_t" + std::to_string(::getpid()) + "_" + std::to_string(n++);
    AdminSql("CREATE DATABASE " + db_);
    location_ = admin_.substr(0, admin_.rfind('/') + 1) + db_;
  }

  // The store at that location, opened (again).
  Result<std::unique_ptr<store::Store>> Open() { return store::Store::Open(location_, 4); }

  // Raw SQL on the same database (to tamper with what the store wrote).
  void Sql(const std::string& sql) {
    if (!Postgres()) {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open(location_.c_str(), &db), SQLITE_OK);
      char* err = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
          << (err ? err : "");
      sqlite3_free(err);
      sqlite3_close(db);
      return;
    }
    Exec(location_, sql);
  }

  void Remove() {
    if (!Postgres()) {
      if (!dir_.empty()) std::filesystem::remove_all(dir_);
      return;
    }
    if (!db_.empty()) AdminSql("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }

  const std::string& location() const { return location_; }
  const std::filesystem::path& dir() const { return dir_; }
  // SQL on the cluster's maintenance database (PostgreSQL).
  void AdminSql(const std::string& sql) { Exec(admin_, sql); }

 private:
  static void Exec(const std::string& url, const std::string& sql) {
    PGconn* c = PQconnectdb(url.c_str());
    ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
    PGresult* r = PQexec(c, sql.c_str());
    EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
  }

  std::filesystem::path dir_;
  std::string admin_, db_, location_;
};

}  // namespace argus::testing
