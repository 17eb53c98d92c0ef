#!/usr/bin/env bash
# Local replicated databases for Switchboard development and integration tests.
#
#   scripts/dev-db.sh up          start (and on first use create) all six servers, wait for replication
#   scripts/dev-db.sh status      one line per server; exit 0 only if everything is up and replicating
#   scripts/dev-db.sh down        stop all six servers (data is kept)
#   scripts/dev-db.sh reset       down + delete the data folder
#   scripts/dev-db.sh kill PORT   stop one server hard (PostgreSQL: immediate shutdown, MariaDB: kill -9)
#                                 and return once it is gone
#   scripts/dev-db.sh start PORT  start that one server again; returns once it accepts connections and
#                                 the running replicas of its engine (itself, or all of the primary's) replicate
#
#   scripts/dev-db.sh --topology fault VERB ...   the same, on the second, independent "fault" topology,
#                                 whose servers failover tests may kill and restart at will:
#
#   topology main (default):
#     PostgreSQL 55432 primary, 55433 hot standby, 55434 hot standby with 2s apply delay
#     MariaDB    53306 primary, 53307 GTID replica, 53308 GTID replica with MASTER_DELAY=2
#   topology fault (same layout, ports +10, own data folder, lock and sockets):
#     PostgreSQL 55442 primary, 55443 hot standby, 55444 hot standby with 2s apply delay
#     MariaDB    53316 primary, 53317 GTID replica, 53318 GTID replica with MASTER_DELAY=2
#
# Environment: SWITCHBOARD_DEVDB_TOPOLOGY (main or fault, default main; --topology wins),
#              SWITCHBOARD_DEVDB_DIR (default /var/tmp/switchboard-devdb),
#              SWITCHBOARD_DEVDB_FAULT_DIR (default $SWITCHBOARD_DEVDB_DIR-fault, i.e. /var/tmp/switchboard-devdb-fault),
#              SWITCHBOARD_DEVDB_TIMEOUT (seconds, default 60), SWITCHBOARD_PG_BIN.
set -euo pipefail

MAIN_DEVDB_DIR=${SWITCHBOARD_DEVDB_DIR:-/var/tmp/switchboard-devdb}
TIMEOUT=${SWITCHBOARD_DEVDB_TIMEOUT:-60}
DELAY_SECONDS=2

# Set by select_topology (ports of the main topology plus PORT_OFFSET).
TOPOLOGY='' DEVDB_DIR='' DIR_VAR='' TOPOLOGY_NOTE='' PORT_OFFSET=''
PG_PRIMARY='' PG_STANDBYS=() PG_DELAYED='' MY_PRIMARY='' MY_REPLICAS=() MY_DELAYED=''

MARIADBD=/usr/sbin/mariadbd
PG_BIN=${SWITCHBOARD_PG_BIN:-}

log() { printf 'dev-db: %s\n' "$*" >&2; }
die() { printf 'dev-db: ERROR: %s\n' "$*" >&2; exit 1; }

# --------------------------------------------------------------------------- environment

usage() {
  echo "usage: $0 [--topology main|fault] up|down|status|reset|kill PORT|start PORT" >&2
  exit 2
}

# The two topologies are identical but for their ports and data folder, so that neither can disturb the other.
select_topology() {
  TOPOLOGY=$1
  case $TOPOLOGY in
    main) PORT_OFFSET=0 DEVDB_DIR=$MAIN_DEVDB_DIR DIR_VAR=SWITCHBOARD_DEVDB_DIR TOPOLOGY_NOTE='' ;;
    fault)
      PORT_OFFSET=10 DIR_VAR=SWITCHBOARD_DEVDB_FAULT_DIR TOPOLOGY_NOTE=" of topology fault"
      DEVDB_DIR=${SWITCHBOARD_DEVDB_FAULT_DIR:-${MAIN_DEVDB_DIR%/}-fault}
      ;;
    *) echo "dev-db: unknown topology '$TOPOLOGY' (expected main or fault)" >&2; usage ;;
  esac
  PG_PRIMARY=$((55432 + PORT_OFFSET))
  PG_STANDBYS=($((55433 + PORT_OFFSET)) $((55434 + PORT_OFFSET)))
  PG_DELAYED=$((55434 + PORT_OFFSET))
  MY_PRIMARY=$((53306 + PORT_OFFSET))
  MY_REPLICAS=($((53307 + PORT_OFFSET)) $((53308 + PORT_OFFSET)))
  MY_DELAYED=$((53308 + PORT_OFFSET))
}

