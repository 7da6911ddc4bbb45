#include "cli/cli_audit.hpp"

#include "cli/password_input.hpp"
#include "core/access/access_store.hpp"

namespace crimecast::cli {

access::AuditRecord CliAuditRecord(access::AuditAction action, std::string object,
                                   std::string outcome, std::string purpose, std::string detail) {
  access::AuditRecord r;
  r.at_ms = access::SystemNowMs();
  r.user = CliActor();
  r.action = action;
  r.object = std::move(object);
  r.outcome = std::move(outcome);
  r.client = CliClient();
  r.purpose = std::move(purpose);
  r.detail = std::move(detail);
  return r;
}

Result<void> AppendCliAudit(const std::string& db, std::span<access::AuditRecord> records) {
  if (records.empty()) return {};
  auto store = access::AccessStore::Open(db, {}, /*create=*/true);
  if (!store) return Unexpected(store.error());
  return access::AppendAudit((*store)->handle(), records);
}

}  // namespace crimecast::cli
