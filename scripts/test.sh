#!/usr/bin/env bash
# The one test command (README: `npm test`): typecheck, unit + parity tests (Node), then the
# end-to-end suite in Debian's Chromium with WebGPU on SwiftShader.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-chromium.sh
npm run --silent typecheck
bash scripts/test-unit.sh
# Tests tagged @slow (LaVie option 4 end to end: ~10 min on SwiftShader) run in CI after this
# command (`.ci/run`), or by hand: `npx playwright test --grep @slow`.
npx playwright test --grep-invert @slow
