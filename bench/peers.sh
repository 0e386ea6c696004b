#!/usr/bin/env bash
# Installs the peer scanners into bench/.cache (idempotent) and prints the two
# binaries' paths as shell assignments: CHECKOV=... TRIVY=...
#
# Sourced by bench/run and called by bench/agreement. Versions are pinned so
# results can be reproduced; bump them here and re-run to compare.
set -euo pipefail

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
TRIVY_VERSION="${TRIVY_VERSION:-v0.74.0}"

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${bench_dir}/.cache"
mkdir -p "${cache}/bin"

log() { printf '[peers] %s\n' "$*" >&2; }

install_checkov() {
  local venv="${cache}/checkov-venv"
  local marker="${venv}/.installed-${CHECKOV_VERSION}"
  if [[ -x "${venv}/bin/checkov" && -f "${marker}" ]]; then
    return
  fi
  log "installing checkov ${CHECKOV_VERSION} into ${venv}"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install --quiet "checkov==${CHECKOV_VERSION}" >&2
  touch "${marker}"
}

install_trivy() {
  local bin="${cache}/bin/trivy"
  local marker="${cache}/bin/.trivy-${TRIVY_VERSION}"
  if [[ -x "${bin}" && -f "${marker}" ]]; then
    return
  fi
  command -v go >/dev/null || { log "go is required to build trivy"; exit 2; }
  log "building trivy ${TRIVY_VERSION} (takes several minutes on 2 cores)"
  # Trivy uses encoding/json/v2, still behind an experiment flag in Go.
  GOEXPERIMENT=jsonv2 GOBIN="${cache}/bin" go install "github.com/aquasecurity/trivy/cmd/trivy@${TRIVY_VERSION}" >&2
  rm -f "${cache}"/bin/.trivy-*
  touch "${marker}"
}

install_checkov
install_trivy
printf 'CHECKOV=%q\nTRIVY=%q\n' "${cache}/checkov-venv/bin/checkov" "${cache}/bin/trivy"
