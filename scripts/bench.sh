#!/usr/bin/env bash
# Switchboard's JMH benchmarks: the cost of one routing decision, jOOQ statements end to end, and
# read-your-writes pinned against causal.
#
#   scripts/bench.sh                  full run (about 16 minutes on 2 cores), then a table and ratio lines
#   scripts/bench.sh --quick          smoke run: 1 warmup and 1 measurement iteration of 1 s each
#   scripts/bench.sh [--quick] ARGS   extra JMH arguments, e.g. RouteDecision -p tenants=1000
#                                     (with --quick, do not repeat -wi, -i, -w or -r)
#   scripts/bench.sh --paired=N [ARGS]  EndToEnd in N rounds of one fork per variant, the variants
#                                     alternated, and each ratio taken within a round (about
#                                     11 minutes a round); ARGS may narrow it to EndToEnd's
#                                     methods, e.g. 'selectC1$' (do not pass -f or -p variant)
#
# It picks a JDK 21+ (scripts/java-home.sh), builds the
# benchmarks module with Maven, starts the dev-db topology (scripts/dev-db.sh up) when the
# EndToEnd benchmarks are selected and SWITCHBOARD_PG_PRIMARY (host:port) is not set, runs JMH
# with -prof gc and -foe true (a failing benchmark fails the script), writes JMH's JSON and its
# console output to benchmarks/results/, and prints the summary of benchmarks/summarize.py: a
# table, one `ratio <name>: <value>` line per ratio, and one `target <name>: met|missed` line
# per target of the benchmarks issue.
#
# Environment: SWITCHBOARD_BENCH_RESULT (JSON file, default benchmarks/results/jmh-result.json),
#              SWITCHBOARD_BENCH_VARIANTS (the variants of --paired, in their order, default
#              "direct routed spring facade declared"),
#              SWITCHBOARD_PG_PRIMARY (host:port of the PostgreSQL primary, default 127.0.0.1:55432).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS=$ROOT/benchmarks/results
RESULT=${SWITCHBOARD_BENCH_RESULT:-$RESULTS/jmh-result.json}

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------- arguments

QUICK=0
PAIRED=0
JMH_ARGS=()
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --paired=*)
      PAIRED=${arg#--paired=}
      [[ $PAIRED =~ ^[1-9][0-9]*$ ]] || die "--paired takes a number of rounds, as in --paired=4, not '$arg'"
      ;;
    *) JMH_ARGS+=("$arg") ;;
  esac
done

# JMH options that take no value; every other option takes one. Anything else is a benchmark regexp.
INCLUDES=()
INFO_ONLY=0
expect_value=0
for arg in "${JMH_ARGS[@]+"${JMH_ARGS[@]}"}"; do
  if ((expect_value)); then
    expect_value=0
    continue
  fi
  case $arg in
    -h | -l | -lp | -lprof | -lrf) INFO_ONLY=1 ;;
    -*) expect_value=1 ;;
    *) INCLUDES+=("$arg") ;;
  esac
done

