#!/usr/bin/env bash
# CLI contract of `fairvisit report --site DIR --project CODE [--from D] [--to D] [--csv | --json |
# --impact]` (../shared/docs/PRODUCT.md §6, "the reports of §3"): on a site made by
# `fairvisit init --demo` (a month of registrations, check-ins, escorts, conflicts and deals,
# written through the ledger API), the report's totals agree with what the seeding says it made
# (first visits and returns, outcomes, registrations and refusals, conflicts, deals, flagged
# deals, commission); the CSV is RFC 4180 with one header line per section; --json is one line;
# the text tables and the impact assessment (with its C17 line) are printed; a period before the
# demo is empty; no output holds a phone, a masked phone or a customer's name; bad days and wrong
# usage are exit 2, a missing site or project exit 1, with a message on stderr; the audit chain
# still verifies after the reads.
# Usage: test_cli_report.sh FAIRVISIT_BINARY
set -u
bin="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
# json_int FILE KEY: the first integer value of "KEY": in FILE
json_int() { grep -o "\"$2\": [0-9]*" "$1" | head -1 | grep -o '[0-9]*$'; }
# csv_sum FILE SECTION FIELD_FROM_END [FILTER_FIELD_FROM_END VALUE]: sum of a numeric field of a
# section's rows, counted from the end of the row (channel names may hold commas)
csv_sum() {
  tr -d '\r' <"$1" | awk -F, -v s="$2" -v k="$3" -v fk="${4:-0}" -v fv="${5:-}" \
    '$1 == s && (fk == 0 || $(NF - fk + 1) == fv) { t += $(NF - k + 1) } END { print t + 0 }'
}

site="$tmp/site"
if ! "$bin" init --site "$site" --demo --json >"$tmp/init" 2>"$tmp/err"; then
  if grep -q "unknown command 'init'" "$tmp/err"; then
    echo "SKIP fairvisit init is not built"
    exit 77
  fi
  echo "FAIL fairvisit init --demo: $(cat "$tmp/err")"
  exit 1
fi
check "init --demo made the demo project" grep -q '"project": "demo"' "$tmp/init"

"$bin" report --site "$site" --project demo --json >"$tmp/json" 2>"$tmp/err"
check "report --json exits 0" test $? -eq 0
check "report --json prints one line" test "$(wc -l <"$tmp/json")" -eq 1
check "report --json is an object" grep -q '^{"project": {"code": "demo", ' "$tmp/json"
check "open period" grep -q '"period": {"from": null, "to": null, "timezone": "UTC+8"}' "$tmp/json"
outcomes="$(grep -o '"outcomes": {[^}]*}' "$tmp/init" | sed 's/^"outcomes": //')"
check "first-visit outcomes agree with the seeding ($outcomes)" \
  grep -qF "\"first_visit_outcomes\": $outcomes" "$tmp/json"

"$bin" report --site "$site" --project demo --csv >"$tmp/csv" 2>"$tmp/err"
check "report --csv exits 0" test $? -eq 0
check "every CSV line ends in CRLF" test "$(grep -c $'\r$' "$tmp/csv")" -eq "$(wc -l <"$tmp/csv")"
check "eight sections, each with a header line" test "$(grep -c '^section,' "$tmp/csv")" -eq 8
check "the project line" grep -q $'^project,demo,Demo Garden [^,]*,,,UTC+8,[-0-9T:+]*\r$' "$tmp/csv"
check "first visits add up" test "$(csv_sum "$tmp/csv" visits 2)" -eq "$(json_int "$tmp/init" visits_first)"
check "return visits add up" test "$(csv_sum "$tmp/csv" visits 1)" -eq "$(json_int "$tmp/init" visits_return)"
check "registrations add up" \
  test "$(csv_sum "$tmp/csv" registrations 1)" -eq "$(json_int "$tmp/init" registrations)"
check "refused registrations add up" \
  test "$(csv_sum "$tmp/csv" registrations 1 3 refused)" -eq "$(json_int "$tmp/init" registrations_refused)"
check "conflicts add up" test "$(csv_sum "$tmp/csv" conflicts 1)" -eq "$(json_int "$tmp/init" conflicts)"
check "deals add up" test "$(csv_sum "$tmp/csv" deals 4)" -eq "$(json_int "$tmp/init" deals)"
check "flagged deals add up" test "$(csv_sum "$tmp/csv" deals 2)" -eq "$(json_int "$tmp/init" deals_flagged)"
check "commission adds up (deals)" \
  test "$(csv_sum "$tmp/csv" deals 1)" -eq "$(json_int "$tmp/init" commission_cents)"
check "commission adds up (per month and agent)" \
  test "$(csv_sum "$tmp/csv" commission 1)" -eq "$(json_int "$tmp/init" commission_cents)"

