#!/usr/bin/env bash
# CLI contract of `fairvisit purge --site DIR [--json]` (../shared/docs/PRODUCT.md §6: "expire what
# retention says, now"): on a site made by make_vault_site (two projects, retention 7 and 30
# days, random vectors with old timestamps), the purge destroys exactly the expired project days
# and reports counts per project and day; a second run destroys nothing; the unexpired templates
# stay readable; a missing vault is a clear error with exit status 1.
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
date_ago() { date -u -d "@$(($(date +%s) - $1 * 86400))" +%F; }

site="$tmp/site"
"$mk" "$site"
check "the helper made a site" test -f "$site/vault/vault.db"
check "the site holds 9 readable templates" grep -qx 'templates 9 unreadable 0 failed_auth 0' <("$mk" --count "$site")

"$bin" purge --site "$site" --json >"$tmp/out" 2>"$tmp/err"
rc=$?
check "purge exits 0" test "$rc" -eq 0
check "purge --json prints one line" test "$(wc -l <"$tmp/out")" -eq 1
check "6 templates deleted" grep -q '"templates_deleted": 6,' "$tmp/out"
check "3 day keys destroyed" grep -q '"keys_destroyed": 3,' "$tmp/out"
d40="$(date_ago 40)" d20="$(date_ago 20)" d10="$(date_ago 10)"
check "p30, 40 days ago: 3 templates and the key" \
  grep -q "{\"project\": \"p30\", \"day\": [0-9]*, \"date\": \"$d40\", \"templates\": 3, \"key_destroyed\": true}" "$tmp/out"
check "p7, 20 days ago: 2 templates and the key" \
  grep -q "{\"project\": \"p7\", \"day\": [0-9]*, \"date\": \"$d20\", \"templates\": 2, \"key_destroyed\": true}" "$tmp/out"
check "p7, 10 days ago: 1 template and the key" \
  grep -q "{\"project\": \"p7\", \"day\": [0-9]*, \"date\": \"$d10\", \"templates\": 1, \"key_destroyed\": true}" "$tmp/out"
check "exactly three project days itemised" test "$(grep -o '"project"' "$tmp/out" | wc -l)" -eq 3
check "p30's 20-day-old template is kept" bash -c "! grep -q '\"date\": \"$d20\", \"templates\": 1' '$tmp/out'"
check "the report has no person ids" bash -c "! grep -qi person '$tmp/out'"
check "3 templates remain, all readable" grep -qx 'templates 3 unreadable 0 failed_auth 0' <("$mk" --count "$site")

"$bin" purge --site "$site" --json >"$tmp/again" 2>"$tmp/err"
check "second purge exits 0" test $? -eq 0
check "second purge destroys nothing" \
  grep -q '"templates_deleted": 0, "keys_destroyed": 0, "destroyed": \[\]' "$tmp/again"

"$bin" purge --site "$site" >"$tmp/text" 2>"$tmp/err"
check "text purge exits 0" test $? -eq 0
check "text purge prints zero totals" grep -qx 'purged: 0 template(s) deleted, 0 day key(s) destroyed' "$tmp/text"

"$mk" "$tmp/site2"
"$bin" purge --site "$tmp/site2" >"$tmp/text" 2>"$tmp/err"
check "text purge on a fresh site exits 0" test $? -eq 0
check "text line for p7, 20 days ago" grep -qx "project p7, day $d20: 2 template(s) deleted, key destroyed" "$tmp/text"
check "text total line" grep -qx 'purged: 6 template(s) deleted, 3 day key(s) destroyed' "$tmp/text"

"$bin" purge --site "$tmp/nowhere" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "missing vault: exit status 1" test "$rc" -eq 1
check "missing vault: says so" grep -q "no vault in site" "$tmp/err"
check "missing vault: nothing created" test ! -e "$tmp/nowhere"
"$bin" purge >/dev/null 2>&1
check "usage error is exit status 2" test $? -eq 2

if [[ $fail -ne 0 ]]; then echo "some purge CLI checks failed"; exit 1; fi
echo "all purge CLI checks passed"
