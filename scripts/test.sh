#!/usr/bin/env bash
# Runs every test of Switchboard: unit tests (Surefire) and the integration
# tests (Failsafe) against the replicated PostgreSQL + MariaDB topology, which
# it brings up first with scripts/dev-db.sh (set SWITCHBOARD_SKIP_DEVDB=1 to use
# servers of your own through SWITCHBOARD_{PG,MARIADB}_{PRIMARY,REPLICA,LAGGING}), then runs the
# sample on its default embedded servers and checks it through HTTP (scripts/sample-smoke.sh).
# It also brings up the second, "fault" topology (dev-db.sh --topology fault) that failover tests may kill and restart.
# Without root (and so without dev-db's servers), the integration tests run on embedded servers instead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/java-home.sh
echo "Using Java from $JAVA_HOME" >&2
if [ "${SWITCHBOARD_SKIP_DEVDB:-0}" != 1 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		scripts/dev-db.sh --topology main up
		scripts/dev-db.sh --topology fault up
	elif ! { scripts/dev-db.sh --topology main up && scripts/dev-db.sh --topology fault up; }; then
		# Without root and the servers' Debian packages, the integration tests fall back to the
		# embedded PostgreSQL and MariaDB servers (DevDatabases), which need only this JDK.
		echo "test.sh: dev-db could not start its servers (above); the integration tests use the embedded servers" >&2
	fi
fi
# Maven from the PATH, else the wrapper (which fetches Maven 3.9 from Maven Central): a JDK is enough.
if command -v mvn >/dev/null; then mvn=mvn; else mvn=./mvnw; fi
"$mvn" -B -ntp verify "$@"
# The README's sample command, run as written, on its embedded servers; verify just built its jar.
scripts/sample-smoke.sh
