#pragma once
// `argus policy`, `argus audit`, `argus report transparency`,
// `argus retention purge`, and the policy part of `argus serve`.
#include <memory>
#include <string>

#include "cli/args.h"
#include "policy/audit.h"
#include "policy/policy.h"
#include "policy/retention.h"
#include "server/server.h"
#include "service/collections.h"

namespace argus::cli {

// --policy A,B,... (presets or JSON files; default moratorium-2020) and
// --policy-param NAME=VALUE,... ; errors name the file and the place.
Result<policy::PolicySet> LoadPolicies(const Args& a);

// What `argus serve` keeps alive for the accountability layer.
struct Governance {
  policy::PolicySet policies;
  std::unique_ptr<policy::AuditLog> audit;
  std::unique_ptr<policy::Purger> purger;
  std::unique_ptr<policy::RetentionJob> retention;
};

// The retention purge's erasure over the collection service.
std::unique_ptr<policy::Purger> CollectionsPurger(service::CollectionService* collections);

// Loads the policies, opens the audit log over `store` with its head
// anchored in DATA_DIR/audit-head.log, records the policy set in it, starts
// the retention job over `collections` (--retention-interval S, default
// 3600; 0 = off) and sets opts.policies/audit/anonymous
// (--anonymous-org-type, --anonymous-purpose for --no-auth).
Result<std::unique_ptr<Governance>> ConfigureGovernance(const Args& a, const std::string& data_dir,
                                                        store::Store* store,
                                                        service::CollectionService* collections,
                                                        server::Options& opts);

int CmdPolicy(const Args& a);
int CmdAudit(const Args& a);
int CmdReport(const Args& a);
int CmdRetention(const Args& a);

}  // namespace argus::cli
