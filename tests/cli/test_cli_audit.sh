#!/usr/bin/env bash
# CLI contract of `fairvisit init --site DIR [--demo] [--json]` and `fairvisit audit verify --site
# DIR [--json]` (../shared/docs/PRODUCT.md §6, §4.11): init creates the site files (ledger.key
# 0600, ledger.db, vault/) and refuses an existing site without changing a byte; the audit chain
# of a fresh and of a demo site verifies (exit 0, "audit chain verifies: N entries, head <hex>");
# an entry edited with the sqlite3 tool, a deleted last entry and an edited head make verify exit
# 1 naming the first bad entry's seq; wrong usage is exit 2. The demo prints no phone number and
# its audit entries hold none.
# Usage: test_cli_audit.sh FAIRVISIT_BINARY
set -u
bin="$1"
if ! command -v sqlite3 >/dev/null 2>&1; then
  echo "SKIP: the sqlite3 command-line tool is missing (tools/setup-deps installs it)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
fingerprint() { # every file of a site with its mode and checksum, in a stable order
  (cd "$1" && find . -type f -printf '%p %m %s %T@\n' | sort && find . -type f -print0 | sort -z |
    xargs -0 sha256sum)
}

# ---- init -------------------------------------------------------------------------------------
site="$tmp/site"
"$bin" init --site "$site" >"$tmp/out" 2>"$tmp/err"
check "init exits 0" test $? -eq 0
check "init: ledger.key exists with mode 600" test "$(stat -c %a "$site/ledger.key" 2>/dev/null)" = 600
check "init: ledger.db exists" test -s "$site/ledger.db"
check "init: the vault exists" test -d "$site/vault"
check "init: the folder is 700" test "$(stat -c %a "$site")" = 700
check "init says where" grep -q "site created in $site" "$tmp/out"
check "init prints the admin login with a password" grep -Eq "^  admin +admin +password [A-Za-z0-9]{16}$" "$tmp/out"
check "init names the TLS certificate" grep -q "^TLS certificate: .*/tls/cert.pem" "$tmp/out"
check "init prints nothing on stderr" test ! -s "$tmp/err"

before="$(fingerprint "$site")"
"$bin" init --site "$site" >"$tmp/out2" 2>"$tmp/err2"
check "second init exits 1" test $? -eq 1
check "second init says a site exists" grep -q "a site already exists in '$site'" "$tmp/err2"
check "second init changed nothing" test "$before" = "$(fingerprint "$site")"
"$bin" init --site "$site" --demo >/dev/null 2>&1
check "second init --demo exits 1 too" test $? -eq 1
check "second init --demo changed nothing" test "$before" = "$(fingerprint "$site")"

mkdir -p "$tmp/vaultonly/vault"
"$bin" init --site "$tmp/vaultonly" >/dev/null 2>"$tmp/err"
check "init refuses a folder holding a vault" test $? -eq 1
check "... and writes no key there" test ! -e "$tmp/vaultonly/ledger.key"
: >"$tmp/afile"
"$bin" init --site "$tmp/afile" >/dev/null 2>&1
check "init refuses a file as the site" test $? -eq 1

"$bin" init --site "$tmp/j" --json >"$tmp/out" 2>"$tmp/err"
check "init --json exits 0" test $? -eq 0
check "init --json prints one line" test "$(wc -l <"$tmp/out")" -eq 1
check "init --json names the site, no demo, and the admin login" grep -Eq "^\{\"site\": \"$tmp/j\", \"created\": \[\"ledger.key\", \"ledger.db\", \"vault\", \"tls\"\], \"demo\": null, \"logins\": \[\{\"login\": \"admin\", \"role\": \"admin\", \"password\": \"[A-Za-z0-9]{16}\"\}\]" "$tmp/out"

# ---- verify -----------------------------------------------------------------------------------
"$bin" audit verify --site "$site" >"$tmp/out" 2>"$tmp/err"
check "verify of a fresh site exits 0" test $? -eq 0
check "fresh site: 1 entry (the admin login's creation)" grep -Eqx "audit chain verifies: 1 entries, head [0-9a-f]{64}" "$tmp/out"

demo="$tmp/demo"
"$bin" init --site "$demo" --demo >"$tmp/dout" 2>"$tmp/derr"
check "init --demo exits 0" test $? -eq 0
check "init --demo prints nothing on stderr (no code, no phone)" test ! -s "$tmp/derr"
check "init --demo names the project" grep -q '^demo project "demo" (Demo Garden 示范花园)' "$tmp/dout"
check "init --demo prints no phone" bash -c "! grep -q '1380000' '$tmp/dout'"
n="$(sqlite3 "$demo/ledger.db" 'SELECT COUNT(*) FROM audit')"
check "the demo made audit entries" test "${n:-0}" -gt 20
check "the demo's audit entries hold no phone digits" \
  test "$(sqlite3 "$demo/ledger.db" "SELECT COUNT(*) FROM audit WHERE actor || action || record GLOB '*1380000*' OR actor || action || record GLOB '*[0-9][0-9][0-9][0-9][0-9][0-9][0-9]*'")" = 0
