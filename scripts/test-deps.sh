#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine. Idempotent and quiet
# when everything is already there.
set -euo pipefail

# `test-deps.sh packaging`: only what `make deb rpm` needs (nfpm); `make test`
# does not build packages and does not install it.
if [ "${1:-}" = packaging ]; then
  if ! command -v nfpm >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/nfpm" ]; then
    echo "test-deps: installing nfpm"
    go install github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
  fi
  exit 0
fi
need=()
command -v kcat >/dev/null 2>&1 || need+=(kcat)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-deps: missing ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "test-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
go mod download
