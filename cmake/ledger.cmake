# Attribution ledger (src/ledger): projects, consent, registrations, visits, attribution rules,
# conflicts, deals, one-time codes, rights, reports and the audit chain, in SQLite next to the
# template vault. Included from CMakeLists.txt after cmake/vault.cmake (same libsodium/SQLite).
target_sources(fairvisit_lib PRIVATE
  src/ledger/admin_list.c
  src/ledger/audit.c
  src/ledger/checkin.c
  src/ledger/conflict.c
  src/ledger/consent.c
  src/ledger/db.c
  src/ledger/deal.c
  src/ledger/escort.c
  src/ledger/idempotency.c
  src/ledger/keys.c
  src/ledger/ledger.c
  src/ledger/liveness_audit.c
  src/ledger/otp.c
  src/ledger/phone.c
  src/ledger/project.c
  src/ledger/purge.c
  src/ledger/registration.c
  src/ledger/registrations_list.c
  src/ledger/report.c
  src/ledger/rights.c
  src/ledger/schema.c
  src/ledger/selfservice.c
  src/ledger/users.c
  src/ledger/visits.c
)
find_package(Threads REQUIRED)
target_link_libraries(fairvisit_lib PUBLIC Threads::Threads)
target_include_directories(fairvisit_lib PRIVATE src/ledger)
fv_unit_test(test_ledger_schema)
# kill -9 during a stream of check-ins, then reopen and check (test_ledger_kill).
fv_unit_test(test_ledger_kill tests/unit/vault_fixture.c)

# The audit chain: entries through the public API, then ledger.db edited directly (test_ledger_audit).
fv_unit_test(test_ledger_audit)
target_include_directories(test_ledger_audit PRIVATE src/ledger)
# Users and API tokens (users.c): roles and scopes, logins, password changes, tokens, and no
# password or token in clear in ledger.db (test_ledger_users).
fv_unit_test(test_ledger_users)

# Reports (report.c): JSON/CSV figures, the impact assessment and its C17 warnings, on a scripted
# month made through the public API with a fake clock; reaches the private thresholds setter.
fv_unit_test(test_ledger_report)
target_include_directories(test_ledger_report PRIVATE src/ledger)

# The attribution rules as scenario tables against a real site (fake clock, captured one-time
# codes, random unit vectors for faces): test_ledger_rules.
fv_unit_test(test_ledger_rules tests/unit/vault_fixture.c)

# Project/channel/agent lists and the self-service slip lookups behind the admin and /me
# endpoints (admin_list.c, selfservice.c): test_ledger_admin.
fv_unit_test(test_ledger_admin tests/unit/vault_fixture.c)
fv_unit_test(test_ledger_orphans)
