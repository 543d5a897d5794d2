#!/usr/bin/env bash
# npm run train:nano [-- export|snapshot [dir]] — train (or resume) the LaVie-nano cascade on CPU.
# Debian's python3-torch is the only dependency (installed with apt when missing; never pip).
# OpenBLAS replaces Debian's default reference BLAS, which makes the attention matmuls ~10x slower.
set -euo pipefail
PY=/usr/bin/python3
apt_install() {
  command -v apt-get >/dev/null || { echo "train:nano: apt-get not found; install $* yourself" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"; }
}
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "train:nano: installing python3-torch with apt" >&2
  apt_install python3-torch
fi
if command -v dpkg >/dev/null && ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then
  apt_install libopenblas0-openmp || echo "train:nano: continuing with the reference BLAS (slow)" >&2
fi
export OMP_NUM_THREADS="${LAVIE_THREADS:-2}"
exec "$PY" "$(dirname "$0")/train.py" "$@"
