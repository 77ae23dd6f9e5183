#!/bin/sh
# Doxygen input filter (Doxyfile.in): the headers open with "/// \file Summary..." without a file
# name; doxygen needs one. Writes FILE with that line as "/// \file NAME Summary..." (same line count).
name=$(basename -- "$1")
exec sed -e "s|^/// \\\\file \\(.*\\)\$|/// \\\\file $name \\1|" -- "$1"
