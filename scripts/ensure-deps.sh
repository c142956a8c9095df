#!/usr/bin/env bash
# Installs what sgdscope needs and a fresh Debian + Node 20 machine lacks. Idempotent and quiet
# when everything is present.
#  - libvulkan1: the Vulkan loader Dawn (npm `webgpu`) opens.
#  - chromium: its SwiftShader Vulkan driver is WebGPU on machines without a GPU, and it is the
#    browser the end-to-end tests drive.
#  - python3-numpy (only when no python3 has numpy): the tests' independent check of saved weights.
#  - node_modules from package-lock.json (npm ci) when missing or older than the lockfile.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
need=()
[ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libvulkan.so.1 ] || ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 || need+=(libvulkan1)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The tests cross-check saved weights with an independent numpy forward pass.
python3 -c 'import numpy' >/dev/null 2>&1 || /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || need+=(python3-numpy)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "sgdscope: installing ${need[*]} (Debian packages)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "sgdscope: missing ${need[*]}; install them (e.g. sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  echo "sgdscope: installing npm packages (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