needs_database() {
  [[ -z ${SWITCHBOARD_PG_PRIMARY:-} ]] || return 1
  ((${#INCLUDES[@]} > 0)) || return 0
  local include name
  for include in "${INCLUDES[@]}"; do
    for name in EndToEndBenchmark.{selectC1,selectC64,insertC1,insertC64} \
                ReadYourWritesBenchmark.{writeThenReadC1,writeThenReadC16}; do
      [[ dev.switchboard.benchmarks.$name =~ $include ]] && return 0
    done
  done
  return 1
}

# --------------------------------------------------------------------------- run

. "$ROOT/scripts/java-home.sh"
MAJOR=$(switchboard_java_release "$JAVA_HOME")
log "JDK $MAJOR at $JAVA_HOME"

JVM_FLAGS=()
if ((MAJOR >= 24)); then
  # Netty and JMH use sun.misc.Unsafe and native libraries; JDK 24+ warns about both on every start.
  JVM_FLAGS=(--sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED)
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi

log "building the benchmarks module"
(cd "$ROOT" && mvn -B -q -pl benchmarks -am package -DskipTests) || die "the build failed"
JAR=$ROOT/benchmarks/target/benchmarks.jar
[[ -f $JAR ]] || die "the build did not produce $JAR"

if ((INFO_ONLY)); then
  exec "$JAVA_HOME/bin/java" "${JVM_FLAGS[@]+"${JVM_FLAGS[@]}"}" -jar "$JAR" "${JMH_ARGS[@]}"
fi

if needs_database; then
  bash "$ROOT/scripts/dev-db.sh" status >/dev/null 2>&1 || {
    log "the dev-db topology is not running; starting it"
    bash "$ROOT/scripts/dev-db.sh" up
  }
fi

RUN_ARGS=(-foe true -prof gc -rf json)
if ((${#JVM_FLAGS[@]})); then
  RUN_ARGS+=(-jvmArgsPrepend "${JVM_FLAGS[*]}")
fi
if ((QUICK)); then
  RUN_ARGS+=(-f 1 -wi 1 -i 1 -w 1s -r 1s)
fi

mkdir -p "$(dirname "$RESULT")" "$RESULTS"

if ((PAIRED)); then
  # One fork per variant per round, the variants alternated, so that a drift of this shared
  # machine hits all three alike; each round's three results are joined into one file.
  PAIRED_DIR=$RESULTS/paired
  rm -rf "$PAIRED_DIR"
  mkdir -p "$PAIRED_DIR"
  : >"$RESULTS/jmh-output.txt"
  ((QUICK)) || RUN_ARGS+=(-f 1)
  ((${#INCLUDES[@]})) || JMH_ARGS+=(EndToEndBenchmark)
  ROUNDS=()
  for ((round = 1; round <= PAIRED; round++)); do
    for variant in ${SWITCHBOARD_BENCH_VARIANTS:-direct routed spring facade declared}; do
      log "round $round of $PAIRED: $variant"
      "$JAVA_HOME/bin/java" "${JVM_FLAGS[@]+"${JVM_FLAGS[@]}"}" -jar "$JAR" "${RUN_ARGS[@]}" \
        -rff "$PAIRED_DIR/round-$round-$variant.json" -p variant="$variant" "${JMH_ARGS[@]}" \
        >>"$RESULTS/jmh-output.txt" ||
        die "JMH failed in round $round ($variant); see $RESULTS/jmh-output.txt"
    done
    python3 -c 'import json, sys; json.dump([run for path in sys.argv[2:] for run in json.load(open(path))], open(sys.argv[1], "w"))' \
      "$PAIRED_DIR/round-$round.json" "$PAIRED_DIR"/round-"$round"-*.json
    ROUNDS+=("$PAIRED_DIR/round-$round.json")
  done
  echo
  if ((QUICK)); then
    echo "quick mode: one 1 s iteration per benchmark; a smoke test, not a measurement"
  fi
  python3 "$ROOT/benchmarks/summarize.py" "${ROUNDS[@]}"
  exit 0
fi

rm -f "$RESULT"
log "running JMH (console output also in $RESULTS/jmh-output.txt)"
"$JAVA_HOME/bin/java" "${JVM_FLAGS[@]+"${JVM_FLAGS[@]}"}" -jar "$JAR" "${RUN_ARGS[@]}" -rff "$RESULT" "${JMH_ARGS[@]+"${JMH_ARGS[@]}"}" |
  tee "$RESULTS/jmh-output.txt"
[[ -s $RESULT ]] || die "JMH wrote no result to $RESULT (see $RESULTS/jmh-output.txt)"

echo
if ((QUICK)); then
  echo "quick mode: one 1 s iteration per benchmark; a smoke test, not a measurement"
fi
python3 "$ROOT/benchmarks/summarize.py" "$RESULT"
