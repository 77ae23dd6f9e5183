#!/usr/bin/env bash
# The README's main-job command on a fresh machine, with Fashion-MNIST reachable only through a local
# file:// mirror (a copy of $CTGRAD_DATA_DIR/fashion-mnist).
#   test_first_run.sh README.md data/download.sh BUILD/examples/lenet
# The command is taken from the README and run as written by bash, in a fresh directory W that holds
# only data/download.sh. `meson` on PATH is a stand-in: `meson setup build` makes a build/ whose
# examples/lenet runs the real trainer for 1 epoch on 2000 images, `meson compile` only records its
# arguments (building is what the rest of the suite checks). Cases: no data (the four files are
# fetched, verified and trained on), data present (nothing downloaded, even with the mirror gone),
# $CTGRAD_DATA_DIR pointing at the data, and a mirror whose files fail the published checksums (the
# command fails before training and leaves no file under the real names).
# Exit status: 0 pass, 1 fail, 77 skipped (needs CTGRAD_DATA_DIR and curl).
set -uo pipefail
readme=$1 script=$2 lenet=$(realpath -m -- "$3")
if [[ -z ${CTGRAD_DATA_DIR:-} ]]; then echo "SKIP: CTGRAD_DATA_DIR is not set (the mirror copies it)"; exit 77; fi
if ! command -v curl >/dev/null; then echo "SKIP: curl is not installed (the file:// mirror needs it)"; exit 77; fi
if [[ ! -x $lenet ]]; then echo "SKIP: $lenet not built (-Dexamples=false?)"; exit 77; fi
shared=$CTGRAD_DATA_DIR
fails=0
check() {  # check DESCRIPTION COMMAND...: the command must succeed
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}

mapfile -t cmds < <(grep -E '^\(test -d build \|\| meson setup build.*\) && meson compile .*build/examples/lenet' "$readme")
if [[ ${#cmds[@]} -ne 1 ]]; then echo "FAIL: expected one main-job command line in $readme, found ${#cmds[@]}"; exit 1; fi
cmd=${cmds[0]}
echo "README command: $cmd"
[[ $cmd == *"data/download.sh"* ]] || { echo "FAIL: the main-job command has no data/download.sh step"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctgrad_first_run.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
mkdir -p "$tmp/mirror" "$tmp/bin"
ln -s "$shared"/fashion-mnist/*.gz "$tmp/mirror/"
cat >"$tmp/bin/meson" <<STUB
#!/usr/bin/env bash
echo "meson \$*" >>meson-calls
if [[ \$1 == setup ]]; then
  mkdir -p "\$2/examples"
  printf '#!/bin/sh\nexec "%s" --epochs 1 --limit-train 2000 --out "runs/lenet-\$\$" "\$@"\n' "$lenet" >"\$2/examples/lenet"
  chmod +x "\$2/examples/lenet"
fi
STUB
chmod +x "$tmp/bin/meson"

# run_in W [VAR=VALUE...]: runs the README command in W (a fresh checkout's top level: data/download.sh),
# with the mirror's URL and checksums unless overridden; output in W/out, exit status in rc.
run_in() {
  local w=$1; shift
  mkdir -p "$w/data" && cp "$script" "$w/data/download.sh"
  (cd "$w" && env -u CTGRAD_DATA_DIR PATH="$tmp/bin:$PATH" CTGRAD_DOWNLOADER=curl \
     CTGRAD_FASHION_MNIST_URL="file://$tmp/mirror" CTGRAD_CHECKSUMS="$shared/MD5SUMS" "$@" \
     bash -c "$cmd" >out 2>&1)
  rc=$?
}
downloads() { grep -c '^downloading' "$1/out"; }

# 1. Fresh directory, no data: the four files come from the mirror, then the trainer trains on them.
w=$tmp/fresh
run_in "$w"
check "no data: exit 0" test "$rc" -eq 0
check "no data: meson setup, then compile" test "$(cat "$w/meson-calls" 2>/dev/null)" = "$(printf 'meson setup build -Dmarch=native\nmeson compile -C build -j2')"
check "no data: four files downloaded" test "$(downloads "$w")" -eq 4
check "no data: the files are in ./data/fashion-mnist, as the mirror's" \
  cmp -s "$shared/fashion-mnist/train-images-idx3-ubyte.gz" "$w/data/fashion-mnist/train-images-idx3-ubyte.gz"
check "no data: the trainer ran on them" grep -qE '^train loss [0-9.]+, train acc [0-9.]+, test acc [0-9.]+' "$w/out"

# 2. Same directory again, the mirror gone: nothing is downloaded and the trainer runs.
rm -f "$w/meson-calls"
run_in "$w" CTGRAD_FASHION_MNIST_URL="file://$tmp/no-such-mirror"
check "data present: exit 0" test "$rc" -eq 0
check "data present: no download" test "$(downloads "$w")" -eq 0
check "data present: build/ kept (compile only)" test "$(cat "$w/meson-calls" 2>/dev/null)" = "meson compile -C build -j2"
check "data present: the trainer ran" grep -q 'test acc' "$w/out"

# 3. CTGRAD_DATA_DIR names the data: nothing downloaded, nothing written into ./data.
w=$tmp/envdir
run_in "$w" CTGRAD_DATA_DIR="$shared" CTGRAD_FASHION_MNIST_URL="file://$tmp/no-such-mirror"
check "CTGRAD_DATA_DIR: exit 0, no download" test "$rc" -eq 0 -a "$(downloads "$w")" -eq 0
check "CTGRAD_DATA_DIR: ./data untouched" test ! -e "$w/data/fashion-mnist"
check "CTGRAD_DATA_DIR: the trainer ran" grep -q 'test acc' "$w/out"

# 4. A mirror whose files do not have the published checksums (no CTGRAD_CHECKSUMS): the command
#    stops before training, names the mismatch and leaves no file under the real names.
w=$tmp/mismatch
run_in "$w" CTGRAD_CHECKSUMS=
check "checksum mismatch: the command fails" test "$rc" -ne 0
check "checksum mismatch: named" grep -q 'checksum mismatch: .*train-images-idx3-ubyte.gz.part' "$w/out"
check "checksum mismatch: the trainer did not run" test -z "$(grep 'test acc' "$w/out")"
check "checksum mismatch: no image file, no .part" test -z "$(find "$w/data" -name '*images*')"

[[ $fails -eq 0 ]] || { for f in "$tmp"/*/out; do echo "--- $f"; cat "$f"; done; }
echo "$fails failure(s)"
[[ $fails -eq 0 ]]
