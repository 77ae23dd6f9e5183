#!/usr/bin/env bash
# Tests data/download.sh without internet: syntax, argument errors, checksum verification, and full runs
# against a local file:// mirror (curl reads file:// URLs).
#   test_download.sh PATH/TO/download.sh
# With CTGRAD_DATA_DIR set, it also downloads the whole shared Fashion-MNIST copy through the mirror:
# rejected against the published md5 (its images are a rebuilt copy), accepted with CTGRAD_CHECKSUMS,
# and --if-missing runs that download nothing or only a missing file.
set -uo pipefail
script=$1
fails=0
check() {  # check DESCRIPTION COMMAND...: the command must succeed
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctgrad_download_test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

check "bash -n" bash -n "$script"

bash "$script" >"$tmp/out" 2>&1; rc=$?
check "no DIR: exit 2" test "$rc" -eq 2
check "no DIR: usage message" grep -q "usage:" "$tmp/out"
bash "$script" "$tmp/x" mnist >"$tmp/out" 2>&1; rc=$?
check "unknown data set: exit 2" test "$rc" -eq 2
check "unknown data set: message" grep -q "unknown data set mnist" "$tmp/out"

# The functions, sourced (main does not run when sourced).
# shellcheck source=/dev/null
source "$script"
printf 'hello\n' >"$tmp/hello"
check "md5 of a known file" test "$(checksum md5 "$tmp/hello")" = b1946ac92492d2347c6235b4d2611184
check "sha1 of a known file" test "$(checksum sha1 "$tmp/hello")" = f572d396fae9206628714fb2ce00f72e94f2258f
check "verify_file accepts the right md5" verify_file "$tmp/hello" md5 b1946ac92492d2347c6235b4d2611184
verify_file "$tmp/hello" md5 00000000000000000000000000000000 2>"$tmp/err"; rc=$?
check "verify_file rejects a wrong md5" test "$rc" -ne 0
check "mismatch message names file and both sums" \
  grep -q "checksum mismatch: $tmp/hello: expected md5 00000000000000000000000000000000, got b1946ac92492d2347c6235b4d2611184" "$tmp/err"
verify_file "$tmp/nothing" sha1 f572d396fae9206628714fb2ce00f72e94f2258f 2>"$tmp/err"; rc=$?
check "verify_file reports a missing file" test "$rc" -ne 0 -a -n "$(grep "missing: $tmp/nothing" "$tmp/err")"

bash "$script" --verify-only --if-missing "$tmp/x" >"$tmp/out" 2>&1; rc=$?
check "--verify-only with --if-missing: exit 2" test "$rc" -eq 2
printf 'd41d8cd98f00b204e9800998ecf8427e  fashion-mnist/a\nnot a checksum line\n' >"$tmp/sums"
CTGRAD_CHECKSUMS="$tmp/sums" bash "$script" --verify-only "$tmp/x" >"$tmp/out" 2>&1; rc=$?
check "bad CTGRAD_CHECKSUMS line: exit 2 naming file and line" test "$rc" -eq 2 -a -n "$(grep "$tmp/sums:2: expected" "$tmp/out")"

# --verify-only on an empty directory fails and names the missing files.
bash "$script" --verify-only "$tmp/empty" >"$tmp/out" 2>&1; rc=$?
check "--verify-only on missing files: exit 1" test "$rc" -eq 1
check "--verify-only names a missing file" grep -q "missing: $tmp/empty/fashion-mnist/train-images-idx3-ubyte.gz" "$tmp/out"

if command -v curl >/dev/null; then
  # A mirror serving a damaged airfoil file: the download must fail and leave nothing behind.
  mkdir -p "$tmp/mirror"
  printf '800\t0\t0.3048\t71.3\t0.00266337\t126.201\r\n' >"$tmp/mirror/airfoil_self_noise.dat"
  CTGRAD_DOWNLOADER=curl CTGRAD_AIRFOIL_URL="file://$tmp/mirror/airfoil_self_noise.dat" \
    bash "$script" "$tmp/dl" airfoil >"$tmp/out" 2>&1; rc=$?
  check "damaged download: exit 1" test "$rc" -eq 1
  check "damaged download: checksum message" grep -q "does not have the published checksum" "$tmp/out"
  check "damaged download: no file left" test ! -e "$tmp/dl/airfoil/airfoil_self_noise.dat" -a ! -e "$tmp/dl/airfoil/airfoil_self_noise.dat.part"
  CTGRAD_DOWNLOADER=curl CTGRAD_AIRFOIL_URL="file://$tmp/mirror/does-not-exist" \
    bash "$script" "$tmp/dl" airfoil >"$tmp/out" 2>&1; rc=$?
  check "failed download: exit 1 and message" test "$rc" -eq 1 -a -n "$(grep 'download failed' "$tmp/out")"

  # With the real files (official labels and airfoil file), a full successful run through the mirror.
  if [[ -n ${CTGRAD_DATA_DIR:-} && -f $CTGRAD_DATA_DIR/airfoil/airfoil_self_noise.dat ]]; then
    cp "$CTGRAD_DATA_DIR/airfoil/airfoil_self_noise.dat" "$tmp/mirror/"
    cp "$CTGRAD_DATA_DIR"/fashion-mnist/*-labels-idx1-ubyte.gz "$tmp/mirror/"
    CTGRAD_DOWNLOADER=curl CTGRAD_AIRFOIL_URL="file://$tmp/mirror/airfoil_self_noise.dat" \
      bash "$script" "$tmp/real" airfoil >"$tmp/out" 2>&1; rc=$?
    check "real airfoil file: download verified" test "$rc" -eq 0 -a -f "$tmp/real/airfoil/airfoil_self_noise.dat"
    bash "$script" --verify-only "$tmp/real" airfoil >"$tmp/out" 2>&1; rc=$?
    check "real airfoil file: --verify-only passes" test "$rc" -eq 0
    # The label files are byte-identical to the official ones; the image files in the shared copy are
    # not (see data/README.md), so a fashion-mnist run downloads the labels and rejects the images.
    CTGRAD_DOWNLOADER=curl CTGRAD_FASHION_MNIST_URL="file://$tmp/mirror" \
      bash "$script" "$tmp/real" fashion-mnist >"$tmp/out" 2>&1; rc=$?
    check "official label files verified" test -f "$tmp/real/fashion-mnist/train-labels-idx1-ubyte.gz" -a -f "$tmp/real/fashion-mnist/t10k-labels-idx1-ubyte.gz"
    check "missing images make the run fail" test "$rc" -eq 1

    # A mirror of the whole shared copy: its image files do not have the published md5, so the download
    # fails with a checksum mismatch and leaves nothing under the real names (nor a .part).
    mkdir -p "$tmp/fmirror"
    ln -s "$CTGRAD_DATA_DIR"/fashion-mnist/*.gz "$tmp/fmirror/"
    CTGRAD_DOWNLOADER=curl CTGRAD_FASHION_MNIST_URL="file://$tmp/fmirror" \
      bash "$script" "$tmp/fm" fashion-mnist >"$tmp/out" 2>&1; rc=$?
    check "shared images vs published md5: exit 1" test "$rc" -eq 1
    check "shared images vs published md5: mismatch named" \
      grep -q "checksum mismatch: $tmp/fm/fashion-mnist/train-images-idx3-ubyte.gz.part: expected md5 8d4fb7e6c68d591d4c3dfef9ec88bf0d" "$tmp/out"
    check "checksum mismatch: no image file, no .part" \
      test -z "$(find "$tmp/fm" -name '*images*')"
    # The same mirror with its own MD5SUMS (CTGRAD_CHECKSUMS): all four files verified, byte-identical.
    CTGRAD_DOWNLOADER=curl CTGRAD_FASHION_MNIST_URL="file://$tmp/fmirror" CTGRAD_CHECKSUMS="$CTGRAD_DATA_DIR/MD5SUMS" \
      bash "$script" "$tmp/fm" fashion-mnist >"$tmp/out" 2>&1; rc=$?
    check "CTGRAD_CHECKSUMS: the mirror's copy verified" test "$rc" -eq 0
    same=1
    for f in "$CTGRAD_DATA_DIR"/fashion-mnist/*.gz; do cmp -s "$f" "$tmp/fm/fashion-mnist/${f##*/}" || same=0; done
    check "CTGRAD_CHECKSUMS: the four files are the mirror's" test "$same" -eq 1
    # --if-missing with everything present downloads nothing, even from an unreachable mirror.
    CTGRAD_DOWNLOADER=curl CTGRAD_FASHION_MNIST_URL="file://$tmp/no-such-mirror" \
      bash "$script" --if-missing "$tmp/fm" fashion-mnist >"$tmp/out" 2>&1; rc=$?
    check "--if-missing, all present: exit 0" test "$rc" -eq 0
    check "--if-missing, all present: nothing downloaded" test "$(grep -c '^downloading' "$tmp/out")" -eq 0
    # One file gone: --if-missing fetches that one only (and verifies it).
    rm "$tmp/fm/fashion-mnist/t10k-labels-idx1-ubyte.gz"
    CTGRAD_DOWNLOADER=curl CTGRAD_FASHION_MNIST_URL="file://$tmp/fmirror" CTGRAD_CHECKSUMS="$CTGRAD_DATA_DIR/MD5SUMS" \
      bash "$script" --if-missing "$tmp/fm" fashion-mnist >"$tmp/out" 2>&1; rc=$?
    check "--if-missing, one file gone: exit 0" test "$rc" -eq 0
    check "--if-missing, one file gone: only it downloaded" \
      test "$(grep -c '^downloading' "$tmp/out")" -eq 1 -a -n "$(grep '^downloading .*t10k-labels' "$tmp/out")"
  else
    echo "skip: CTGRAD_DATA_DIR not set; the successful-download path is not exercised"
  fi
else
  echo "skip: curl not installed; the file:// mirror tests need it"
fi

echo "$fails failure(s)"
[[ $fails -eq 0 ]]
