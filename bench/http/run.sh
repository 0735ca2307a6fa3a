#!/usr/bin/env bash
# bench/http/run.sh - wrk against `fairvisit serve`: registrations, check-in by phone (first
# visits and returns) and liveness frames (a still JPEG), requests per second and latency
# percentiles; then complete face check-ins from a video clip. On a throw-away demo site. See
# bench/README.md, "HTTP (wrk)".
#
# Steps: builds build-release (--target fairvisit); `fairvisit init --site TMP/site --demo`;
# starts `fairvisit serve --site TMP/site --listen 127.0.0.1:PORT --models REPO/models` (pinned to
# CPU 0 with taskset; its access log goes to TMP/serve.log); logs in with curl
# (POST /api/v1/session: the fv_session cookie and the "csrf" field, sent back as X-CSRF-Token);
# then ROUNDS wrk runs per row, pinned to CPU 1, each with a Lua script of this folder:
#   registrations     agent1: POST /projects/demo/registrations, a new phone per request
#   checkin first     reception: POST /projects/demo/checkins, a new phone per request
#   checkin return    reception: the same, over THREADS x POOL phones checked in once beforehand
#   frame IMAGE       reception: POST /liveness/:id/frames with IMAGE (from the faces folder, read
#                     by wrk, never copied), round-robin over 4 checks started under one consent
#                     for each round; with the run's connections, and with one (a single kiosk)
# A row reports the median over its rounds of requests/s, p50 and p99 (wrk's --latency
# percentiles), each round's requests/s, and a bare sync on the site's filesystem timed before
# each round (200 x 4 KiB overwritten with O_DSYNC by dd: the cost of the one sync every ledger
# commit makes). Each script checks the response bodies (accepted / first / return / usable face);
# a round with a non-2xx answer, a socket error or a body that is not the expected outcome marks
# the row NOT A RESULT and the script exits 1.
# Then, when the faces folder has short_hamilton_clip.mp4 and Chromium with playwright-core is
# there, bench/http/face_cycle.js: CYCLES complete face check-ins one after the other (consent,
# liveness start, the clip's frames until the check passes, POST checkins/face), timed per step:
# a still photo cannot pass the liveness check, the clip's real head turn can.
# The site and everything in TMP are deleted at the end (--keep keeps them).
#
# Usage: bench/http/run.sh [--duration 20s] [--rounds 3] [--threads 2] [--connections 16]
#          [--port 18931] [--faces DIR] [--images "obama-480p.jpg obama-1080p.jpg"] [--pool 2000]
#          [--no-build] [--no-pin] [--keep] [--only reg,first,return,frames,cycle] [--cycles 50]
#          [--ledger-persons N]   at the end, also `fairvisit bench checkin --persons N` (phone
#                                 path, throw-away site) for the library-level comparison
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"

duration=20s
rounds=3
threads=2
conns=16
port=18931
faces="${FV_FACES_DIR:-$repo/../shared/data/faces}"
images="obama-480p.jpg obama-1080p.jpg"
pool=2000
build=1
pin=1
keep=0
only="reg,first,return,frames,cycle"
cycles=50
ledger_persons=0
bin="build-release/fairvisit"

die() {
  echo "bench/http/run.sh: error: $*" >&2
  exit 1
}
usage() { sed -n '/^# Usage:/,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($# > 0)); do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --connections) conns="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --faces) faces="$2"; shift 2 ;;
    --images) images="$2"; shift 2 ;;
    --pool) pool="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --no-pin) pin=0; shift ;;
    --keep) keep=1; shift ;;
    --only) only="$2"; shift 2 ;;
    --cycles) cycles="$2"; shift 2 ;;
    --ledger-persons) ledger_persons="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
((threads >= 1 && threads <= 9)) || die "--threads must be 1..9 (one phone digit per thread)"
((rounds >= 1 && rounds <= 9)) || die "--rounds must be 1..9 (one phone digit per round)"
wants() { [[ ",$only," == *",$1,"* ]]; }

for tool in wrk curl awk dd; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (tools/setup-deps installs it)"
done
server_pin=()
client_pin=()
if ((pin)); then
  if command -v taskset >/dev/null 2>&1 && (($(nproc) >= 2)); then
    server_pin=(taskset -c 0)
    client_pin=(taskset -c 1)
  else
    echo "bench/http: taskset or a second CPU missing: running unpinned"
    pin=0
  fi
fi

if ((build)); then
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j"$(nproc)" --target fairvisit >/dev/null
fi
[[ -x "$bin" ]] || die "$bin missing (run without --no-build)"
if { wants frames || wants cycle; } && [[ ! -f models/fr_detect.onnx ]]; then
  die "models/ holds no face models: run tools/fetch-models first"
fi

