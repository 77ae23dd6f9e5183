#!/bin/sh
# Usage: check_headers.sh INCLUDE_DIR COMPILER [ARGS...]
# Compiles every public header under INCLUDE_DIR/ctgrad alone (syntax only, included twice), so a
# header that uses something without including it, or lacks its include guard, fails here rather
# than in a user's program that happens to include it first. Two headers at a time.
dir=$1; shift
export CHECK_HEADERS_DIR="$dir"
cd "$dir" || exit 1
find ctgrad -name '*.hpp' | sort | xargs -P 2 -I{} sh -c '
  h=$1; shift
  out=$(printf "#include <%s>\n#include <%s>\n" "$h" "$h" | "$@" -I"$CHECK_HEADERS_DIR" -fsyntax-only -x c++ - 2>&1)
  if [ $? -ne 0 ]; then printf "FAIL: %s\n%s\n" "$h" "$(printf "%s\n" "$out" | head -15)"; exit 1; fi
  echo "ok: $h"' sh {} "$@"
