#!/usr/bin/env bash
# Unit, parity and Node integration tests (node:test through tsx): every tests/**/*.test.ts, or the
# files given (`npm run test:unit -- tests/protocol/request.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then mapfile -t files < <(find tests -name '*.test.ts' | sort); else files=("$@"); fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
