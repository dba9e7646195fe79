#!/usr/bin/env bash
# Builds the ailurus .deb or .rpm with nfpm: `scripts/package.sh deb|rpm [OUTDIR]`.
# The version comes from git: the nearest v* tag plus commits since it
# (v0.3.0-5-gabc1234 -> 0.3.0+5.gabc1234), or 0.0.0+git.<commits>.g<hash>
# without a tag; ".dirty" marks uncommitted changes. Both sort the way
# dpkg and rpm expect.
set -euo pipefail
packager=${1:?usage: package.sh deb|rpm [OUTDIR]}
out=${2:-dist}
cd "$(dirname "$0")/.."

version() {
  local d
  if d=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
    d=${d#v}
    # 0.3.0-5-gabc1234-dirty -> 0.3.0+5.gabc1234.dirty; 0.3.0 stays 0.3.0
    if [[ $d == *-* ]]; then
      local base=${d%%-*} rest=${d#*-}
      echo "${base}+${rest//-/.}"
    else
      echo "$d"
    fi
    return
  fi
  local n h dirty=""
  n=$(git rev-list --count HEAD 2>/dev/null || echo 0)
  h=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  git diff --quiet HEAD -- 2>/dev/null || dirty=".dirty"
  echo "0.0.0+git.${n}.g${h}${dirty}"
}

NFPM=${NFPM:-$(command -v nfpm || echo "$(go env GOPATH)/bin/nfpm")}
[ -x "$NFPM" ] || ./scripts/test-deps.sh packaging
export VERSION=${VERSION:-$(version)}
export GOARCH=${GOARCH:-$(go env GOARCH)}
# nfpm.yaml ships dist/pkgroot/ailurus. BINARY=path ships an already built
# binary instead of building one.
mkdir -p "$out" dist/pkgroot
if [ -n "${BINARY:-}" ]; then
  install -m 0755 "$BINARY" dist/pkgroot/ailurus
else
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  CGO_ENABLED=0 GOOS=linux go build -trimpath \
    -ldflags "-s -w -X main.version=$VERSION -X main.commit=$commit" \
    -o dist/pkgroot/ailurus ./cmd/ailurus
fi
"$NFPM" package --config packaging/nfpm.yaml --packager "$packager" --target "$out/"
