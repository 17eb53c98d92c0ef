#!/usr/bin/env bash
# Builds and runs the sample notes service on http://localhost:8080 (SERVER_PORT or
# --server.port=... to change). With no argument it runs on the in-memory H2 demo topology;
# with --spring.profiles.active=devdb on the scripts/dev-db.sh servers (run `scripts/dev-db.sh up` first).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/java-home.sh
if [ "${SWITCHBOARD_SKIP_BUILD:-0}" != 1 ] || [ ! -f samples/target/switchboard-sample.jar ]; then
	mvn -B -q -ntp -pl samples -am package -DskipTests
fi
exec "$JAVA_HOME/bin/java" -jar samples/target/switchboard-sample.jar "$@"
