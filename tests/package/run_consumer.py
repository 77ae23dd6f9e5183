#!/usr/bin/env python3
"""Package tests: builds tests/package/app.cpp the way a user of ctgrad would, and runs it.

  run_consumer.py --kind pkgconfig|cmake|subproject --build-root B --source-root S --prefix P
                  --libdir L --bindir D --meson MESON --cxx "CXX..." [--march M] [--sanitize S]

pkgconfig and cmake install the build (`meson install --no-rebuild --destdir TMP`) into a temporary
directory, so the installed prefix is TMP/P: never the system. pkgconfig also checks the installed
file tree (headers, library, ctgrad.pc, CMake package, trainers in bin/). subproject assembles a meson
project in BUILD/tests/package/subproject-consumer with subprojects/ctgrad linked to the source tree,
and builds it with --force-fallback-for=ctgrad (kept between runs: the next run is incremental).
Prints each command and its duration; exits non-zero on the first failure.
"""
import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, **kw):
    print('+', ' '.join(shlex.quote(c) for c in cmd), flush=True)
    t = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    print(r.stdout, end='')
    print(f'  ({time.monotonic() - t:.1f} s, exit {r.returncode})', flush=True)
    if r.returncode != 0:
        sys.exit(f'FAIL: exit {r.returncode}: {" ".join(cmd)}')
    return r.stdout


def install(a, tmp):
    dest = os.path.join(tmp, 'dest')
    run([a.meson, 'install', '-C', a.build_root, '--no-rebuild', '--quiet', '--destdir', dest])
    # DESTDIR + prefix, as meson composes them (the prefix is absolute).
    return dest + a.prefix


def check_tree(a, prefix):
    libdir = os.path.join(prefix, a.libdir)
    expected = [
        'include/ctgrad/ctgrad.hpp', 'include/ctgrad/tensor.hpp', 'include/ctgrad/nn/nn.hpp',
        os.path.join(a.libdir, 'pkgconfig/ctgrad.pc'),
        os.path.join(a.libdir, 'cmake/ctgrad/ctgradConfig.cmake'),
        os.path.join(a.libdir, 'cmake/ctgrad/ctgradConfigVersion.cmake'),
    ]
    missing = [f for f in expected if not os.path.isfile(os.path.join(prefix, f))]
    libs = [f for f in os.listdir(libdir) if f.startswith('libctgrad.')]
    if missing or not libs:
        sys.exit(f'FAIL: not installed under {prefix}: {missing or "libctgrad.*"}')
    print('installed library:', ', '.join(sorted(libs)))
    bindir = os.path.join(prefix, a.bindir)
    trainers = sorted(os.listdir(bindir)) if os.path.isdir(bindir) else []
    print('installed programs:', ', '.join(trainers) or '(none: examples disabled)')
    if any(not t.startswith('ctgrad-') for t in trainers):
        sys.exit(f'FAIL: a program in {bindir} without the ctgrad- prefix: {trainers}')
    if 'ctgrad-sgd-trace' in trainers:   # a link into libexec/ctgrad that runs
        out = run([os.path.join(bindir, 'ctgrad-sgd-trace'), '--help'])
        if '--schedule' not in out:
            sys.exit('FAIL: ctgrad-sgd-trace --help does not describe --schedule')


def main():
    p = argparse.ArgumentParser()
    for name in ('kind', 'build-root', 'source-root', 'prefix', 'libdir', 'bindir', 'meson', 'cxx'):
        p.add_argument('--' + name, required=True)
    p.add_argument('--march', default='')
    p.add_argument('--sanitize', default='none')
    a = p.parse_args()
    cxx = shlex.split(a.cxx)
    # A sanitizer build's library needs the sanitizer runtime in the consumer's link too.
    san = [] if a.sanitize in ('', 'none') else ['-fsanitize=' + a.sanitize]
    env = dict(os.environ)
    for var in ('PKG_CONFIG_PATH', 'CMAKE_PREFIX_PATH', 'PKG_CONFIG_LIBDIR'):
        env.pop(var, None)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f'ctgrad_package_{a.kind}_') as tmp:
        if a.kind == 'pkgconfig':
            prefix = install(a, tmp)
            check_tree(a, prefix)
            env['PKG_CONFIG_PATH'] = os.path.join(prefix, a.libdir, 'pkgconfig')
            flags = shlex.split(run(['pkg-config', '--cflags', '--libs', 'ctgrad'], env=env))
            for need in ['-std=c++20', '-pthread'] + (['-march=' + a.march] if a.march else []):
                if need not in flags:
                    sys.exit(f'FAIL: pkg-config --cflags --libs ctgrad lacks {need}')
            exe = os.path.join(tmp, 'app')
            run(cxx + ['-O2', os.path.join(HERE, 'app.cpp')] + flags + san + ['-o', exe], env=env)
        elif a.kind == 'cmake':
            prefix = install(a, tmp)
            build = os.path.join(tmp, 'build')
            run(['cmake', '-S', os.path.join(HERE, 'cmake'), '-B', build, '-G', 'Ninja',
                 '-DCMAKE_BUILD_TYPE=Release', '-DCMAKE_PREFIX_PATH=' + prefix,
                 '-DCMAKE_CXX_COMPILER=' + cxx[-1]]
                + (['-DCMAKE_CXX_COMPILER_LAUNCHER=' + ';'.join(cxx[:-1])] if len(cxx) > 1 else [])
                + (['-DCMAKE_CXX_FLAGS=' + ' '.join(san), '-DCMAKE_EXE_LINKER_FLAGS=' + ' '.join(san)] if san else []),
                env=env)
            run(['cmake', '--build', build, '--verbose'], env=env)
            exe = os.path.join(build, 'app')
        elif a.kind == 'subproject':
            # The consumer project lives in the build tree and is reused, so a second run recompiles
            # only what changed (a first run compiles ctgrad's library sources, about 13 files).
            proj = os.path.join(a.build_root, 'tests', 'package', 'subproject-consumer')
            os.makedirs(os.path.join(proj, 'subprojects'), exist_ok=True)
            shutil.copy(os.path.join(HERE, 'meson', 'meson.build'), proj)
            shutil.copy(os.path.join(HERE, 'app.cpp'), proj)
            link = os.path.join(proj, 'subprojects', 'ctgrad')
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(os.path.abspath(a.source_root), link)
            build = os.path.join(proj, 'build')
            env['CXX'] = a.cxx
            opts = ['--force-fallback-for=ctgrad', '-Db_sanitize=' + (a.sanitize or 'none'),
                    '-Dctgrad:march=' + a.march]
            reconf = ['--reconfigure'] if os.path.isfile(os.path.join(build, 'build.ninja')) else []
            run([a.meson, 'setup', build, proj] + reconf + opts, env=env)
            run([a.meson, 'compile', '-C', build], env=env)
            exe = os.path.join(build, 'app')
        else:
            sys.exit(f'unknown --kind {a.kind}')
        run([exe, os.path.join(tmp, 'labels.idx1')], env=env)
    print(f'ok: {a.kind} consumer built and trained in {time.monotonic() - start:.1f} s')


if __name__ == '__main__':
    main()
