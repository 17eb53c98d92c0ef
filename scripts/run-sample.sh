#!/usr/bin/env bash
# Builds and runs the sample notes service on http://localhost:8080 (SERVER_PORT or
# --server.port=... to change). With no argument it starts its own replicated PostgreSQL and MariaDB
# servers (embedded profile: ports 54432-54434 and 54306-54308, data in /dev/shm/switchboard-sample,
# all stopped and deleted when the service stops); with --spring.profiles.active=devdb it uses the
# scripts/dev-db.sh servers (run `scripts/dev-db.sh up` first); with --spring.profiles.active=h2 the
# in-memory H2 demo, for a machine where the embedded servers cannot start.
#
# The build ends by extracting the jar (Spring Boot's jarmode tools) and, on JDK 25 and later, making
# the JVM's AOT cache for it with one training start of the H2 demo that stops after its context
# refresh (spring.context.exit=onRefresh; the embedded servers are not started for it). Both are kept
# in samples/target/sample-app until the next build; they halve the service's start.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/java-home.sh
jar=samples/target/switchboard-sample.jar
app=samples/target/sample-app
# Rebuild only when a pom or a source of the sample or of a module it uses is newer than its jar
# (SWITCHBOARD_SKIP_BUILD=1 never rebuilds an existing jar, nor extracts it: it runs what is there).
if [ ! -f "$jar" ] || { [ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ] &&
	[ -n "$(find pom.xml api embedded-databases r2dbc-routing jooq-integration spring-boot-starter samples \( -path '*/target' -o -path '*/src/test' -o -path '*/src/it' \) -prune -o -type f -newer "$jar" -print -quit)" ]; }; then
	./mvnw -B -q -ntp -pl samples -am package -DskipTests
fi
release=$(switchboard_java_release "$JAVA_HOME")
# The cache holds only for the JVM and the class path it was made with.
made_for="$JAVA_HOME $release $PWD"
current() { [ -f "$app/made-for" ] && [ ! "$jar" -nt "$app/made-for" ] && [ "$(cat "$app/made-for")" = "$made_for" ]; }
if ! current && [ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ]; then
	rm -rf "$app"
	"$JAVA_HOME/bin/java" -Djarmode=tools -jar "$jar" extract --destination "$app" >/dev/null
	if [ "$release" -ge 25 ]; then
		echo "run-sample: making the JVM's AOT cache for this build (once per build) ..." >&2
		started=$(date +%s)
		if "$JAVA_HOME/bin/java" -XX:AOTCacheOutput="$app/sample.aot" -Dspring.context.exit=onRefresh \
			-jar "$app/switchboard-sample.jar" --spring.profiles.active=h2 --server.port=0 >"$app/aot-training.log" 2>&1 &&
			[ -s "$app/sample.aot" ]; then
			echo "run-sample: AOT cache made in $(($(date +%s) - started)) s" >&2
		else
			rm -f "$app/sample.aot"
			echo "run-sample: no AOT cache (see $app/aot-training.log); the service starts without one" >&2
		fi
	fi
	echo "$made_for" >"$app/made-for"
fi
if current; then
	aot=()
	[ -f "$app/sample.aot" ] && aot=(-XX:AOTCache="$app/sample.aot")
	exec "$JAVA_HOME/bin/java" "${aot[@]}" -jar "$app/switchboard-sample.jar" "$@"
fi
exec "$JAVA_HOME/bin/java" -jar "$jar" "$@"
