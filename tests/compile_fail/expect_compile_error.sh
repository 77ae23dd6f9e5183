#!/bin/sh
# Usage: expect_compile_error.sh EXPECTED SOURCE COMPILER [ARGS...]
# Passes only if compiling SOURCE fails AND the diagnostics contain EXPECTED, so a program that
# fails for another reason (a typo, a missing header) does not count as a passing check.
expected=$1; src=$2; shift 2
out=$("$@" -fsyntax-only "$src" 2>&1)
if [ $? -eq 0 ]; then
    echo "FAIL: $src compiled, but it must not"; exit 1
fi
if printf '%s' "$out" | grep -qF -- "$expected"; then
    echo "ok: $src fails to compile with: $expected"; exit 0
fi
printf '%s\n' "$out" | head -40
echo "FAIL: $src failed to compile, but its diagnostics lack: $expected"; exit 1
