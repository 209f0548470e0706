#!/usr/bin/env bash
# Quick start: installs what is missing, builds, initialises a data directory on the
# embedded SQLite store if there is none, starts govvaultd on 127.0.0.1 and says how
# to log in.  Environment: GOVVAULT_DATA (default ./govvault-data), GOVVAULT_PORT.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
data=${GOVVAULT_DATA:-$root/govvault-data}
build=$root/build

bash scripts/deps.sh runtime
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGV_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "Built $build/src/govvaultd and $build/src/govvault"

if [ ! -f "$data/govvault.conf" ]; then
  extra=""
  if [ -n "${GOVVAULT_PORT:-}" ]; then
    extra=$(mktemp); printf '[server]\nport = %s\n' "$GOVVAULT_PORT" >"$extra"
    "$build/src/govvault" init --data "$data" --config-extra "$extra"
    rm -f "$extra"
  else
    "$build/src/govvault" init --data "$data"
  fi
  echo
fi

port=$(awk -F'= *' '/^\[/{s=$0} s=="[server]" && $1 ~ /^port *$/ {p=$2} END{print p}' "$data/govvault.conf")
port=${port:-8443}
pidfile="$data/govvaultd.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "govvaultd is already running (pid $(cat "$pidfile"))."
else
  "$build/src/govvaultd" --config "$data/govvault.conf"
  echo "govvaultd started (pid $(cat "$pidfile")), log: $data/govvaultd.log"
fi

url="https://127.0.0.1:$port"
for _ in $(seq 50); do
  curl -fs --cacert "$data/tls/cert.pem" "$url/v1/health" >/dev/null && break
  sleep 0.1
done
curl -fs --cacert "$data/tls/cert.pem" "$url/v1/health" >/dev/null || {
  echo "govvaultd did not answer on $url; see $data/govvaultd.log" >&2; exit 1; }

cat <<TXT

govvault is listening on $url  (TLS certificate: $data/tls/cert.pem)

Log in as an administrator with the one-time password printed by 'govvault init'
(first login forces a new password and TOTP enrolment with an authenticator app):

  export GOVVAULT_URL=$url GOVVAULT_CACERT=$data/tls/cert.pem
  $build/src/govvault login secadmin

Stop:  kill \$(cat $pidfile)
TXT
