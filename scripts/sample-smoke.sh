#!/usr/bin/env bash
# Proves that the README's sample command works on its default, embedded topology, through HTTP only:
# starts scripts/run-sample.sh as the README gives it (on a free port), then checks
#  - a write then a pinned read (acme, PostgreSQL): X-Served-By names the primary, pinned;
#  - the control: the lagging standby, read directly right after that write, does not have the row;
#  - a plain read served by a replica;
#  - a causal token read (globex, MariaDB) served by a replica, not the primary, with the row,
#    while the lagging replica, read directly, still misses it (the control);
#  - a replica killed and started again through the sample's admin API, reads served meanwhile;
#  - the tenant comes from a token of the sample's /dev/tokens (its "tenant" claim); a request without one gets 401;
#  - a tenant inserted into the catalog table is served within 2 s, without a restart, and listed by /actuator/switchboard;
# then stops the service and checks that its servers are gone: no process, no port, no data folder.
# Prints the time from start to the first HTTP 200.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${SAMPLE_PORT:-18080}
base="http://localhost:$port"
# The embedded servers' folder and ports: the defaults of samples/src/main/resources/application-embedded.yml.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then folder=/dev/shm/switchboard-sample; else folder=/tmp/switchboard-sample; fi
db_ports=(54432 54433 54434 54306 54307 54308)
log=$(mktemp)
passed=0
failed=0

# Every HTTP call of this test goes through here, so that a header (a token, say) can be added in one place:
# SAMPLE_AUTH_HEADER='Authorization: Bearer ...' scripts/sample-smoke.sh
call() {
	local extra=()
	[ -n "${SAMPLE_AUTH_HEADER:-}" ] && extra=(-H "$SAMPLE_AUTH_HEADER")
	curl -sS -D - "${extra[@]}" "$@"
}
status_of() { # the HTTP status only
	call -o /dev/null -w '\n%{http_code}' "$@" 2>/dev/null | tail -1
}
check() { # check NAME CONDITION-EXIT-CODE DETAIL
	if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "sample: ok   $1"; else failed=$((failed + 1)); echo "sample: FAIL $1: $3" >&2; fi
}
header() { # header NAME RESPONSE
	printf '%s\n' "$2" | tr -d '\r' | sed -n "s/^$1: //Ip" | head -1
}
body() {
	printf '%s\n' "$1" | tr -d '\r' | sed '1,/^$/d'
}

started=$(date +%s%N)
SWITCHBOARD_SKIP_BUILD=${SWITCHBOARD_SKIP_BUILD:-1} scripts/run-sample.sh --server.port="$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 1200); do
	[ "$(status_of "$base/actuator/health")" = 200 ] && break
	kill -0 "$pid" 2>/dev/null || { echo "sample: the service exited; its log:" >&2; cat "$log" >&2; exit 1; }
	sleep 0.1
done
echo "sample: first HTTP 200 after $(( ($(date +%s%N) - started) / 1000000 )) ms (build excluded)"
grep -E 'ready on 127.0.0.1|Embedded databases ready' "$log" | sed 's/^.*: /sample: progress: /' || true

# The tenant comes from the caller's token: one for each tenant, minted by the sample's /dev/tokens.
acme="Authorization: Bearer $(curl -fsS -X POST "$base/dev/tokens?tenant=acme")"
globex="Authorization: Bearer $(curl -fsS -X POST "$base/dev/tokens?tenant=globex")"

# From here on a failed check is counted, not fatal.
set +e

# The service creates its table at start; the lagging servers get it 2 s later, as any change.
for server in postgres-lagging mariadb-lagging; do
	for _ in $(seq 1 100); do
		[ "$(status_of "$base/sample/servers/$server/notes")" = 200 ] && break
		sleep 0.1
	done
done

