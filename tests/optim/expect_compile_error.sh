#!/bin/sh
# Usage: expect_compile_error.sh <expected-substring> <compiler> <args...>
# Succeeds only if the compilation FAILS and the compiler's output contains the substring
# (so a compile-fail test cannot pass because of an unrelated error, e.g. a missing header).
expected=$1
shift
out=$("$@" 2>&1)
status=$?
if [ "$status" -eq 0 ]; then
    echo "FAIL: the program compiled, but it must not"
    exit 1
fi
if printf '%s\n' "$out" | grep -qF -- "$expected"; then
    echo "OK: compilation failed and the error mentions: $expected"
    printf '%s\n' "$out" | grep -F -- "$expected" | head -n 3
    exit 0
fi
echo "FAIL: compilation failed, but the error does not mention: $expected"
printf '%s\n' "$out"
exit 1