tmp="$(mktemp -d /tmp/fv-bench-http-XXXXXX)"
site="$tmp/site"
server_pid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((keep)); then
    echo "bench/http: kept $tmp (site, serve.log, wrk outputs)"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

base="http://127.0.0.1:$port"
if curl -s -o /dev/null --max-time 2 "$base/"; then
  die "something already answers on $base: pick another --port"
fi
"$bin" init --site "$site" --demo >"$tmp/init.log" 2>&1 || {
  cat "$tmp/init.log" >&2
  die "fairvisit init --demo failed"
}
"${server_pin[@]}" "$bin" serve --site "$site" --listen "127.0.0.1:$port" --models "$repo/models" \
  >"$tmp/serve.out" 2>"$tmp/serve.log" &
server_pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "$base/api/v1/projects/demo/notice" && break
  kill -0 "$server_pid" 2>/dev/null || {
    cat "$tmp/serve.out" "$tmp/serve.log" >&2
    die "fairvisit serve exited (is port $port taken? --port)"
  }
  sleep 0.1
done
curl -sf -o /dev/null "$base/api/v1/projects/demo/notice" || die "the server does not answer on $base"

# sync_ms: ms per 4 KiB write with O_DSYNC, overwriting a file next to the site (200 writes).
dd if=/dev/zero of="$tmp/sync.probe" bs=4k count=200 status=none
sync_ms() {
  dd if=/dev/zero of="$tmp/sync.probe" bs=4k count=200 oflag=dsync conv=notrunc 2>&1 |
    awk '/copied/ { for (i = 2; i <= NF; i++) if ($i == "s," || $i == "s") { printf "%.2f", $(i - 1) * 1000 / 200; exit } }'
}

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs," \
  "$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r), $(df -T "$tmp" | awk 'NR == 2 { print $2 }') at $tmp"
echo "== $(wrk --version 2>&1 | head -1 | sed 's/ Copyright.*//'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== server: ${server_pin[*]:+${server_pin[*]} }$bin serve --site $site --listen 127.0.0.1:$port" \
  "--models $repo/models; clients: ${client_pin[*]:-unpinned}"

# login LOGIN: sets session and csrf from POST /api/v1/session.
session=""
csrf=""
login() {
  local pw
  pw="$(awk -v l="$1" '$1 == l { print $3 }' "$site/demo-logins.txt")"
  [[ -n "$pw" ]] || die "no login $1 in $site/demo-logins.txt"
  curl -sf -D "$tmp/login.h" -o "$tmp/login.json" -H 'Content-Type: application/json' \
    -d "{\"login\": \"$1\", \"password\": \"$pw\"}" "$base/api/v1/session" || die "login $1 failed"
  session="$(grep -io 'fv_session=[0-9a-f]*' "$tmp/login.h" | head -1 | cut -d= -f2)"
  csrf="$(grep -o '"csrf": "[0-9a-f]*"' "$tmp/login.json" | cut -d'"' -f4)"
  [[ -n "$session" && -n "$csrf" ]] || die "login $1: no session cookie or csrf token"
}
# post PATH JSON: POST as the current login; prints the body, fails on a non-2xx status.
post() {
  curl -sf -H "Cookie: fv_session=$session" -H "X-CSRF-Token: $csrf" \
    -H 'Content-Type: application/json' -d "$2" "$base$1"
}

rows=()     # "name|connections|rps|p50|p99|errors|checked|per-round rps|sync ms|ok"
commands=() # the wrk command lines, as run
failed=0

