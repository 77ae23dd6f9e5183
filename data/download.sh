#!/usr/bin/env bash
# Downloads the data sets ctgrad's examples and tests use, and verifies their published checksums.
#
#   data/download.sh [--verify-only | --if-missing] DIR [fashion-mnist] [airfoil]
#
# Writes DIR/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz and
# DIR/airfoil/airfoil_self_noise.dat (the layout ctgrad reads; see data/README.md). Without data-set
# names both are fetched. Files already present with the right checksum are kept. A download goes to
# FILE.part and is moved into place only after its checksum matched, so a failed run never leaves a
# damaged file under the real name. --verify-only checks the files in DIR without downloading.
# --if-missing downloads only the files that do not exist and leaves present ones alone, unverified
# (the first-run step of the README's main-job command: with the data there it downloads nothing).
#
# Environment: CTGRAD_FASHION_MNIST_URL (base URL, default the official one), CTGRAD_AIRFOIL_URL (full
# URL, default d2l's data hub), CTGRAD_DOWNLOADER (curl or wget; default: whichever exists, curl first),
# CTGRAD_CHECKSUMS (an md5sum/sha1sum-style file, "HASH  fashion-mnist/NAME" lines, whose entries replace
# the published checksums: for a mirror that serves a different copy, e.g. ../shared/data/MD5SUMS).
# Exit status: 0 all files present and verified, 1 a download or checksum failed, 2 bad arguments.

FASHION_MNIST_URL_DEFAULT="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
AIRFOIL_URL_DEFAULT="http://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat"

# name  algorithm  published checksum (from the data set's authors / d2l's data hub)
FASHION_MNIST_FILES=(
  "train-images-idx3-ubyte.gz md5 8d4fb7e6c68d591d4c3dfef9ec88bf0d"
  "train-labels-idx1-ubyte.gz md5 25c81989df183df01b3e8a0aad5dffbe"
  "t10k-images-idx3-ubyte.gz md5 bef4ecab320f06d8554ea6380940ec79"
  "t10k-labels-idx1-ubyte.gz md5 bb300cfdad3c16e7a12a480ee83cd310"
)
AIRFOIL_FILE="airfoil_self_noise.dat sha1 76e5be1548fd8222e5074cf0faae75edff8cf93f"

die_usage() {
  echo "usage: $0 [--verify-only | --if-missing] DIR [fashion-mnist] [airfoil]" >&2
  [[ $# -gt 0 ]] && echo "error: $*" >&2
  exit 2
}

# checksum ALGO FILE: prints the hex digest (md5 or sha1), with GNU or BSD tools.
checksum() {
  local algo=$1 file=$2
  case $algo in
    md5)
      if command -v md5sum >/dev/null; then md5sum -- "$file" | cut -d' ' -f1
      elif command -v md5 >/dev/null; then md5 -q -- "$file"
      else echo "error: neither md5sum nor md5 found" >&2; return 1; fi ;;
    sha1)
      if command -v sha1sum >/dev/null; then sha1sum -- "$file" | cut -d' ' -f1
      elif command -v shasum >/dev/null; then shasum -a 1 -- "$file" | cut -d' ' -f1
      else echo "error: neither sha1sum nor shasum found" >&2; return 1; fi ;;
    *) echo "error: unknown checksum algorithm $algo" >&2; return 1 ;;
  esac
}

# verify_file FILE ALGO EXPECTED: 0 if FILE exists and has the checksum; otherwise prints why, returns 1.
verify_file() {
  local file=$1 algo=$2 expected=$3 actual
  if [[ ! -f $file ]]; then
    echo "missing: $file" >&2
    return 1
  fi
  actual=$(checksum "$algo" "$file") || return 1
  if [[ $actual != "$expected" ]]; then
    echo "checksum mismatch: $file: expected $algo $expected, got $actual" >&2
    return 1
  fi
  return 0
}

# load_checksums FILE: reads "HASH  RELATIVE/PATH" lines (md5 if HASH has 32 hex digits, sha1 if 40)
# into CHECKSUM_OVERRIDE; a line of another form is an error naming the file and line (exit 2).
declare -A CHECKSUM_OVERRIDE=()
load_checksums() {
  local file=$1 line n=0 hash path
  [[ -r $file ]] || { echo "error: CTGRAD_CHECKSUMS=$file: cannot read the file" >&2; exit 2; }
  while IFS= read -r line || [[ -n $line ]]; do
    n=$((n + 1))
    [[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
    if [[ $line =~ ^([0-9a-fA-F]+)[[:space:]]+\*?(.+)$ ]]; then
      hash=${BASH_REMATCH[1],,} path=${BASH_REMATCH[2]}
      case ${#hash} in
        32) CHECKSUM_OVERRIDE[$path]="md5 $hash" ;;
        40) CHECKSUM_OVERRIDE[$path]="sha1 $hash" ;;
        *) echo "error: $file:$n: expected an md5 (32 hex digits) or sha1 (40) checksum, got ${#hash} digits" >&2; exit 2 ;;
      esac
    else
      echo "error: $file:$n: expected \"HASH  PATH\" (as md5sum writes), got: $line" >&2
      exit 2
    fi
  done <"$file"
}

