#!/usr/bin/env bash
# Installs the pinned npm packages (package-lock.json) into console/node_modules
# when the installed tree does not match the lock file, then bundles the
# console and writes the C++ file that embeds it.
# usage: console/build.sh OUT_DIR CPP_FILE
set -euo pipefail
cd "$(dirname "$0")"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.argus-lock-sha256 ] || [ "$(cat node_modules/.argus-lock-sha256)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > node_modules/.argus-lock-sha256
fi
node build.mjs "$1" "$2"
