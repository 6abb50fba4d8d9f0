#!/usr/bin/env bash
# Installs the pinned @aws-sdk/client-rekognition (package-lock.json) into
# tests/compat/node_modules from the npm registry; does nothing when the
# installed tree already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f node_modules/.argus-lock-sha256 ] && [ "$(cat node_modules/.argus-lock-sha256)" = "$want" ]; then
  echo "compat: node_modules up to date"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > node_modules/.argus-lock-sha256