# to_ms VALUE: wrk's 512.00us / 5.12ms / 1.02s / 1.50m in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
    printf "%.2f", n }'
}
# median VALUES...: the median (the mean of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
    END { if (NR % 2) printf "%.2f", a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# run_wrk NAME EXPECTED_COUNT THREADS CONNS SCRIPT PREPARE [VAR=VALUE...]: ROUNDS wrk runs of one
# row; @R@ in a VAR=VALUE becomes the round's number (phones stay new from round to round).
# PREPARE is a function called before each round (or -); it may set round_env (more VAR=VALUE).
# The row checks that every completed request was counted as EXPECTED_COUNT.
round_env=()
run_wrk() {
  local name="$1" expect="$2" t="$3" c="$4" script="$5" prep="$6"
  shift 6
  local out
  out="$tmp/wrk-$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-')"
  local cmd=(wrk -t"$t" -c"$c" -d"$duration" --timeout 10s --latency -s "bench/http/$script" "$base")
  commands+=("$name: $(printf '%s ' "$@" | sed -E 's/(FV_SESSION|FV_CSRF)=[0-9a-f]+/\1=.../g; s/@R@/R/g')${prep:+$([[ "$prep" == - ]] || echo 'FV_LIVENESS_IDS=... ')}${client_pin[*]:+${client_pin[*]} }${cmd[*]}")
  local r rps_l=() p50_l=() p99_l=() sync_l=() non2xx_sum=0 sock_sum=0 total_sum=0 checked_sum=0
  local ok=ok
  for ((r = 1; r <= rounds; r++)); do
    round_env=()
    [[ "$prep" == - ]] || "$prep"
    local s
    s="$(sync_ms)"
    echo
    echo "== $name, round $r of $rounds (bare 4 KiB O_DSYNC write before: $s ms):" \
      "${client_pin[*]:+${client_pin[*]} }${cmd[*]}"
    env "${@//@R@/$r}" "${round_env[@]}" "${client_pin[@]}" "${cmd[@]}" | tee "$out-$r.txt"
    local rps p50 p99 total non2xx sock checked
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out-$r.txt")"
    p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out-$r.txt")")"
    p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out-$r.txt")")"
    total="$(awk '/ requests in / { print $1 }' "$out-$r.txt")"
    non2xx="$(awk -F: '/Non-2xx or 3xx responses/ { gsub(/ /, "", $2); print $2 }' "$out-$r.txt")"
    sock="$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out-$r.txt")"
    checked="$(grep '^fv-counts:' "$out-$r.txt" | tr ' ' '\n' | awk -F= -v k="$expect" '$1 == k { print $2 }')"
    non2xx="${non2xx:-0}"
    sock="${sock:-0}"
    if [[ -z "$rps" || -z "$total" || "$non2xx" != 0 || "$sock" != 0 || "${checked:-0}" != "$total" ]]; then
      ok="NOT A RESULT"
      failed=1
      echo "!! $name, round $r: non-2xx $non2xx, socket errors $sock, $expect ${checked:-0} of ${total:-?} requests"
    fi
    rps_l+=("${rps:-0}")
    p50_l+=("$p50")
    p99_l+=("$p99")
    sync_l+=("${s:-0}")
    non2xx_sum=$((non2xx_sum + non2xx))
    sock_sum=$((sock_sum + sock))
    total_sum=$((total_sum + ${total:-0}))
    checked_sum=$((checked_sum + ${checked:-0}))
  done
  local err="$non2xx_sum"
  ((sock_sum == 0)) || err="$err (socket errors: $sock_sum)"
  rows+=("$name|$c|$(median "${rps_l[@]}")|$(median "${p50_l[@]}")|$(median "${p99_l[@]}")|$err|$checked_sum/$total_sum $expect|$(
    IFS=/
    echo "${rps_l[*]}"
  )|$(median "${sync_l[@]}")|$ok")
}

if wants reg; then
  login agent1
  run_wrk "registrations (agent)" accepted "$threads" "$conns" registrations.lua - \
    FV_SESSION="$session" FV_CSRF="$csrf" FV_PHONE_PREFIX=139@R@
fi

if wants first || wants return; then
  login reception
  if wants first; then
    run_wrk "phone check-in, first visits" first "$threads" "$conns" checkins.lua - \
      FV_SESSION="$session" FV_CSRF="$csrf" FV_MODE=first FV_PHONE_PREFIX=136@R@
  fi
  if wants return; then
    echo
    echo "== checking in the return pool: $threads x $pool phones (1350, thread digit, 000000..)"
    # One curl for all of them (a config with one request per phone, one connection).
    for ((t = 1; t <= threads; t++)); do
      for ((i = 0; i < pool; i++)); do
        printf 'url = "%s"\nheader = "Cookie: fv_session=%s"\nheader = "X-CSRF-Token: %s"\n' \
          "$base/api/v1/projects/demo/checkins" "$session" "$csrf"
        printf 'header = "Content-Type: application/json"\ndata = "{\\"phone\\": \\"1350%d%06d\\"}"\n' "$t" "$i"
        printf 'write-out = "%%{http_code}\\n"\noutput = "/dev/null"\nnext\n'
      done
    done >"$tmp/pool.curl"
    pool_ok="$(curl -s -K "$tmp/pool.curl" | grep -c '^200$' || true)"
    rm -f "$tmp/pool.curl"
    ((pool_ok == threads * pool)) || die "pool check-ins: $pool_ok of $((threads * pool)) answered 200"
    run_wrk "phone check-in, returns" return "$threads" "$conns" checkins.lua - \
      FV_SESSION="$session" FV_CSRF="$csrf" FV_MODE=return FV_PHONE_PREFIX=1350 FV_POOL="$pool"
  fi
fi

