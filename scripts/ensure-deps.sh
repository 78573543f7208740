#!/usr/bin/env bash
# Makes a fresh Debian/Ubuntu machine ready to run Mirror or its tests: Debian packages,
# npm packages (npm ci when node_modules is missing or older than the lockfile) and the SRT addon.
set -euo pipefail
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "Mirror needs Node.js 20 or later (found $(node --version))." >&2
  exit 1
fi

bash scripts/system-packages.sh

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ -f containers/ingest/native/binding.gyp ] && [ ! -f containers/ingest/native/build/Release/mirror_srt.node ]; then
  node scripts/build-native.mjs
fi
