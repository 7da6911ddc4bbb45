// cli/cli_audit.hpp: audit records for CLI commands that change a store (import, layers, user), in
// the same tamper-evident log as the server's requests (access/audit_log.hpp). The actor is the
// operating-system account ("cli:<user>"), the client the host ("cli@<host>").
#pragma once

#include <span>
#include <string>

#include "core/access/audit_log.hpp"
#include "core/common/error.hpp"

namespace crimecast::cli {

access::AuditRecord CliAuditRecord(access::AuditAction action, std::string object,
                                   std::string outcome, std::string purpose, std::string detail);
// Appends `records` to the audit log of the database at `db` (creating the access tables when
// missing), in one transaction. Commands fail when this fails: an unaudited change is what the
// log exists to prevent.
Result<void> AppendCliAudit(const std::string& db, std::span<access::AuditRecord> records);

}  // namespace crimecast::cli