if wants frames; then
  if [[ ! -d "$faces" ]]; then
    echo
    echo "== frames: no faces folder at $faces: the liveness frame runs are skipped"
  else
    login reception
    notice="$(curl -sf "$base/api/v1/projects/demo/notice")"
    nv="$(echo "$notice" | grep -o '"version": [0-9]*' | awk '{ print $2 }')"
    nh="$(echo "$notice" | grep -o '"hash": "[0-9a-f]*"' | cut -d'"' -f4)"
    consent="$(post /api/v1/projects/demo/consents \
      "{\"notice_version\": $nv, \"notice_hash\": \"$nh\", \"age\": \"adult\"}" | cut -d'"' -f4)"
    [[ -n "$consent" ]] || die "consent failed"
    # start_checks: 4 new liveness checks under the consent (each takes at most 600 frames and
    # lives 2 minutes) into round_env; waits out the per-login rate limit (10 at once, then 20 a
    # minute).
    start_checks() {
      local ids="" id code k
      for ((k = 0; k < 4; k++)); do
        for _ in $(seq 40); do
          code="$(curl -s -o "$tmp/liveness.json" -w '%{http_code}' -H "Cookie: fv_session=$session" \
            -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
            -d "{\"consent_id\": \"$consent\"}" "$base/api/v1/projects/demo/liveness")"
          [[ "$code" == 429 ]] || break
          sleep 3
        done
        [[ "$code" == 200 ]] || die "liveness start: HTTP $code $(cat "$tmp/liveness.json")"
        id="$(grep -o '"liveness_id": "[0-9a-f]*"' "$tmp/liveness.json" | cut -d'"' -f4)"
        ids="${ids:+$ids,}$id"
      done
      round_env=(FV_LIVENESS_IDS="$ids")
    }
    for img in $images; do
      [[ -f "$faces/$img" ]] || die "no $faces/$img"
      size="$(file -b "$faces/$img" 2>/dev/null | grep -o '[0-9]\+x[0-9]\+' | tail -1 || true)"
      # The face engine loads on the first frame a server gets: one untimed frame first.
      start_checks
      curl -sf -o /dev/null -H "Cookie: fv_session=$session" -H "X-CSRF-Token: $csrf" \
        -H 'Content-Type: image/jpeg' --data-binary "@$faces/$img" \
        "$base/api/v1/liveness/$(echo "${round_env[0]#*=}" | cut -d, -f1)/frames" ||
        die "warm-up frame failed"
      run_wrk "liveness frame, $img${size:+ ($size)}" usable "$threads" "$conns" frames.lua \
        start_checks FV_SESSION="$session" FV_CSRF="$csrf" FV_IMAGE="$faces/$img"
      if ((conns > 1)); then
        run_wrk "liveness frame, $img${size:+ ($size)}, one kiosk" usable 1 1 frames.lua \
          start_checks FV_SESSION="$session" FV_CSRF="$csrf" FV_IMAGE="$faces/$img"
      fi
    done
  fi
fi

echo
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== server access log: $(wc -l <"$tmp/serve.log") lines; by status:" \
  "$(awk '$2 == "http" { n[$5]++ } END { for (s in n) printf "%s %d  ", s, n[s] }' "$tmp/serve.log")"
echo
echo "Medians over $rounds rounds of $duration:"
echo
echo "| endpoint | connections | requests/s | p50 ms | p99 ms | errors (non-2xx) | bodies checked | requests/s per round | bare sync ms | |"
echo "|---|---:|---:|---:|---:|---:|---|---|---:|---|"
for r in "${rows[@]}"; do
  IFS='|' read -r n c rps p50 p99 err chk per sy ok <<<"$r"
  echo "| $n | $c | $rps | $p50 | $p99 | $err | $chk | $per | $sy | $ok |"
done
echo
echo "Command lines (FV_SESSION, FV_CSRF and FV_LIVENESS_IDS as this script sets them, R the round; from the repository root):"
for c in "${commands[@]}"; do echo "  $c"; done

if wants cycle && ((cycles > 0)); then
  echo
  clip="$faces/short_hamilton_clip.mp4"
  if [[ ! -f "$clip" ]]; then
    echo "== face check-in cycle: no $clip: skipped"
  elif ! command -v node >/dev/null 2>&1 || [[ ! -d tools/node_modules/playwright-core ]] ||
    [[ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]]; then
    echo "== face check-in cycle: needs node, Chromium and tools/node_modules/playwright-core" \
      "(tools/setup-deps, tools/npm-install): skipped"
  else
    cmd=(node bench/http/face_cycle.js --base "$base" --logins "$site/demo-logins.txt"
      --cycles "$cycles" --clip "$clip")
    echo "== face check-in cycle (bare 4 KiB O_DSYNC write before: $(sync_ms) ms):" \
      "${client_pin[*]:+${client_pin[*]} }${cmd[*]}"
    "${client_pin[@]}" "${cmd[@]}" || failed=1
  fi
fi

if ((ledger_persons > 0)); then
  echo
  echo "== library level: ${client_pin[*]:+${client_pin[*]} }$bin bench checkin --persons $ledger_persons --checkins 2000"
  "${client_pin[@]}" "$bin" bench checkin --persons "$ledger_persons" --checkins 2000
fi

exit "$failed"