"$bin" report --site "$site" --project demo >"$tmp/text" 2>"$tmp/err"
check "text report exits 0" test $? -eq 0
check "text: project line" grep -q '^Project demo: Demo Garden' "$tmp/text"
for title in "Visits per day (UTC+8) and channel" "First-visit outcomes" "Funnel: " \
  "Conflicts opened in the period" "Deals per channel (amounts in yuan)" "Commission per month"; do
  check "text: table '$title'" grep -q "^$title" "$tmp/text"
done

"$bin" report --site "$site" --project demo --impact >"$tmp/impact" 2>"$tmp/err"
check "report --impact exits 0" test $? -eq 0
check "impact: title" grep -q '^# Personal information protection impact assessment: Demo Garden' "$tmp/impact"
for h in "## 1. Purpose" "## 2. Necessity" "## 3. Data held" "## 4. Retention" "## 5. Safeguards" \
  "## 6. Live counts (this project)"; do
  check "impact: section '$h'" grep -q "^$h" "$tmp/impact"
done
check "impact: persons with stored faces counted" grep -q '^| persons with stored faces | 0 |$' "$tmp/impact"
check "impact: the C17 line" grep -q 'below the warning level (80,000) and the filing threshold (100,000' "$tmp/impact"

for f in json csv text impact; do
  check "$f: no phone, masked phone or customer name" \
    bash -c "! grep -qE '(^|[^0-9])1[3-9][0-9]{9}([^0-9]|\$)|[0-9]{3}\\*{4}[0-9]{4}|Demo Customer|演示客户' '$tmp/$f'"
done

"$bin" report --site "$site" --project demo --json --to 2000-01-01 >"$tmp/empty" 2>"$tmp/err"
check "a period before the demo: exit 0" test $? -eq 0
check "a period before the demo: no visits" grep -q '"visits": \[\], ' "$tmp/empty"
check "a period before the demo: zero outcomes" grep -qF '"first_visit_outcomes": {"natural": 0, "channel_valid": 0, "channel_invalid": 0, "pending_escort": 0}' "$tmp/empty"
check "a period before the demo: no commission" grep -q '"commission": \[\]}$' "$tmp/empty"
"$bin" report --site "$site" --project demo --csv --from 2025-03-01 --to 2025-03-31 >"$tmp/p" 2>"$tmp/err"
check "--from/--to are echoed" grep -q $'^project,demo,.*,2025-03-01,2025-03-31,UTC+8,' "$tmp/p"

"$bin" report --site "$site" --project demo --from 2025-02-30 >"$tmp/out" 2>"$tmp/err"
check "a bad --from is exit 2" test $? -eq 2
check "a bad --from is named" grep -q 'from: not a valid day' "$tmp/err"
check "a bad --from prints nothing on stdout" test ! -s "$tmp/out"
"$bin" report --site "$site" --project demo --csv --to 2025-3-1 >"$tmp/out" 2>"$tmp/err"
check "a bad --to is exit 2 and named" bash -c "test $? -eq 2 && grep -q 'to: not a valid day' '$tmp/err'"
"$bin" report --site "$site" --project demo --from 2025-03-02 --to 2025-03-01 >/dev/null 2>"$tmp/err"
check "--from after --to is exit 2" bash -c "test $? -eq 2 && grep -q 'from is after to' '$tmp/err'"

"$bin" report --site "$site" --project nope >"$tmp/out" 2>"$tmp/err"
check "unknown project: exit 1" test $? -eq 1
check "unknown project: says so" grep -q "no project 'nope'" "$tmp/err"
"$bin" report --site "$tmp/nowhere" --project demo >"$tmp/out" 2>"$tmp/err"
check "missing site: exit 1" test $? -eq 1
check "missing site: says so" grep -q "cannot open the ledger of site" "$tmp/err"
check "missing site: nothing created" test ! -e "$tmp/nowhere"

usage() { "$bin" report "$@" >/dev/null 2>"$tmp/err"; test $? -eq 2 && grep -q 'usage: fairvisit report' "$tmp/err"; }
check "usage: no --project is exit 2" usage --site "$site"
check "usage: no --site is exit 2" usage --project demo
check "usage: unknown option is exit 2" usage --site "$site" --project demo --xml
check "usage: two formats are exit 2" usage --site "$site" --project demo --csv --json
check "usage: --from without a value is exit 2" usage --site "$site" --project demo --from
"$bin" report --site "$site" --project demo --impact --from 2025-03-01 >/dev/null 2>"$tmp/err"
check "usage: --impact with a period is exit 2" test $? -eq 2

if "$bin" help | grep -q 'audit verify'; then
  "$bin" audit verify --site "$site" >"$tmp/out" 2>"$tmp/err"
  check "the audit chain verifies after the reports" test $? -eq 0
fi

if [[ $fail -ne 0 ]]; then echo "some report CLI checks failed"; exit 1; fi
echo "all report CLI checks passed"
