#!/usr/bin/env bash
# COMPLIANCE C7 (face data stays on the site's machine): fairvisit has no code that opens a
# network connection to anywhere. The binary imports none of the calls that make an outgoing
# connection or look up another host (connect, getaddrinfo, gethostbyname, sendto, sendmsg), and
# no fairvisit source file calls them either; the only network code is libmicrohttpd's listening
# side. The pages may talk only to their own origin (Content-Security-Policy connect-src 'self',
# checked by tests/http). Usage: test_no_egress.sh FAIRVISIT_BINARY SOURCE_DIR
set -u
bin="$1" src="$2"
fail=0
calls='connect|getaddrinfo|gethostbyname|gethostbyname_r|sendto|sendmsg|curl_easy_init'
imported="$(nm -D --undefined-only "$bin" | awk '{print $NF}' | sed 's/@.*//' | grep -Ex "$calls" || true)"
if [[ -n "$imported" ]]; then
  echo "FAIL the binary imports outgoing-network calls: $imported"
  fail=1
else
  echo "ok   the binary imports no outgoing-network call ($calls)"
fi
used="$(grep -rnE "\\b($calls)\\s*\\(" "$src/src" --include='*.c' --include='*.h' || true)"
if [[ -n "$used" ]]; then
  echo "FAIL fairvisit sources call outgoing-network functions:"
  echo "$used"
  fail=1
else
  echo "ok   no fairvisit source calls them"
fi
# A check that can fail: the same scan finds such a call when one is there.
probe="$(mktemp -d)"
mkdir -p "$probe/src"
printf 'int f(int s) { return connect(s, 0, 0); }\n' >"$probe/src/probe.c"
if grep -rqE "\\b($calls)\\s*\\(" "$probe/src"; then
  echo "ok   the source scan does find a call when there is one"
else
  echo "FAIL the source scan missed a planted call"
  fail=1
fi
rm -rf "$probe"
exit "$fail"
