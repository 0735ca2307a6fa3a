#!/usr/bin/env bash
# CLI contract of `fairvisit faces|embed|compare` (../shared/docs/PRODUCT.md §6): one JSON line per
# image, an unreadable file gives an "error" line and the run goes on with a non-zero exit
# status, embed adds 512 floats per usable face, compare prints similarity/same/threshold and
# fails clearly when an image has no usable face. Skips (77) without models or photos.
# Usage: test_cli_faces.sh FAIRVISIT_BINARY MODELS_DIR FACES_DIR
set -u
bin="$1" models="$2" faces="${FV_FACES_DIR:-$3}"
export FV_MODELS_DIR="${FV_MODELS_DIR:-$models}"
if [[ ! -f "$FV_MODELS_DIR/fr_detect.onnx" || ! -f "$faces/obama.jpg" ]]; then
  echo "SKIP: models ($FV_MODELS_DIR) or photos ($faces) not found"
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

printf 'not an image\n' >"$tmp/notes.jpg"
"$bin" faces --json "$faces/obama.jpg" "$tmp/notes.jpg" "$faces/two_people.jpg" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "faces exits non-zero when one file fails" test "$rc" -ne 0
check "faces prints one line per image" test "$(wc -l <"$tmp/out")" -eq 3
check "first line has a usable face" grep -q '"usable": true' <(sed -n 1p "$tmp/out")
check "unreadable file gives an error line" grep -q '"error": "unrecognised image format' <(sed -n 2p "$tmp/out")
check "the run goes on after an error" grep -q 'two_people.jpg' <(sed -n 3p "$tmp/out")
check "faces has no embeddings" bash -c "! grep -q embedding '$tmp/out'"
check "the error line does not echo file contents" bash -c "! grep -q 'not an image' '$tmp/out' '$tmp/err'"

"$bin" embed --json --threads 2 "$faces/obama.jpg" "$faces/biden.jpg" >"$tmp/emb" 2>"$tmp/err"
check "embed succeeds" test $? -eq 0
n=$(sed -n 1p "$tmp/emb" | grep -o '"embedding": \[[^]]*\]' | tr ',' '\n' | wc -l)
check "embed gives 512 values for the usable face (got $n)" test "$n" -eq 512
check "embed keeps input order with threads" grep -q 'biden.jpg' <(sed -n 2p "$tmp/emb")

"$bin" compare --json "$faces/obama.jpg" "$faces/obama2.jpg" >"$tmp/cmp"
check "compare same person" grep -q '"same": true' "$tmp/cmp"
check "compare prints the threshold" grep -q '"threshold": 0.4' "$tmp/cmp"
"$bin" compare --json "$faces/obama.jpg" "$faces/biden.jpg" >"$tmp/cmp"
check "compare different people" grep -q '"same": false' "$tmp/cmp"
"$bin" compare "$faces/obama.jpg" "$tmp/notes.jpg" >"$tmp/cmp" 2>"$tmp/err"
rc=$?
check "compare fails on a file without a face" test "$rc" -ne 0
check "compare says why" grep -q "image B: unrecognised image format" "$tmp/err"
check "compare does not echo file names" bash -c "! grep -q notes.jpg '$tmp/err'"
"$bin" faces >/dev/null 2>&1
check "usage error is exit status 2" test $? -eq 2

if [[ $fail -ne 0 ]]; then echo "some CLI checks failed"; exit 1; fi
echo "all CLI checks passed"