# A write, then a pinned read in the same request; right after, the lagging standby misses the row.
created=$(call -X POST "$base/notes" -H "$acme" -d 'smoke pinned')
lagging=$(call "$base/sample/servers/postgres-lagging/notes")
id=$(body "$created" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
served=$(header X-Served-By "$created")
[[ -n $id && $served == *'primary (primary-pinned)'* ]]; check "write then pinned read on acme's primary" $? "$served / $(body "$created")"
[[ $(header X-Served-By "$lagging") == 'postgres-lagging (direct)' && $(body "$lagging") == '['* && $(body "$lagging") != *"$id"* ]]
check "control: postgres-lagging, read directly right after the write, misses the row" $? "$lagging"
read=$(call "$base/notes" -H "$acme")
served=$(header X-Served-By "$read")
[[ $served == *'replica'* && $served != *primary* ]]; check "a read is served by a replica" $? "$served"

# A causal write on globex; once the no-delay replica has it, every token read goes there and sees it.
created=$(call -X POST "$base/notes" -H "$globex" -d 'smoke causal')
lagging=$(call "$base/sample/servers/mariadb-lagging/notes")
id=$(body "$created" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
token=$(header Switchboard-Causal-Token "$created")
[[ -n $token ]]; check "a write on globex returns a causal token" $? "no Switchboard-Causal-Token"
[[ $(header X-Served-By "$lagging") == 'mariadb-lagging (direct)' && $(body "$lagging") == '['* && $(body "$lagging") != *"$id"* ]]
check "control: mariadb-lagging, read directly right after the write, misses the row" $? "$lagging"
for _ in $(seq 1 100); do
	[[ $(body "$(call "$base/sample/servers/mariadb-replica/notes")") == *"$id"* ]] && break
	sleep 0.1
done
all_causal=0
for _ in 1 2 3 4; do
	read=$(call "$base/notes" -H "$globex" -H "Switchboard-Causal-Token: $token")
	served=$(header X-Served-By "$read")
	if [[ $served != *'(replica-causal)'* || $served == *primary* || $(body "$read") != *"$id"* ]]; then all_causal=1; break; fi
done
check "token reads are served by a replica that has the write" $all_causal "$served / $(body "$read")"

# A replica killed and brought back; reads go on meanwhile.
killed=$(call -X POST "$base/sample/servers/postgres-replica/kill")
during=$(status_of "$base/notes" -H "$acme")
back=$(call -X POST "$base/sample/servers/postgres-replica/start")
[[ $(body "$killed") == *'"running":false'* && $during == 200 && $(body "$back") == *'"running":true'* ]]
check "postgres-replica killed, reads still served ($during), started again" $? "$(body "$killed") / $(body "$back")"

status=$(status_of "$base/notes")
[ "$status" = 401 ]; check "a request without a token gets 401" $? "got $status"
status=$(status_of "$base/notes" -H "Authorization: Bearer $(curl -fsS -X POST "$base/dev/tokens?tenant=hooli")")
[ "$status" = 404 ]; check "a token for a tenant nobody onboarded gets 404" $? "got $status"

# Onboarding: a tenant inserted into the catalog table (on the PostgreSQL primary, past Switchboard) is
# served without a restart, woken by the table's NOTIFY trigger (the refresh interval is 30 s).
initech="Authorization: Bearer $(curl -fsS -X POST "$base/dev/tokens?tenant=initech")"
status=$(status_of "$base/notes" -H "$initech")
[ "$status" = 404 ]; check "initech, not in the catalog yet, gets 404" $? "got $status"
added=$(call -X POST "$base/sample/catalog?tenant=initech&datasource=acme-db")
inserted=$(date +%s%N)
for _ in $(seq 1 100); do
	status=$(status_of "$base/notes" -H "$initech")
	[ "$status" = 200 ] && break
	sleep 0.05
done
onboarded_ms=$(( ($(date +%s%N) - inserted) / 1000000 ))
[[ $(body "$added") == *'"rows":1'* && $status == 200 && $onboarded_ms -le 2000 ]]
check "initech inserted into the catalog is served after ${onboarded_ms} ms (at most 2000)" $? "$status / $(body "$added")"
directory=$(body "$(call "$base/actuator/switchboard")")
[[ $directory == *'{"id":"initech","placement":"acme-db","state":"ACTIVE"'* ]]
check "/actuator/switchboard lists initech on acme-db" $? "$directory"

# Stop the service; every server must go with it.
kill "$pid"
wait "$pid" 2>/dev/null || true
leftovers=$(pgrep -af -- "$folder" || true)
[ -z "$leftovers" ]; check "no server process left after the service stopped" $? "$leftovers"
open=()
for p in "${db_ports[@]}"; do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && open+=("$p"); done
[ ${#open[@]} = 0 ]; check "no server port left open" $? "${open[*]}"
[ ! -e "$folder" ]; check "no data folder left ($folder)" $? "$(ls -A "$folder" 2>&1 | head -5)"

echo "sample smoke: $passed passed, $failed failed"
[ "$failed" = 0 ] || { echo "sample: the service's log:" >&2; cat "$log" >&2; exit 1; }
