#!/usr/bin/env python3
"""Runs Doxygen over include/ctgrad with the build's Doxyfile (no HTML, into a temporary directory) and
fails if any public entity is undocumented ("... is not documented"), listing them.

  check_api_docs.py DOXYGEN DOXYFILE
Exit status: 0 none undocumented, 1 some are (or doxygen failed).
"""
import os
import subprocess
import sys
import tempfile

doxygen, doxyfile = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory(prefix='ctgrad_api_docs_') as tmp:
    log = os.path.join(tmp, 'warnings.log')
    config = open(doxyfile).read() + f'\nOUTPUT_DIRECTORY = {tmp}\nWARN_LOGFILE = {log}\nGENERATE_HTML = NO\n'
    r = subprocess.run([doxygen, '-'], input=config, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(r.stdout)
        sys.exit(f'doxygen failed with exit status {r.returncode}')
    warnings = open(log).read().splitlines() if os.path.exists(log) else []
undocumented = sorted({w for w in warnings if 'is not documented' in w})
other = len(warnings) - len([w for w in warnings if 'is not documented' in w])
print(f'{len(undocumented)} undocumented entities, {other} other doxygen warnings (formatting; not checked)')
for w in undocumented:
    print(w)
sys.exit(1 if undocumented else 0)
