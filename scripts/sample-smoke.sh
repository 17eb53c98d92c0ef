#!/usr/bin/env bash
# Proves that the README's sample command answers HTTP: starts scripts/run-sample.sh as the README
# gives it (on a free port), writes a note and reads it back as tenant acme with a token of the
# sample's /dev/tokens, checks the 401 for a request without a token, then stops the service.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${SAMPLE_PORT:-18080}
log=$(mktemp)
SWITCHBOARD_SKIP_BUILD=${SWITCHBOARD_SKIP_BUILD:-1} scripts/run-sample.sh --server.port="$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 90); do
	curl -fsS -o /dev/null "http://localhost:$port/actuator/health" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { echo "sample: the service exited; its log:" >&2; cat "$log" >&2; exit 1; }
	sleep 1
done
token=$(curl -fsS -X POST "http://localhost:$port/dev/tokens?tenant=acme")
created=$(curl -fsS -X POST "http://localhost:$port/notes" -H "Authorization: Bearer $token" -d 'smoke test')
listed=$(curl -fsS "http://localhost:$port/notes" -H "Authorization: Bearer $token")
status=$(curl -s -o /dev/null -w '%{http_code}' "http://localhost:$port/notes")
case "$created$listed" in
	*'smoke test'*'smoke test'*) ;;
	*) echo "sample: unexpected answers: $created / $listed" >&2; exit 1 ;;
esac
[ "$status" = 401 ] || { echo "sample: a request without a token got $status, not 401" >&2; exit 1; }
echo "sample: scripts/run-sample.sh answered HTTP on port $port (note written and read as acme; 401 without a token)"
