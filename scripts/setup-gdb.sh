#!/usr/bin/env bash
# Installs Debian's gdb for the scripted GDB sessions of `npm test` (test/gdb/), when it is missing.
# Needs root (as CI and the project's machines are) and Debian's package archive. Fails with a
# clear message when gdb cannot be had, so the tests never pass by skipping.
set -euo pipefail
if command -v gdb >/dev/null 2>&1; then exit 0; fi
echo "setup-gdb: gdb is missing; installing Debian's gdb (apt-get)" >&2
if [ "$(id -u)" != 0 ]; then
  echo "setup-gdb: cannot install gdb: not root. Install it (apt-get install gdb) and run the tests again." >&2
  exit 1
fi
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdb >/dev/null; }; then
  echo "setup-gdb: apt-get install gdb failed; the GDB tests need /usr/bin/gdb." >&2
  exit 1
fi
command -v gdb >/dev/null 2>&1 || { echo "setup-gdb: gdb still not found after installing" >&2; exit 1; }
