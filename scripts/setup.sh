#!/usr/bin/env bash
# One idempotent set-up for `npm start` and `npm test` on a fresh clone:
# system packages, npm packages (which builds the native addon), TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh

# npm packages: (re)install when node_modules is missing or older than the lockfile.
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp || package-lock.json -nt $stamp || package.json -nt $stamp ]]; then
  npm ci --no-audit --no-fund >&2
fi

# Native addon: rebuild when its sources changed since the last build.
addon=native/build/Release/hopscope_native.node
if [[ ! -f $addon ]] || [[ -n $(find native -maxdepth 1 -newer "$addon" \( -name '*.cc' -o -name '*.h' -o -name '*.c' -o -name '*.mjs' -o -name binding.gyp \) 2>/dev/null) ]]; then
  npm run install --silent >&2
fi

npm run build --silent >&2
