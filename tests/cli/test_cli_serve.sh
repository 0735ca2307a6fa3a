#!/usr/bin/env bash
# `fairvisit serve` as a process (PRODUCT.md §6: "the server and web pages; scheduled purge"):
# on a site made by `fairvisit init` whose vault make_vault_site fills with expired and live
# templates (random vectors, never face data), the server purges on its own schedule — at start
# and then every --purge-interval seconds — deleting exactly the expired templates, recording
# each run in the audit chain; it prints its URLs, answers over plain HTTP on loopback and over
# HTTPS with the site's certificate, refuses plain HTTP on a non-loopback address, refuses a
# second server on a port in use, and on SIGTERM stops cleanly (exit 0).
# Usage: test_cli_serve.sh FAIRVISIT_BINARY MAKE_VAULT_SITE_BINARY
set -u
bin="$1" mk="$2"
tmp="$(mktemp -d)"
pid=""
trap '[[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
command -v curl >/dev/null || { echo "SKIP: curl is missing"; exit 77; }

site="$tmp/site"
"$bin" init --site "$site" >/dev/null
"$mk" "$site"
check "the site holds 9 templates" grep -qx 'templates 9 unreadable 0 failed_auth 0' <("$mk" --count "$site")

# A free port: try a few random ones.
start() { # start EXTRA_ARGS... ; sets pid and port
  for _ in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 20000))
    "$bin" serve --site "$site" --listen "127.0.0.1:$port" --https "127.0.0.1:$((port + 1))" \
      "$@" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    for _ in $(seq 1 100); do
      grep -q "running" "$tmp/out" 2>/dev/null && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    wait "$pid" 2>/dev/null
    pid=""
  done
  return 1
}
check "serve starts" start --purge-interval 1
check "serve prints its URLs" grep -q "^http://127.0.0.1:$port/ serves: / /kiosk /reception" "$tmp/out"
check "serve prints its HTTPS URL" grep -q "^https://127.0.0.1:$((port + 1))/ serves:" "$tmp/out"
for _ in $(seq 1 100); do
  [[ "$(grep -c '^purge: ' "$tmp/err")" -ge 2 ]] && break
  sleep 0.1
done
check "the scheduled purge ran at start: 6 expired templates deleted" \
  grep -q '^purge: 6 template(s) deleted, 3 day key(s) destroyed' "$tmp/err"
check "and again on its schedule (every second here), destroying nothing more" \
  grep -q '^purge: 0 template(s) deleted, 0 day key(s) destroyed' "$tmp/err"
code="$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/api/v1/session")"
check "plain HTTP answers (401 before login)" test "$code" = 401
code="$(curl -s --cacert "$site/tls/cert.pem" -o /dev/null -w '%{http_code}' \
  "https://localhost:$((port + 1))/api/v1/session")"
check "HTTPS answers with the site's certificate trusted" test "$code" = 401
"$bin" serve --site "$site" --listen "127.0.0.1:$port" >"$tmp/out2" 2>"$tmp/err2" &
p2=$!
wait "$p2"
rc=$?
check "a second server on the same port: exit 1" test "$rc" -eq 1
check "and it says why" grep -q "cannot listen on 127.0.0.1:$port" "$tmp/err2"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "SIGTERM: exit 0" test "$rc" -eq 0
check "SIGTERM: stopped cleanly" grep -q "^fairvisit serve: stopped" "$tmp/out"
check "no sanitizer report" bash -c "! grep -q 'Sanitizer' '$tmp/err'"
check "3 live templates remain, readable" grep -qx 'templates 3 unreadable 0 failed_auth 0' <("$mk" --count "$site")
"$bin" audit verify --site "$site" >"$tmp/audit" 2>&1
check "the audit chain verifies with the purges in it" test $? -eq 0
n="$(sed -n 's/^audit chain verifies: \([0-9]*\) entries.*/\1/p' "$tmp/audit")"
check "each purge run added its 2 entries" test "${n:-0}" -ge 5

"$bin" serve --site "$site" --listen "0.0.0.0:$port" >"$tmp/out3" 2>"$tmp/err3"
rc=$?
check "plain HTTP on a non-loopback address: exit 1" test "$rc" -eq 1
check "and it says plain HTTP is loopback only" grep -q "loopback only" "$tmp/err3"
"$bin" serve --site "$tmp/nowhere" --listen "127.0.0.1:$port" >"$tmp/out4" 2>"$tmp/err4"
check "no site: exit 1 with the reason" bash -c "test $? -eq 1 && grep -q 'fairvisit init' '$tmp/err4'"
"$bin" serve >/dev/null 2>&1
check "no --site: usage error (exit 2)" test $? -eq 2

exit "$fail"
