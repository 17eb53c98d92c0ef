# Sourced by the project's scripts: exports JAVA_HOME for a JDK 21 or newer.
# Keeps a JAVA_HOME (or the java on PATH) that is already 21+, else takes the
# newest JDK 21+ under /usr/lib/jvm, else stops with what to install.

switchboard_java_release() {
	"$1/bin/java" -XshowSettings:properties -version 2>&1 |
		awk -F'= ' '/java.specification.version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

switchboard_select_jdk() {
	local candidate release best="" best_release=0
	for candidate in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")" /usr/lib/jvm/*; do
		[ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
		release=$(switchboard_java_release "$candidate")
		[ -n "$release" ] && [ "$release" -ge 21 ] || continue
		if [ "$release" -gt "$best_release" ]; then
			best=$candidate
			best_release=$release
		fi
		# A suitable JAVA_HOME the user chose wins over a newer one we might find.
		[ "$candidate" = "${JAVA_HOME:-}" ] && break
	done
	if [ -z "$best" ]; then
		echo "Switchboard needs a JDK 21 or newer (jOOQ 3.21 requires it); none found in JAVA_HOME, on PATH or under /usr/lib/jvm." >&2
		echo "Install one (for example Temurin 21/25, or openjdk-21-jdk where your distribution has it) and set JAVA_HOME." >&2
		return 1
	fi
	export JAVA_HOME=$best
	export PATH="$JAVA_HOME/bin:$PATH"
}

switchboard_select_jdk
