#!/usr/bin/env bash
# Installs what the tests need and is missing, idempotently, and says what it did.
# Today that is ffmpeg/ffprobe (the media worker's covers and the media tests).
set -euo pipefail

need_apt=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need_apt+=(ffmpeg)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing ${need_apt[*]}; run as root or install them: apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${need_apt[*]} from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
echo "deps: ffmpeg $(ffmpeg -version | awk 'NR==1{print $3}') ready"
