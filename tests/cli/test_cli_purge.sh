#!/usr/bin/env bash
# CLI contract of `fairvisit purge --site DIR [--json]` (../shared/docs/PRODUCT.md §6: "expire what
# retention says, now"): on a site made by `fairvisit init` whose vault make_vault_site fills (two
# vault projects, retention 7 and 30 days, random vectors with old timestamps), the purge goes
# through the ledger (fv_ledger_purge): it destroys exactly the expired templates and day keys,
# reports the totals and the ledger's counts (one-time codes, idempotency keys, escorts settled),
# and is recorded in the audit chain, which still verifies; a second run destroys nothing; the
# unexpired templates stay readable; a site without a ledger is a clear error with exit status 1.
# Usage: test_cli_purge.sh FAIRVISIT_BINARY MAKE_VAULT_SITE_BINARY
set -u
bin="$1" mk="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

site="$tmp/site"
"$bin" init --site "$site" >/dev/null
"$mk" "$site"
check "the helper made a site" test -f "$site/vault/vault.db"
check "the site holds 9 readable templates" grep -qx 'templates 9 unreadable 0 failed_auth 0' <("$mk" --count "$site")

"$bin" purge --site "$site" --json >"$tmp/out" 2>"$tmp/err"
rc=$?
check "purge exits 0" test "$rc" -eq 0
check "purge --json prints one line" test "$(wc -l <"$tmp/out")" -eq 1
check "6 templates deleted" grep -q '"templates_deleted": 6,' "$tmp/out"
check "3 day keys destroyed" grep -q '"keys_destroyed": 3,' "$tmp/out"
check "today is the day of now" grep -q "^{\"today\": $(($(date +%s) / 86400)), " "$tmp/out"
check "project days itemised: 3 (project, day) items adding up to the totals" \
  bash -c "grep -o '\"key_destroyed\": true' '$tmp/out' | wc -l | grep -qx 3 && grep -q '\"itemised_all\": true' '$tmp/out'"
check "the ledger's counts" \
  grep -q '"otps_deleted": 0, "idempotency_deleted": 0, "escorts_settled": 0}$' "$tmp/out"
check "the report has no person ids" bash -c "! grep -qi person '$tmp/out'"
check "3 templates remain, all readable" grep -qx 'templates 3 unreadable 0 failed_auth 0' <("$mk" --count "$site")
"$bin" audit verify --site "$site" >"$tmp/audit" 2>&1
check "the audit chain verifies after the purge" test $? -eq 0
check "the purge is in the audit chain (2 entries: templates, day keys; 1 from init)" \
  grep -q '^audit chain verifies: 3 entries, ' "$tmp/audit"

"$bin" purge --site "$site" --json >"$tmp/again" 2>"$tmp/err"
check "second purge exits 0" test $? -eq 0
check "second purge destroys nothing" \
  grep -q '"templates_deleted": 0, "keys_destroyed": 0, "destroyed": \[\], "itemised_all": true' "$tmp/again"
"$bin" audit verify --site "$site" >"$tmp/audit" 2>&1
check "the second purge is recorded too" grep -q '^audit chain verifies: 5 entries, ' "$tmp/audit"

"$bin" purge --site "$site" >"$tmp/text" 2>"$tmp/err"
check "text purge exits 0" test $? -eq 0
check "text purge prints zero totals" grep -qx 'purged: 0 template(s) deleted, 0 day key(s) destroyed' "$tmp/text"
check "text purge prints the ledger's counts" \
  grep -qx 'ledger: 0 expired one-time code(s), 0 idempotency key(s) deleted, 0 unconfirmed escort(s) settled' "$tmp/text"

"$bin" init --site "$tmp/site2" >/dev/null
"$mk" "$tmp/site2"
"$bin" purge --site "$tmp/site2" >"$tmp/text" 2>"$tmp/err"
check "text purge on a fresh site exits 0" test $? -eq 0
check "text total line" grep -qx 'purged: 6 template(s) deleted, 3 day key(s) destroyed' "$tmp/text"
check "text itemises each (project, day)" \
  test "$(grep -c '^project .*, day [0-9-]*: [0-9]* template(s) deleted, key destroyed$' "$tmp/text")" -eq 3

"$bin" purge --site "$tmp/nowhere" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "missing site: exit status 1" test "$rc" -eq 1
check "missing site: says so" grep -q "no ledger in the site folder" "$tmp/err"
check "missing site: nothing created" test ! -e "$tmp/nowhere"
"$mk" "$tmp/vaultonly"
"$bin" purge --site "$tmp/vaultonly" >"$tmp/out" 2>"$tmp/err"
check "a vault without a ledger: exit status 1" test $? -eq 1
check "a vault without a ledger: nothing purged" \
  grep -qx 'templates 9 unreadable 0 failed_auth 0' <("$mk" --count "$tmp/vaultonly")
"$bin" purge >/dev/null 2>&1
check "usage error is exit status 2" test $? -eq 2

if [[ $fail -ne 0 ]]; then echo "some purge CLI checks failed"; exit 1; fi
echo "all purge CLI checks passed"