# pick_downloader: prints curl or wget.
pick_downloader() {
  if [[ -n ${CTGRAD_DOWNLOADER:-} ]]; then
    command -v "$CTGRAD_DOWNLOADER" >/dev/null || { echo "error: CTGRAD_DOWNLOADER=$CTGRAD_DOWNLOADER not found" >&2; return 1; }
    echo "$CTGRAD_DOWNLOADER"
  elif command -v curl >/dev/null; then echo curl
  elif command -v wget >/dev/null; then echo wget
  else echo "error: neither curl nor wget is installed" >&2; return 1
  fi
}

# fetch URL DEST: downloads URL to DEST (failing on HTTP errors).
fetch() {
  local url=$1 dest=$2 tool
  tool=$(pick_downloader) || return 1
  case $tool in
    curl) curl --fail --location --silent --show-error --retry 3 --output "$dest" -- "$url" ;;
    wget) wget --quiet --tries=3 --output-document="$dest" -- "$url" ;;
    *) echo "error: unsupported downloader $tool (use curl or wget)" >&2; return 1 ;;
  esac
}

# get_file URL DEST ALGO EXPECTED MODE: makes DEST a verified copy of URL. MODE: download (a present
# file is kept if it verifies), verify (no download), if-missing (a present file is kept as it is).
get_file() {
  local url=$1 dest=$2 algo=$3 expected=$4 mode=$5
  if [[ $mode == verify ]]; then
    verify_file "$dest" "$algo" "$expected" && echo "ok: $dest"
    return
  fi
  if [[ $mode == if-missing && -f $dest ]]; then
    echo "ok (present, not downloaded): $dest"
    return 0
  fi
  if [[ -f $dest ]] && verify_file "$dest" "$algo" "$expected" 2>/dev/null; then
    echo "ok (already present): $dest"
    return 0
  fi
  mkdir -p -- "$(dirname -- "$dest")"
  echo "downloading $url -> $dest"
  rm -f -- "$dest.part"
  if ! fetch "$url" "$dest.part"; then
    rm -f -- "$dest.part"
    echo "error: download failed: $url" >&2
    return 1
  fi
  if ! verify_file "$dest.part" "$algo" "$expected"; then
    rm -f -- "$dest.part"
    echo "error: $url: the downloaded file does not have the published checksum (damaged download or a changed file); removed it" >&2
    return 1
  fi
  mv -f -- "$dest.part" "$dest"
  echo "ok: $dest"
}

main() {
  local mode=download dir="" sets=() failed=0
  while [[ $# -gt 0 ]]; do
    case $1 in
      --verify-only|--if-missing)
        [[ $mode == download ]] || die_usage "--verify-only and --if-missing exclude each other"
        mode=${1#--}; mode=${mode%-only} ;;
      -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      -*) die_usage "unknown option $1" ;;
      *) if [[ -z $dir ]]; then dir=$1
         else
           case $1 in fashion-mnist|airfoil) sets+=("$1") ;; *) die_usage "unknown data set $1 (fashion-mnist or airfoil)" ;; esac
         fi ;;
    esac
    shift
  done
  [[ -n $dir ]] || die_usage "missing DIR"
  [[ ${#sets[@]} -gt 0 ]] || sets=(fashion-mnist airfoil)
  [[ -z ${CTGRAD_CHECKSUMS:-} ]] || load_checksums "$CTGRAD_CHECKSUMS"

  local base=${CTGRAD_FASHION_MNIST_URL:-$FASHION_MNIST_URL_DEFAULT} entry name algo sum set
  [[ $base == */ ]] || base="$base/"
  for set in "${sets[@]}"; do
    case $set in
      fashion-mnist)
        for entry in "${FASHION_MNIST_FILES[@]}"; do
          read -r name algo sum <<<"$entry"
          read -r algo sum <<<"${CHECKSUM_OVERRIDE[fashion-mnist/$name]:-$algo $sum}"
          get_file "$base$name" "$dir/fashion-mnist/$name" "$algo" "$sum" "$mode" || failed=1
        done ;;
      airfoil)
        read -r name algo sum <<<"$AIRFOIL_FILE"
        read -r algo sum <<<"${CHECKSUM_OVERRIDE[airfoil/$name]:-$algo $sum}"
        get_file "${CTGRAD_AIRFOIL_URL:-$AIRFOIL_URL_DEFAULT}" "$dir/airfoil/$name" "$algo" "$sum" "$mode" || failed=1 ;;
    esac
  done
  if [[ $failed != 0 ]]; then
    echo "FAILED: some files are missing or damaged (see above)" >&2
    return 1
  fi
  if [[ $mode == if-missing ]]; then echo "all files present in $dir"
  else echo "all files present and verified in $dir"; fi
}

# Run only when executed, so tests can source the functions (without changing their shell's options).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  main "$@"
fi
