#!/usr/bin/env bash
# Installs Debian's gdb for the scripted GDB sessions of `npm test` (test/gdb/), when it is missing.
# Needs root (as CI and the project's machines are) and Debian's package archive. Fails with a
# clear message when gdb cannot be had, so the tests never pass by skipping.
set -euo pipefail
# gdb for the x86 workloads; gdb-multiarch (Debian's gdb built for every target) for arm64.
if command -v gdb >/dev/null 2>&1 && command -v gdb-multiarch >/dev/null 2>&1; then exit 0; fi
echo "setup-gdb: gdb or gdb-multiarch is missing; installing Debian's (apt-get)" >&2
if [ "$(id -u)" != 0 ]; then
  echo "setup-gdb: cannot install them: not root. Install them (apt-get install gdb gdb-multiarch) and run the tests again." >&2
  exit 1
fi
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdb gdb-multiarch >/dev/null; }; then
  echo "setup-gdb: apt-get install gdb gdb-multiarch failed; the GDB tests need both." >&2
  exit 1
fi
for g in gdb gdb-multiarch; do
  command -v "$g" >/dev/null 2>&1 || { echo "setup-gdb: $g still not found after installing" >&2; exit 1; }
done
