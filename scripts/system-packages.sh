#!/usr/bin/env bash
# Installs the Debian packages Mirror's tests and local platform need.
# Shared by .ci/run and the local run command so the two never drift apart.
set -euo pipefail

PACKAGES=(
  ffmpeg            # transcoding, synthetic encoders, ffprobe
  fonts-dejavu-core # the synthetic encoders burn the stream name and a clock into the picture
  srt-tools         # srt-live-transmit for manual checks
  libsrt-openssl-dev # libsrt headers for the SRT Node-API addon
  pkg-config
  redis-server      # live state
  chromium          # browser tests (driven by playwright-core)
  nftables          # packet loss in network-namespace tests
  iproute2          # ip netns
  g++ make python3  # node-gyp
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "Missing Debian packages. Run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
