#!/usr/bin/env bash
# Builds and runs the sample notes service on http://localhost:8080 (SERVER_PORT or
# --server.port=... to change). With no argument it starts its own replicated PostgreSQL and MariaDB
# servers (embedded profile: ports 54432-54434 and 54306-54308, data in /dev/shm/switchboard-sample,
# all stopped and deleted when the service stops); with --spring.profiles.active=devdb it uses the
# scripts/dev-db.sh servers (run `scripts/dev-db.sh up` first); with --spring.profiles.active=h2 the
# in-memory H2 demo, for a machine where the embedded servers cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/java-home.sh
jar=samples/target/switchboard-sample.jar
# Rebuild only when a pom or a source of the sample or of a module it uses is newer than its jar
# (SWITCHBOARD_SKIP_BUILD=1 never rebuilds an existing jar).
if [ ! -f "$jar" ] || { [ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ] &&
	[ -n "$(find pom.xml api r2dbc-routing jooq-integration spring-boot-starter samples \( -path '*/target' -o -path '*/src/test' -o -path '*/src/it' \) -prune -o -type f -newer "$jar" -print -quit)" ]; }; then
	./mvnw -B -q -ntp -pl samples -am package -DskipTests
fi
exec "$JAVA_HOME/bin/java" -jar samples/target/switchboard-sample.jar "$@"
