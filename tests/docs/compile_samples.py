#!/usr/bin/env python3
"""Compiles every ```cpp code sample of docs/*.md, so the documentation cannot rot.

  compile_samples.py --docs DIR --cxx "CXX..." [--jobs N] -- COMPILER FLAGS...

A sample that contains an #include line or `int main(` is a whole translation unit and is compiled
as written. Any other sample is a fragment: the fragments of one page become one translation unit,
each wrapped in its own function after `#include <ctgrad/ctgrad.hpp>`, some standard headers and
`using namespace ctgrad;` (so a fragment may declare local types, variables and static_asserts, and
run statements). A sample right after a line `<!-- doc-samples: skip -->` is not compiled.
Compilation is -fsyntax-only (templates are still instantiated); errors point at the page's lines
through #line. Exit status: 0 all samples compiled, 1 a sample failed, 2 no samples found.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

PRELUDE = """#include <ctgrad/ctgrad.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>
using namespace ctgrad;
"""


def samples(path):
    """Yields (first code line number, code) for each ```cpp block of a Markdown file."""
    lines = open(path, encoding='utf-8').read().split('\n')
    i = 0
    while i < len(lines):
        if lines[i].strip() == '```cpp':
            skip = i > 0 and lines[i - 1].strip() == '<!-- doc-samples: skip -->'
            start = i + 1
            j = start
            while j < len(lines) and lines[j].strip() != '```':
                j += 1
            if j == len(lines):
                sys.exit(f'{path}:{i + 1}: a ```cpp block without its closing ```')
            if not skip:
                yield start + 1, '\n'.join(lines[start:j])
            i = j
        i += 1


def translation_units(path):
    """Returns [(name, source)] for one page: one per whole-TU sample, one for all its fragments."""
    rel = os.path.relpath(path)
    stem = os.path.splitext(os.path.basename(path))[0]
    tus, fragments = [], []
    for n, (line, code) in enumerate(samples(path)):
        if re.search(r'^\s*#\s*include\b', code, re.M) or re.search(r'\bint\s+main\s*\(', code):
            tus.append((f'{stem}_{n}.cpp', f'#line {line} "{rel}"\n{code}\n'))
        else:
            fragments.append(f'void doc_sample_{n}() {{\n#line {line} "{rel}"\n{code}\n}}\n')
    if fragments:
        tus.append((f'{stem}_fragments.cpp', PRELUDE + '\n'.join(fragments)))
    return tus, len(fragments)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--docs', required=True)
    p.add_argument('--jobs', type=int, default=2)
    p.add_argument('compiler', nargs=argparse.REMAINDER, help='-- compiler command and flags')
    a = p.parse_args()
    cmd = [c for c in a.compiler if c != '--'] if a.compiler[:1] == ['--'] else a.compiler
    if not cmd:
        sys.exit('compile_samples.py: give the compiler command after --')
    pages = sorted(glob.glob(os.path.join(a.docs, '*.md')))
    with tempfile.TemporaryDirectory(prefix='ctgrad_doc_samples_') as tmp:
        jobs, count = [], 0
        for page in pages:
            tus, nfrag = translation_units(page)
            count += nfrag + len(tus) - (1 if nfrag else 0)
            print(f'{os.path.relpath(page)}: {nfrag} fragment(s), {len(tus) - (1 if nfrag else 0)} whole program(s)')
            for name, src in tus:
                f = os.path.join(tmp, name)
                with open(f, 'w') as out:
                    out.write(src)
                jobs.append(f)
        if count == 0:
            print(f'no ```cpp samples in {a.docs}/*.md')
            return 2

        def compile_one(f):
            t = time.monotonic()
            r = subprocess.run(cmd + ['-fsyntax-only', f], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            return f, r, time.monotonic() - t

        failed = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
            for f, r, dt in pool.map(compile_one, jobs):
                status = 'ok' if r.returncode == 0 else 'FAIL'
                print(f'{status}: {os.path.basename(f)} ({dt:.1f} s)')
                if r.returncode != 0:
                    failed += 1
                    print(r.stdout[-20000:])
        print(f'{count} sample(s) in {len(pages)} page(s), {len(jobs)} translation unit(s), {failed} failed')
        return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