check "the demo has deals, visits, registrations and conflicts" \
  test "$(sqlite3 "$demo/ledger.db" "SELECT (SELECT COUNT(*) FROM deal) > 0 AND (SELECT COUNT(*) FROM visit) > 0 AND (SELECT COUNT(*) FROM registration WHERE status = 'refused') > 0 AND (SELECT COUNT(*) FROM conflict) > 0")" = 1
"$bin" init --site "$tmp/dj" --demo --json >"$tmp/out" 2>/dev/null
check "init --demo --json prints one line with the demo" \
  bash -c "test \$(wc -l <'$tmp/out') -eq 1 && grep -q '\"demo\": {\"project\": \"demo\"' '$tmp/out'"

head="$(sqlite3 "$demo/ledger.db" 'SELECT lower(hex(hash)) FROM audit_head')"
"$bin" audit verify --site "$demo" >"$tmp/out" 2>"$tmp/err"
check "verify of the demo exits 0" test $? -eq 0
check "verify names the entries and the head" grep -qx "audit chain verifies: $n entries, head $head" "$tmp/out"
"$bin" audit verify --site "$demo" --json >"$tmp/out" 2>"$tmp/err"
check "verify --json" grep -qx "{\"verified\": true, \"entries\": $n, \"first_bad\": 0, \"head\": \"$head\"}" "$tmp/out"

cp -a "$demo" "$tmp/t1"
sqlite3 "$tmp/t1/ledger.db" "UPDATE audit SET actor = 'admin:2' WHERE seq = 7"
"$bin" audit verify --site "$tmp/t1" >"$tmp/out" 2>"$tmp/err"
check "an edited entry: exit 1" test $? -eq 1
check "an edited entry: seq 7 named" grep -q "first bad entry is seq 7: entry was altered" "$tmp/err"
"$bin" audit verify --site "$tmp/t1" --json >"$tmp/out" 2>"$tmp/err"
check "an edited entry: --json exit 1" test $? -eq 1
check "an edited entry: --json names seq 7" grep -q '^{"verified": false, "entries": 6, "first_bad": 7, "reason": "entry was altered' "$tmp/out"

cp -a "$demo" "$tmp/t2"
sqlite3 "$tmp/t2/ledger.db" "DELETE FROM audit WHERE seq = $n"
"$bin" audit verify --site "$tmp/t2" >/dev/null 2>"$tmp/err"
check "a deleted last entry: exit 1" test $? -eq 1
check "a deleted last entry: seq $n named" grep -q "first bad entry is seq $n: entry is missing" "$tmp/err"

cp -a "$demo" "$tmp/t3"
sqlite3 "$tmp/t3/ledger.db" "UPDATE audit_head SET hash = zeroblob(32)"
"$bin" audit verify --site "$tmp/t3" >/dev/null 2>"$tmp/err"
check "an edited head: exit 1" test $? -eq 1
check "an edited head: seq $n named" grep -q "first bad entry is seq $n: chain head" "$tmp/err"

"$bin" audit verify --site "$tmp/nowhere" >/dev/null 2>"$tmp/err"
check "verify of a missing site: exit 1" test $? -eq 1
check "verify of a missing site: says so" grep -q "fairvisit init" "$tmp/err"
check "verify of a missing site: creates nothing" test ! -e "$tmp/nowhere"

# ---- usage --------------------------------------------------------------------------------------
"$bin" audit verify >/dev/null 2>&1
check "verify without --site: exit 2" test $? -eq 2
"$bin" audit verify --site "$site" --bogus >/dev/null 2>&1
check "verify with an unknown argument: exit 2" test $? -eq 2
"$bin" audit >/dev/null 2>&1
check "audit without a subcommand: exit 2" test $? -eq 2
"$bin" audit check --site "$site" >/dev/null 2>&1
check "audit with an unknown subcommand: exit 2" test $? -eq 2
"$bin" init >/dev/null 2>&1
check "init without --site: exit 2" test $? -eq 2
"$bin" init --site "$tmp/u" --bogus >/dev/null 2>&1
check "init with an unknown argument: exit 2" test $? -eq 2
check "... and creates nothing" test ! -e "$tmp/u"

if [[ $fail -ne 0 ]]; then echo "some init/audit CLI checks failed"; exit 1; fi
echo "all init/audit CLI checks passed"
