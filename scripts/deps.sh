#!/usr/bin/env bash
# Installs the Debian 12 packages govvault needs that are missing.
# usage: scripts/deps.sh [runtime|test|bench]   (each level includes the previous)
set -euo pipefail
level=${1:-runtime}

pkgs=(build-essential cmake pkg-config
      libmicrohttpd-dev libgnutls28-dev libgcrypt20-dev libargon2-dev liboath-dev
      libjansson-dev libsqlite3-dev libpq-dev libqrencode-dev libcurl4-gnutls-dev
      zlib1g-dev libpcre2-dev libzstd-dev liblz4-dev
      john-data ca-certificates curl)
if [ "$level" = test ] || [ "$level" = bench ]; then
  pkgs+=(libcmocka-dev python3 openssl clang libclang-rt-14-dev rsyslog)
fi
if [ "$level" = bench ]; then
  pkgs+=(wrk postgresql)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
