#!/usr/bin/env bash
# Installs what the real-VS Code tests need, on a machine that reaches only npm and Debian:
# Debian's Chromium (driven by playwright-core), and code-server 4.96.4 (VS Code 1.96.4 for the
# browser, the newest whose engines.node is 20) from npm, with the fixes its postinstall would
# otherwise need the internet for. Idempotent: a finished install is reused (.tools/.ready).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/.tools"
CS="$TOOLS/node_modules/code-server"
VERSION=4.96.4

if [ -f "$TOOLS/.ready" ] && [ -f "$CS/out/node/entry.js" ] && command -v chromium >/dev/null; then
  exit 0
fi

missing=()
for pkg in chromium ripgrep libkrb5-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-code-server: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

export npm_config_unsafe_perm=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
mkdir -p "$TOOLS"
cd "$TOOLS"
[ -f package.json ] || echo '{ "private": true }' > package.json
echo "setup-code-server: code-server@$VERSION from npm"
npm install --ignore-scripts --no-save "code-server@$VERSION" >/dev/null

cd "$CS/lib/vscode"
# One dependency is pinned to a git URL; the same version is on the registry.
node -e '
  const fs = require("fs");
  const { execSync } = require("child_process");
  const file = "npm-shrinkwrap.json";
  const sw = JSON.parse(fs.readFileSync(file, "utf8"));
  const entry = sw.packages && sw.packages["node_modules/@vscode/proxy-agent"];
  if (entry && !/registry/.test(entry.resolved || "")) {
    const v = entry.version;
    const info = JSON.parse(execSync(`npm view @vscode/proxy-agent@${v} dist --json`, { encoding: "utf8" }));
    entry.resolved = info.tarball;
    entry.integrity = info.integrity;
    fs.writeFileSync(file, JSON.stringify(sw, null, 2));
  }
'
echo "setup-code-server: VS Code server dependencies"
npm install --omit=dev --ignore-scripts >/dev/null
npm rebuild kerberos node-pty @vscode/spdlog @parcel/watcher native-watchdog @vscode/deviceid >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --ignore-scripts >/dev/null)
cd "$TOOLS"
npm rebuild argon2 >/dev/null
"$CS/out/node/entry.js" --version >/dev/null 2>&1 || node "$CS/out/node/entry.js" --version
touch "$TOOLS/.ready"
echo "setup-code-server: ready ($(node "$CS/out/node/entry.js" --version | head -1))"
