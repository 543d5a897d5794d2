#!/usr/bin/env bash
# Unit, parity and Node integration tests (node:test through tsx): every tests/**/*.test.ts, or the
# files given (`npm run test:unit -- tests/protocol/request.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then mapfile -t files < <(find tests -name '*.test.ts' | sort); else files=("$@"); fi
# Two files at a time: most of this time is single-threaded JavaScript (graph building, tsx start-up,
# CLIs run through npm), so two at once keep both cores of a 2-core machine busy (node's default is
# cores − 1: one file at a time there). Every file works in its own temporary folders and ports.
exec node --import tsx --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
