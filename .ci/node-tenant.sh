#!/usr/bin/env bash
# Runs the Node.js example tenant (examples/node) with an identity rendered by the Go binary and
# verifies it with the Go binary's verify mode, as a product's CI would: a match, a tenant with no
# identity env (missing) and one with a broken identity env (malformed), each asserting the exit
# code and the status output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The CLI writes its evidence file into TMPDIR; keep it inside the work directory.
export TMPDIR="$work"

bin="$work/runtime-identity"
go build -o "$bin" ./cmd/action

# The identity a deploy would inject: render prints the four env lines as the env-lines output.
"$bin" render --product shop --context shop --instance node-ci \
  --artifact-id "ghcr.io/acme/shop@sha256:$(printf '3%.0s' {1..64})" \
  --source-git-ref 0123456789abcdef0123456789abcdef01234567 \
  --deployment-record-id deployment-20261201T000000Z-shop-node-ci >"$work/render.out" 2>"$work/render.err"
sed -n 's/^env-lines=//; /^LAUNCHPLANE_[A-Z_]*=/p' "$work/render.out" >"$work/identity.env"
identity_json=$(sed -n 's/^identity-json=//p' "$work/render.out")
if [ "$(wc -l <"$work/identity.env")" -ne 4 ] || [ -z "$identity_json" ]; then
  echo "render did not print the four env lines and the identity:"; cat "$work/render.out" "$work/render.err"; exit 1
fi

# start NAME [ENV_FILE]: starts the node tenant on a free port with only the identity env given,
# and sets url to its base URL.
start() {
  local name=$1 envfile=${2:-/dev/null}
  (
    # Each line is NAME=VALUE taken literally: the JSON must not pass through the shell's quoting.
    # shellcheck disable=SC2163 # line is NAME=VALUE; exporting it is the point
    while IFS= read -r line; do export "$line"; done <"$envfile"
    exec env PORT=0 node examples/node/server.js
  ) >"$work/$name.out" 2>"$work/$name.err" &
  pids+=("$!")
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$work/$name.out"; then
      url=$(sed -n 's/^listening on //p' "$work/$name.out")
      return
    fi
    sleep 0.1
  done
  echo "node tenant $name did not start:"; cat "$work/$name.out" "$work/$name.err"; exit 1
}

# check NAME WANT_EXIT WANT_STATUS: verifies the tenant at $url against the rendered identity.
check() {
  local name=$1 want_exit=$2 want_status=$3 code=0
  "$bin" verify --health-url "$url/api/health" --identity-json "$identity_json" --require-identity \
    --verify-timeout 2s --github-deployment=false >"$work/$name.verify" 2>"$work/$name.verify.err" || code=$?
  local status
  status=$(sed -n 's/^status=//p' "$work/$name.verify")
  if [ "$code" != "$want_exit" ] || [ "$status" != "$want_status" ]; then
    echo "node tenant $name: exit $code status '$status', want exit $want_exit status '$want_status'"
    cat "$work/$name.verify" "$work/$name.verify.err" "$work/$name.err"
    exit 1
  fi
  echo "node tenant $name: exit $code, status $status (as designed)"
}

start match "$work/identity.env"
check match 0 match
# The well-known document and the digest header must agree byte for byte.
digest=$(curl -fsS "$url/.well-known/launchplane-runtime.json" | sha256sum | cut -d' ' -f1)
header=$(curl -fsS -o /dev/null -D - "$url/api/health" | tr -d '\r' | sed -n 's/^X-Launchplane-Identity-Digest: //Ip')
if [ "$header" != "sha256:$digest" ]; then
  echo "digest header '$header' is not the SHA-256 of the well-known body ($digest)"; exit 1
fi

start missing
check missing 1 missing

printf '%s\n' 'LAUNCHPLANE_RUNTIME_IDENTITY_JSON={"context":"shop","instance":' >"$work/broken.env"
start malformed "$work/broken.env"
check malformed 1 malformed
