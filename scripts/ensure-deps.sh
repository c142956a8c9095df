#!/usr/bin/env bash
# Installs what sgdscope needs and a fresh Debian + Node 20 machine lacks. Idempotent and quiet
# when everything is present.
#  - libvulkan1: the Vulkan loader Dawn (npm `webgpu`) opens.
#  - chromium: its SwiftShader Vulkan driver is WebGPU on machines without a GPU, and it is the
#    browser the end-to-end tests drive.
#  - python3-numpy (only when no python3 has numpy): the tests' independent check of saved weights.
#  - redis-server, only when the job queue needs one here: `./sgdscope test` (the queue tests start
#    their own on a free 127.0.0.1 port), a --queue URL naming this machine, or `ensure-deps.sh redis`.
#  - node_modules from package-lock.json (npm ci) when missing or older than the lockfile.
# Arguments: the launcher's (e.g. `test tests/x.test.ts`, `sweep --queue redis://127.0.0.1/0`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
need=()
[ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libvulkan.so.1 ] || ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 || need+=(libvulkan1)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The tests cross-check saved weights with an independent numpy forward pass.
python3 -c 'import numpy' >/dev/null 2>&1 || /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || need+=(python3-numpy)
needs_redis() {
  local prev="" a
  case "${1:-}" in
    redis) return 0 ;;
    test)
      shift
      # The whole suite, or a queue test file.
      [ $# -eq 0 ] && return 0
      for a in "$@"; do case "$a" in *queue*) return 0 ;; esac; done
      return 1 ;;
  esac
  for a in "$@"; do
    local url=""
    case "$a" in --queue=*) url="${a#--queue=}" ;; *) [ "$prev" = "--queue" ] && url="$a" ;; esac
    prev="$a"
    case "$url" in redis://localhost*|redis://127.*|redis://\[::1\]*|redis://*@localhost*|redis://*@127.*) return 0 ;; esac
  done
  return 1
}
if needs_redis "$@" && ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then need+=(redis-server); fi
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