init_paths() {
  # Server config files embed these paths, so they must be absolute.
  case $DEVDB_DIR in /*) ;; *) DEVDB_DIR=$(realpath -m -- "$DEVDB_DIR") ;; esac
  if [[ $TOPOLOGY != main ]]; then
    # `reset` of one topology must never delete the other's data (nor may they share a lock and sockets).
    local main_dir a b
    main_dir=$(realpath -m -- "$MAIN_DEVDB_DIR")
    a=$(realpath -m -- "$DEVDB_DIR")/ b=$main_dir/
    [[ $a != "$b"* && $b != "$a"* ]] ||
      die "the $TOPOLOGY topology's folder $DEVDB_DIR overlaps the main one ($main_dir); set $DIR_VAR elsewhere"
  fi
  RUN_DIR=$DEVDB_DIR/run
  if [[ $(id -u) -eq 0 ]]; then
    IS_ROOT=1 PG_OWNER=postgres MY_OWNER=mysql
  else
    IS_ROOT=0 PG_OWNER=$(id -un) MY_OWNER=$(id -un)
  fi
}

pick_pg_bin() {
  [[ -n $PG_BIN ]] && return 0
  if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
    PG_BIN=/usr/lib/postgresql/15/bin
  else
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  fi
}

missing_packages() {
  local pkgs=()
  pick_pg_bin
  [[ -n $PG_BIN && -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl && -x $PG_BIN/pg_basebackup && -x $PG_BIN/psql ]] ||
    pkgs+=(postgresql)
  [[ -x $MARIADBD ]] && command -v mariadb-install-db >/dev/null || pkgs+=(mariadb-server)
  command -v mariadb >/dev/null && command -v mariadb-admin >/dev/null || pkgs+=(mariadb-client)
  echo "${pkgs[*]}"
}

ensure_packages() {
  local missing
  missing=$(missing_packages)
  [[ -z $missing ]] && return 0
  ((IS_ROOT)) || die "missing server binaries (packages: $missing); ask an admin to run: apt-get install -y $missing"
  log "installing $missing"
  # The package index may be stale or empty (fresh container), so refresh only when a plain install fails.
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2; } ||
    die "apt-get install $missing failed"
  PG_BIN=${SWITCHBOARD_PG_BIN:-}
  pick_pg_bin
  [[ -z $(missing_packages) ]] || die "binaries still missing after installing: $(missing_packages)"
}

prepare_base_dir() {
  mkdir -p "$DEVDB_DIR" "$RUN_DIR"
  # Marks the folder as ours so that `reset` never rm -rf's something else.
  touch "$DEVDB_DIR/.switchboard-devdb"
  if ((IS_ROOT)); then
    chmod 755 "$DEVDB_DIR"
    # postgres and mysql both put sockets here; sticky like /tmp so neither can remove the other's.
    chmod 1777 "$RUN_DIR"
    local u
    for u in "$PG_OWNER" "$MY_OWNER"; do
      runuser -u "$u" -- test -w "$RUN_DIR" ||
        die "user $u cannot reach $DEVDB_DIR (a parent folder is not traversable); choose another $DIR_VAR"
    done
  fi
  # Unix socket paths are limited to 107 bytes.
  ((${#RUN_DIR} + 20 < 107)) || die "$DIR_VAR is too long for unix socket paths: $DEVDB_DIR"
}

take_lock() {
  # Two concurrent `up`s (e.g. parallel test runs) would otherwise race on initialization.
  exec 9>"$DEVDB_DIR/.lock"
  flock -w $((TIMEOUT * 2)) 9 || die "another dev-db.sh is running (lock $DEVDB_DIR/.lock)"
}

# --------------------------------------------------------------------------- helpers

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port_free() { ! port_in_use "$1"; }

# A pid file can outlive its server (kill -9, reboot) and the pid can be recycled, so check the process name too.
# A server killed with -9 lingers as a zombie until reaped; that is not a running server either.
proc_alive() {
  local pid=$1 comm=$2 stat name
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  { read -r stat <"/proc/$pid/stat" && read -r name <"/proc/$pid/comm"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z && ( -z $comm || $name == "$comm" ) ]]
}

proc_gone() { ! proc_alive "$@"; }

pid_is() {
  local pid
  { read -r pid <"$1"; } 2>/dev/null && proc_alive "$pid" "$2"
}

new_token() { cat /proc/sys/kernel/random/uuid; }

# Data directories are recreated from scratch; ownership must match the user the server runs as.
fresh_dir() {
  local dir=$1 owner=$2
  rm -rf -- "$dir"
  mkdir -p "$dir"
  chmod 700 "$dir"
  ((IS_ROOT)) && chown "$owner:" "$dir"
  return 0
}

# Wait helper: run "$@" until it succeeds or the deadline passes.
wait_until() {
  local deadline=$((SECONDS + TIMEOUT))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# --------------------------------------------------------------------------- PostgreSQL

pg_dir() { echo "$DEVDB_DIR/pg-$1"; }
pg_slot() { echo "standby_$1"; }

as_pg() {
  if ((IS_ROOT)); then
    # cd: the postgres user may not be able to enter the caller's working directory.
    (cd "$DEVDB_DIR" && runuser -u "$PG_OWNER" -- "$@")
  else
    "$@"
  fi
}

pg_sql() {
  local port=$1 sql=$2
  PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$sql"
}

pg_running() { pid_is "$(pg_dir "$1")/data/postmaster.pid" postgres; }

pg_is_ready_marked() {
  local d
  d=$(pg_dir "$1")
  [[ -s $d/ready && -f $d/data/PG_VERSION ]]
}

pg_start() {
  local port=$1 d
  d=$(pg_dir "$port")
  pg_running "$port" && return 0
  port_in_use "$port" && die "port $port is in use by another process (another dev-db topology or server?)"
  # Leftovers of a crash; postgres refuses to start if their pid now belongs to another process.
  rm -f "$d/data/postmaster.pid" "$RUN_DIR/.s.PGSQL.$port" "$RUN_DIR/.s.PGSQL.$port.lock"
  log "starting PostgreSQL :$port"
  # 9>&-: the server must not inherit (and so hold forever) the lock taken in take_lock.
  as_pg "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t "$TIMEOUT" start >/dev/null 9>&- ||
    die "PostgreSQL :$port did not start; see $d/postgres.log"
}

pg_stop() {
  local port=$1 d
  d=$(pg_dir "$port")
  pg_running "$port" || return 0
  log "stopping PostgreSQL :$port"
  as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m fast -w -t "$TIMEOUT" stop >/dev/null ||
    die "PostgreSQL :$port did not stop; see $d/postgres.log"
}

# Simulates a crash: no shutdown checkpoint, the next start runs crash recovery.
pg_kill() {
  local port=$1 d pid
  d=$(pg_dir "$port")
  pg_running "$port" || { log "PostgreSQL :$port is not running"; return 0; }
  read -r pid <"$d/data/postmaster.pid"
  log "killing PostgreSQL :$port (immediate shutdown)"
  as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m immediate -w -t "$TIMEOUT" stop >/dev/null ||
    die "PostgreSQL :$port did not stop; see $d/postgres.log"
  { wait_until proc_gone "$pid" postgres && wait_until port_free "$port"; } ||
    die "PostgreSQL :$port still running after an immediate shutdown"
}

pg_common_conf() {
  cat <<EOF

# ---- switchboard dev-db ----
listen_addresses = '127.0.0.1'
port = $PG_PRIMARY
unix_socket_directories = '$RUN_DIR'
max_connections = 200
cluster_name = 'pg-$PG_PRIMARY'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = off
# Fast feedback and reconnects: tests expect replicas to follow within a second.
wal_receiver_status_interval = 1s
wal_retrieve_retry_interval = 1s
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_init_primary() {
  local port=$PG_PRIMARY d
  d=$(pg_dir "$port")
  pg_stop "$port"
  log "initializing PostgreSQL primary :$port"
  fresh_dir "$d" "$PG_OWNER"
  as_pg "$PG_BIN/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$d/initdb.log" 2>&1 ||
    die "initdb failed; see $d/initdb.log"
  pg_common_conf >>"$d/data/postgresql.conf"
  pg_start "$port"
  pg_sql "$port" "CREATE DATABASE switchboard" || die "could not create database switchboard on :$port"
  # Written last: a missing marker means initialization was interrupted and the dir is thrown away.
  new_token >"$d/ready"
}

pg_init_standby() {
  local port=$1 d primary_token delay=0
  d=$(pg_dir "$port")
  primary_token=$(<"$(pg_dir "$PG_PRIMARY")/ready")
  [[ $port == "$PG_DELAYED" ]] && delay=$DELAY_SECONDS
  pg_stop "$port"
  log "creating PostgreSQL standby :$port (apply delay ${delay}s)"
  fresh_dir "$d" "$PG_OWNER"
  # A slot left over from a previous incarnation of this standby would make -C fail.
  pg_sql "$PG_PRIMARY" "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                        WHERE slot_name = '$(pg_slot "$port")' AND NOT active" >/dev/null
  as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY" -U postgres -D "$d/data" \
    -R -C -S "$(pg_slot "$port")" -X stream --checkpoint=fast >"$d/basebackup.log" 2>&1 ||
    die "pg_basebackup for :$port failed; see $d/basebackup.log"
  # postgresql.conf is a copy of the primary's; per-server settings go to postgresql.auto.conf, which wins.
  cat >>"$d/data/postgresql.auto.conf" <<EOF
port = $port
cluster_name = 'pg-$port'
recovery_min_apply_delay = '${delay}s'
EOF
  pg_start "$port"
  echo "$primary_token" >"$d/ready"
}

# Everyone is trusted on loopback, except the members of this group role, who must give their password
# over TCP: credential tests (PasswordRotationIT) create their login roles in it, so that a wrong or
# rotated-away password is refused as it would be in production. The group replicates to the standbys.
PG_PASSWORD_GROUP=switchboard_password_login

pg_create_password_group() {
  pg_sql "$PG_PRIMARY" "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_PASSWORD_GROUP') THEN
        CREATE ROLE $PG_PASSWORD_GROUP NOLOGIN;
      END IF; END \$\$" >/dev/null || die "could not create role $PG_PASSWORD_GROUP on :$PG_PRIMARY"
}

# Idempotent, and applied to running servers without a restart; the first matching pg_hba.conf line wins.
pg_require_passwords() {
  local port=$1 hba
  hba=$(pg_dir "$port")/data/pg_hba.conf
  grep -q "+$PG_PASSWORD_GROUP" "$hba" && return 0
  log "PostgreSQL :$port: members of $PG_PASSWORD_GROUP log in with a password (scram-sha-256)"
  as_pg sed -i "1i host all +$PG_PASSWORD_GROUP 127.0.0.1/32 scram-sha-256\\nhost all +$PG_PASSWORD_GROUP ::1/128 scram-sha-256" "$hba" ||
    die "could not edit $hba"
  pg_sql "$port" "SELECT pg_reload_conf()" >/dev/null || die "could not reload the configuration of :$port"
}

pg_up() {
  local port token
  if pg_is_ready_marked "$PG_PRIMARY"; then
    pg_start "$PG_PRIMARY"
  else
    [[ -e $(pg_dir "$PG_PRIMARY") ]] && log "PostgreSQL :$PG_PRIMARY is half-initialized; recreating it"
    pg_init_primary
  fi
  pg_create_password_group
  pg_require_passwords "$PG_PRIMARY"
  token=$(<"$(pg_dir "$PG_PRIMARY")/ready")
  for port in "${PG_STANDBYS[@]}"; do
    # A standby cloned from an older incarnation of the primary can never catch up: rebuild it.
    if pg_is_ready_marked "$port" && [[ $(<"$(pg_dir "$port")/ready") == "$token" ]]; then
      pg_start "$port"
    else
      pg_init_standby "$port"
    fi
    pg_require_passwords "$port"
  done
}

pg_down() {
  local port
  for port in "${PG_STANDBYS[@]}" "$PG_PRIMARY"; do pg_stop "$port"; done
}

pg_standby_streaming() {
  [[ $(pg_sql "$1" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null) == streaming ]]
}

pg_status_line() {
  local port=$1 role=$2 out
  if ! pg_running "$port"; then
    printf '%-6s %-11s %-17s down\n' "$port" postgresql "$role"
    return 1
  fi
  if [[ $port == "$PG_PRIMARY" ]]; then
    out=$(pg_sql "$port" "SELECT 'in_recovery=' || pg_is_in_recovery()
        || ' streaming_standbys=' || (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming')
        || coalesce(' [' || (SELECT string_agg(application_name || ':' || state
                 || ' replay_lag=' || coalesce(replay_lag::text, '0'), ', ' ORDER BY application_name)
              FROM pg_stat_replication) || ']', '')" 2>&1) || out="not responding: $out"
  else
    out=$(pg_sql "$port" "SELECT 'in_recovery=' || pg_is_in_recovery()
        || ' wal_receiver=' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')
        || ' unreplayed=' || coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0) || 'B'
        || ' last_replay_age=' || coalesce(date_trunc('second', now() - pg_last_xact_replay_timestamp())::text, 'n/a')
        || ' apply_delay=' || current_setting('recovery_min_apply_delay')" 2>&1) || out="not responding: $out"
  fi
  printf '%-6s %-11s %-17s up  %s\n' "$port" postgresql "$role" "${out//$'\n'/ }"
  [[ $out != not\ responding* ]] || return 1
  [[ $port == "$PG_PRIMARY" || $out == *wal_receiver=streaming* ]]
}

# --------------------------------------------------------------------------- MariaDB

my_dir() { echo "$DEVDB_DIR/mariadb-$1"; }

my_sql() {
  local port=$1
  shift
  # --no-defaults: never pick up /etc/mysql or ~/.my.cnf (socket/user of the system server).
  mariadb --no-defaults --protocol=TCP -h 127.0.0.1 -P "$port" -u root --connect-timeout=3 -N -B "$@"
}

my_running() { pid_is "$(my_dir "$1")/mariadbd.pid" mariadbd; }

my_is_ready_marked() {
  local d
  d=$(my_dir "$1")
  [[ -s $d/ready && -d $d/data/mysql ]]
}

my_write_cnf() {
  local port=$1 d
  d=$(my_dir "$port")
  cat >"$d/my.cnf" <<EOF
[mysqld]
datadir = $d/data
port = $port
bind-address = 127.0.0.1
socket = $RUN_DIR/mariadb-$port.sock
pid-file = $d/mariadbd.pid
log-error = $d/mariadbd.err
skip-name-resolve
max_connections = 300
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
server-id = $port
log-bin = binlog
relay-log = relay-bin
binlog_format = ROW
gtid_strict_mode = ON
# Replicas keep a binlog too so any of them could be promoted.
log_slave_updates = ON
# Crash safety for replicas: after kill -9 refetch the relay log from the GTID position.
relay_log_recovery = ON
slave_net_timeout = 10
log_bin_trust_function_creators = ON
EOF
  [[ $port == "$MY_PRIMARY" ]] || echo "read_only = ON" >>"$d/my.cnf"
}

my_start() {
  local port=$1 d pid
  d=$(my_dir "$port")
  my_running "$port" && return 0
  port_in_use "$port" && die "port $port is in use by another process (another dev-db topology or server?)"
  rm -f "$d/mariadbd.pid" "$d/launch.pid" "$RUN_DIR/mariadb-$port.sock"
  log "starting MariaDB :$port"
  local user_opt=()
  ((IS_ROOT)) && user_opt=(--user="$MY_OWNER")
  # setsid: the server must not die with the caller's session / process group.
  # The sh wrapper records the pid (exec keeps it) so that an early crash is noticed immediately.
  (cd "$DEVDB_DIR" && setsid -f /bin/sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$d/launch.pid" \
    "$MARIADBD" --defaults-file="$d/my.cnf" "${user_opt[@]}" </dev/null >>"$d/mariadbd.out" 2>&1 9>&-)
  wait_until test -s "$d/launch.pid" || die "could not launch MariaDB :$port"
  pid=$(<"$d/launch.pid")
  local deadline=$((SECONDS + TIMEOUT))
  until my_sql "$port" -e "SELECT 1" >/dev/null 2>&1; do
    # No name check: the launcher may not have exec'ed mariadbd yet.
    proc_alive "$pid" "" || die "MariaDB :$port exited during startup; see $d/mariadbd.err"
    ((SECONDS < deadline)) || die "MariaDB :$port not accepting connections after ${TIMEOUT}s; see $d/mariadbd.err"
    sleep 0.1
  done
}

my_stop() {
  local port=$1 d pid
  d=$(my_dir "$port")
  my_running "$port" || return 0
  log "stopping MariaDB :$port"
  pid=$(<"$d/mariadbd.pid")
  # SIGTERM is a clean shutdown for mariadbd; mariadb-admin would poll the pid file once a second.
  kill -TERM "$pid" 2>/dev/null || true
  wait_until proc_gone "$pid" mariadbd || die "MariaDB :$port did not stop; see $d/mariadbd.err"
}

# Simulates a crash. InnoDB, Aria system tables, the binlog and (relay_log_recovery) the relay log all recover from it.
my_kill() {
  local port=$1 d pid
  d=$(my_dir "$port")
  my_running "$port" || { log "MariaDB :$port is not running"; return 0; }
  pid=$(<"$d/mariadbd.pid")
  log "killing MariaDB :$port (kill -9)"
  kill -KILL "$pid" 2>/dev/null || true
  { wait_until proc_gone "$pid" mariadbd && wait_until port_free "$port"; } ||
    die "MariaDB :$port still running after kill -9"
}

my_install() {
  local port=$1 d
  d=$(my_dir "$port")
  my_stop "$port"
  fresh_dir "$d" "$MY_OWNER"
  my_write_cnf "$port"
  local user_opt=()
  ((IS_ROOT)) && user_opt=(--user="$MY_OWNER")
  # normal auth: root@localhost/127.0.0.1 get an empty password instead of unix_socket-only login.
  (cd "$DEVDB_DIR" && mariadb-install-db --defaults-file="$d/my.cnf" --auth-root-authentication-method=normal \
    --skip-test-db "${user_opt[@]}" >"$d/install-db.log" 2>&1) ||
    die "mariadb-install-db for :$port failed; see $d/install-db.log"
  my_start "$port"
}

my_init_primary() {
  log "initializing MariaDB primary :$MY_PRIMARY"
  my_install "$MY_PRIMARY"
  # Everything here goes through the binlog, so replicas (which start from an identical
  # mariadb-install-db state) receive the same users and database.
  my_sql "$MY_PRIMARY" -e "
    CREATE USER IF NOT EXISTS 'root'@'%';
    GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS switchboard;
    CREATE USER IF NOT EXISTS 'switchboard'@'%', 'switchboard'@'localhost', 'switchboard'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON switchboard.* TO 'switchboard'@'%', 'switchboard'@'localhost', 'switchboard'@'127.0.0.1';
    CREATE USER IF NOT EXISTS 'repl'@'127.0.0.1';
    GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';" ||
    die "initial SQL on MariaDB :$MY_PRIMARY failed"
  new_token >"$(my_dir "$MY_PRIMARY")/ready"
}

my_configure_replica() {
  local port=$1 delay=0
  [[ $port == "$MY_DELAYED" ]] && delay=$DELAY_SECONDS
  my_sql "$port" -e "
    STOP SLAVE;
    CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $MY_PRIMARY, MASTER_USER = 'repl',
      MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_DELAY = $delay;
    START SLAVE;" || die "configuring replication on MariaDB :$port failed; see $(my_dir "$port")/mariadbd.err"
}

my_init_replica() {
  local port=$1 pos
  log "creating MariaDB replica :$port"
  my_install "$port"
  my_configure_replica "$port"
  # Wait for the primary's users and database to arrive so that callers can use them right away.
  pos=$(my_sql "$MY_PRIMARY" -e "SELECT @@gtid_binlog_pos") || die "cannot query MariaDB :$MY_PRIMARY"
  [[ $(my_sql "$port" -e "SELECT MASTER_GTID_WAIT('$pos', $TIMEOUT)") == 0 ]] ||
    die "MariaDB :$port did not catch up with the primary; see $(my_dir "$port")/mariadbd.err"
  cat "$(my_dir "$MY_PRIMARY")/ready" >"$(my_dir "$port")/ready"
}

my_up() {
  local port token
  if my_is_ready_marked "$MY_PRIMARY"; then
    my_start "$MY_PRIMARY"
  else
    [[ -e $(my_dir "$MY_PRIMARY") ]] && log "MariaDB :$MY_PRIMARY is half-initialized; recreating it"
    my_init_primary
  fi
  token=$(<"$(my_dir "$MY_PRIMARY")/ready")
  for port in "${MY_REPLICAS[@]}"; do
    # Replicas of an older incarnation of the primary have diverged GTIDs: rebuild them.
    if my_is_ready_marked "$port" && [[ $(<"$(my_dir "$port")/ready") == "$token" ]]; then
      my_start "$port"
    else
      my_init_replica "$port"
    fi
  done
}

my_down() {
  local port
  for port in "${MY_REPLICAS[@]}" "$MY_PRIMARY"; do my_stop "$port"; done
}

# Prints "<io> <sql> <seconds_behind> <sql_delay>" from SHOW SLAVE STATUS, or "none" if unconfigured.
my_replica_threads() {
  { my_sql "$1" --column-names -E -e "SHOW SLAVE STATUS" 2>/dev/null || true; } | awk -F': ' '
    { sub(/^ +/, "", $1) }
    $1 == "Slave_IO_Running" { io = $2 } $1 == "Slave_SQL_Running" { sql = $2 }
    $1 == "Seconds_Behind_Master" { behind = $2 } $1 == "SQL_Delay" { delay = $2 }
    END { if (io == "") print "none"; else print io, sql, behind, delay }'
}

my_replica_errors() {
  { my_sql "$1" --column-names -E -e "SHOW SLAVE STATUS" 2>/dev/null || true; } |
    awk -F': ' '{ sub(/^ +/, "", $1) } $1 ~ /^Last_(IO|SQL)_Error$/ && $2 != "" { print $1 ": " $2 }'
}

my_status_line() {
  local port=$1 role=$2 out ro
  if ! my_running "$port"; then
    printf '%-6s %-11s %-17s down\n' "$port" mariadb "$role"
    return 1
  fi
  if ! ro=$(my_sql "$port" -e "SELECT @@read_only" 2>&1); then
    printf '%-6s %-11s %-17s up  not responding: %s\n' "$port" mariadb "$role" "$ro"
    return 1
  fi
  if [[ $port == "$MY_PRIMARY" ]]; then
    out="read_only=$ro gtid_binlog_pos=$(my_sql "$port" -e "SELECT @@gtid_binlog_pos")"
    out+=" binlog_dump_threads=$(my_sql "$port" -e \
      "SELECT count(*) FROM information_schema.processlist WHERE command LIKE 'Binlog Dump%'")"
    printf '%-6s %-11s %-17s up  %s\n' "$port" mariadb "$role" "$out"
    return 0
  fi
  local io sql behind delay errors
  read -r io sql behind delay <<<"$(my_replica_threads "$port")"
  out="Slave_IO_Running=$io Slave_SQL_Running=${sql:-} Seconds_Behind_Master=${behind:-} SQL_Delay=${delay:-}"
  out+=" read_only=$ro gtid_slave_pos=$(my_sql "$port" -e "SELECT @@gtid_slave_pos")"
  errors=$(my_replica_errors "$port")
  [[ -n $errors ]] && out+=" ${errors//$'\n'/; }"
  printf '%-6s %-11s %-17s up  %s\n' "$port" mariadb "$role" "$out"
  [[ $io == Yes && $sql == Yes ]]
}

# --------------------------------------------------------------------------- waiting

# Returns 0 when every replica streams; otherwise prints the laggards (one per line).
replication_laggards() {
  local port threads bad=0
  for port in "${PG_STANDBYS[@]}"; do
    pg_standby_streaming "$port" || { echo "PostgreSQL :$port not streaming (see $(pg_dir "$port")/postgres.log)"; bad=1; }
  done
  for port in "${MY_REPLICAS[@]}"; do
    threads=$(my_replica_threads "$port")
    [[ $threads == "Yes Yes "* ]] && continue
    echo "MariaDB :$port replication: $threads $(my_replica_errors "$port" | tr '\n' ' ')(see $(my_dir "$port")/mariadbd.err)"
    bad=1
  done
  return $bad
}

wait_for_replication() {
  local deadline=$((SECONDS + TIMEOUT)) port threads kicked=0
  while ! replication_laggards >/dev/null; do
    if ((!kicked)); then
      # Replication threads stopped (by an error or a manual STOP SLAVE) stay stopped across restarts; retry once.
      for port in "${MY_REPLICAS[@]}"; do
        threads=$(my_replica_threads "$port")
        case $threads in
          none) log "MariaDB :$port has no replication configured; configuring it"; my_configure_replica "$port" ;;
          No\ * | *\ No\ *) log "restarting replication threads on MariaDB :$port"; my_sql "$port" -e "START SLAVE" || true ;;
        esac
      done
      kicked=1
    fi
    if ((SECONDS >= deadline)); then
      replication_laggards | while read -r line; do log "$line"; done
      die "replication not running after ${TIMEOUT}s (to rebuild a broken replica, delete its 'ready' file, e.g. $(my_dir "${MY_REPLICAS[0]}")/ready, and run up again)"
    fi
    sleep 0.2
  done
}

# After `start PORT`: wait until the given running PostgreSQL standbys stream again (they reconnect by themselves).
pg_wait_standbys() {
  local port
  if ! pg_running "$PG_PRIMARY"; then
    (($#)) && log "PostgreSQL primary :$PG_PRIMARY is down; standby $* will reconnect once it is back"
    return 0
  fi
  for port; do
    pg_running "$port" || continue
    wait_until pg_standby_streaming "$port" ||
      die "PostgreSQL :$port not streaming from :$PG_PRIMARY after ${TIMEOUT}s; see $(pg_dir "$port")/postgres.log"
  done
}

# After `start PORT`: wait until the given running MariaDB replicas replicate again. Their threads restart with the
# server and keep retrying a lost primary; start them if they are stopped all the same (e.g. after an error).
my_wait_replicas() {
  local port threads primary_up=0 deadline kicked
  my_running "$MY_PRIMARY" && primary_up=1
  for port; do
    my_running "$port" || continue
    deadline=$((SECONDS + TIMEOUT)) kicked=0
    while :; do
      threads=$(my_replica_threads "$port")
      # With the primary down the I/O thread can only be Connecting (retrying every second).
      [[ $threads == "Yes Yes "* ]] && break
      ((!primary_up)) && [[ $threads == "Connecting Yes "* ]] && break
      if ((!kicked)); then
        case $threads in
          none) log "MariaDB :$port has no replication configured; configuring it"; my_configure_replica "$port"; kicked=1 ;;
          No\ * | *\ No\ *) log "starting replication threads on MariaDB :$port ($threads)"; my_sql "$port" -e "START SLAVE" || true; kicked=1 ;;
        esac
      fi
      if ((SECONDS >= deadline)); then
        log "MariaDB :$port replication: $threads $(my_replica_errors "$port" | tr '\n' ' ')"
        die "MariaDB :$port not replicating after ${TIMEOUT}s; see $(my_dir "$port")/mariadbd.err"
      fi
      sleep 0.1
    done
  done
  ((primary_up)) || { (($#)) && log "MariaDB primary :$MY_PRIMARY is down; replica $* will reconnect once it is back"; }
  return 0
}

# --------------------------------------------------------------------------- commands

cmd_up() {
  local start=$SECONDS
  pick_pg_bin
  ensure_packages
  prepare_base_dir
  take_lock
  # The two engines are independent; bringing them up side by side halves a cold start.
  local pg_pid my_pid failed=0
  pg_up &
  pg_pid=$!
  my_up &
  my_pid=$!
  wait "$pg_pid" || failed=1
  wait "$my_pid" || failed=1
  ((!failed)) || die "start-up failed (see the messages above)"
  wait_for_replication
  log "all six servers$TOPOLOGY_NOTE up and replicating ($((SECONDS - start))s); data in $DEVDB_DIR"
}

cmd_down() {
  [[ -d $DEVDB_DIR ]] || { log "nothing to stop ($DEVDB_DIR does not exist)"; return 0; }
  pick_pg_bin
  take_lock
  pg_down
  my_down
  log "all servers stopped"
}

cmd_status() {
  local rc=0 port role
  pick_pg_bin
  pg_status_line "$PG_PRIMARY" primary || rc=1
  for port in "${PG_STANDBYS[@]}"; do
    role=standby
    [[ $port == "$PG_DELAYED" ]] && role="standby+${DELAY_SECONDS}s-delay"
    pg_status_line "$port" "$role" || rc=1
  done
  my_status_line "$MY_PRIMARY" primary || rc=1
  for port in "${MY_REPLICAS[@]}"; do
    role=replica
    [[ $port == "$MY_DELAYED" ]] && role="replica+${DELAY_SECONDS}s-delay"
    my_status_line "$port" "$role" || rc=1
  done
  return $rc
}

cmd_reset() {
  cmd_down
  if [[ -d $DEVDB_DIR ]]; then
    [[ -f $DEVDB_DIR/.switchboard-devdb ]] || die "$DEVDB_DIR was not created by dev-db.sh; not deleting it"
    rm -rf -- "$DEVDB_DIR"
    log "deleted $DEVDB_DIR"
  fi
}

# Prints "pg" or "my" for a port of the selected topology; refuses any other port.
engine_of() {
  local port=$1 p
  [[ $port == "$PG_PRIMARY" ]] && { echo pg; return; }
  for p in "${PG_STANDBYS[@]}"; do [[ $port == "$p" ]] && { echo pg; return; }; done
  [[ $port == "$MY_PRIMARY" ]] && { echo my; return; }
  for p in "${MY_REPLICAS[@]}"; do [[ $port == "$p" ]] && { echo my; return; }; done
  local hint=
  for p in main fault; do
    [[ $p == "$TOPOLOGY" ]] && continue
    (select_topology "$p"; [[ " $PG_PRIMARY ${PG_STANDBYS[*]} $MY_PRIMARY ${MY_REPLICAS[*]} " == *" $port "* ]]) &&
      hint=" ($port belongs to topology $p: use --topology $p)"
  done
  printf 'dev-db: ERROR: port %s is not a server of topology %s, whose ports are: %s%s\n' "$port" "$TOPOLOGY" \
    "$PG_PRIMARY ${PG_STANDBYS[*]} $MY_PRIMARY ${MY_REPLICAS[*]}" "$hint" >&2
  exit 2
}

# Common part of kill and start: the port must be one of ours and the topology must have been created by `up`.
single_server_prologue() {
  local port=$1
  ENGINE=$(engine_of "$port")
  [[ -d $DEVDB_DIR/run ]] || die "topology $TOPOLOGY has not been created ($DEVDB_DIR); run: $0 --topology $TOPOLOGY up"
  pick_pg_bin
  take_lock
}

cmd_kill() {
  local port=$1
  single_server_prologue "$port"
  case $ENGINE in
    pg) pg_kill "$port" ;;
    my) my_kill "$port" ;;
  esac
}

cmd_start() {
  local port=$1 start=$SECONDS primary dir_of
  single_server_prologue "$port"
  if [[ $ENGINE == pg ]]; then
    primary=$PG_PRIMARY dir_of=pg_dir
    pg_is_ready_marked "$port" || die "PostgreSQL :$port has not been created; run: $0 --topology $TOPOLOGY up"
  else
    primary=$MY_PRIMARY dir_of=my_dir
    my_is_ready_marked "$port" || die "MariaDB :$port has not been created; run: $0 --topology $TOPOLOGY up"
  fi
  # A replica of an older incarnation of the primary can never catch up; only `up` rebuilds it.
  [[ $port == "$primary" || $(<"$($dir_of "$port")/ready") == "$(cat "$($dir_of "$primary")/ready" 2>/dev/null)" ]] ||
    die ":$port was cloned from an older primary; run: $0 --topology $TOPOLOGY up (it rebuilds it)"
  if [[ $ENGINE == pg ]]; then
    pg_start "$port"
    if [[ $port == "$primary" ]]; then pg_wait_standbys "${PG_STANDBYS[@]}"; else pg_wait_standbys "$port"; fi
  else
    my_start "$port"
    if [[ $port == "$primary" ]]; then my_wait_replicas "${MY_REPLICAS[@]}"; else my_wait_replicas "$port"; fi
  fi
  log ":$port$TOPOLOGY_NOTE up ($((SECONDS - start))s)"
}

main() {
  local topology=${SWITCHBOARD_DEVDB_TOPOLOGY:-main}
  while (($#)); do
    case $1 in
      --topology) (($# >= 2)) || usage; topology=$2; shift 2 ;;
      --topology=*) topology=${1#*=}; shift ;;
      *) break ;;
    esac
  done
  select_topology "$topology"
  init_paths
  case ${1:-} in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    kill | start)
      [[ $# -eq 2 && $2 =~ ^[0-9]+$ ]] || usage
      "cmd_$1" "$2"
      ;;
    *) usage ;;
  esac
}

main "$@"
