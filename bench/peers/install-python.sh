#!/usr/bin/env bash
# Bench-only: installs Debian's python3-sklearn and python3-torch (with python3-numpy, python3-scipy)
# for bench/peers/authors_pipeline.py — the Feng–Tu authors' PCA (sklearn) and flatness (torch)
# measured side by side with sgdscope's on the same machine. The tests never need them; the bench
# skips these peers when /usr/bin/python3 cannot import them. Idempotent.
set -euo pipefail
if /usr/bin/python3 -c 'import sklearn, torch, numpy, scipy' >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench: the Python peers need Debian's python3-sklearn python3-torch (apt-get install as root)" >&2
  exit 1
fi
echo "bench: installing python3-sklearn python3-torch (Debian packages)"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-torch python3-numpy python3-scipy >/dev/null
