#!/usr/bin/env bash
# Throwaway PostgreSQL 15 and Redis servers on loopback for the store tests.
#
# Source it, then:
#
#     source .ci/services.sh
#     trap stop_services EXIT
#     start_services          # exports OAUTH1_TEST_POSTGRES_URL, OAUTH1_TEST_REDIS_URL
#     cargo test --all-features
#
# Needs root (it runs PostgreSQL as the `postgres` user and may apt-get
# install redis-server). PostgreSQL 15 is expected under
# /usr/lib/postgresql/15/bin. Everything lives in a mktemp data directory
# that stop_services removes; stop_services is idempotent and safe in a trap.
# Running it directly (`bash .ci/services.sh start|stop`) does the same
# without exporting anything to the caller.

OAUTH1_PG_BIN="${OAUTH1_PG_BIN:-/usr/lib/postgresql/15/bin}"
OAUTH1_PG_PORT="${OAUTH1_PG_PORT:-54329}"
OAUTH1_REDIS_PORT="${OAUTH1_REDIS_PORT:-63799}"
OAUTH1_SERVICES_STATE="${OAUTH1_SERVICES_STATE:-/tmp/oauth1-test-services.state}"

_services_log() { printf '[services] %s\n' "$*" >&2; }

# Runs a command as the postgres user (which must be able to read the data dir).
_as_postgres() {
    if command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

_install_redis() {
    if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
        return 0
    fi
    _services_log "installing redis-server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq redis-server >/dev/null || {
        _services_log "could not install redis-server"
        return 1
    }
}

_start_postgres() {
    if [ ! -x "$OAUTH1_PG_BIN/pg_ctl" ]; then
        _services_log "PostgreSQL binaries not found in $OAUTH1_PG_BIN"
        return 1
    fi
    local datadir
    datadir="$(mktemp -d /tmp/oauth1-pgdata.XXXXXX)" || return 1
    echo "PGDATA=$datadir" >>"$OAUTH1_SERVICES_STATE"
    chown postgres: "$datadir"
    chmod 700 "$datadir"
    _services_log "initdb in $datadir"
    # Trust on loopback only: the server listens on 127.0.0.1 and a socket in
    # the data directory, and is thrown away at the end of the run.
    _as_postgres "$OAUTH1_PG_BIN/initdb" -D "$datadir" -U postgres \
        --auth-local=trust --auth-host=trust -E UTF8 --locale=C.UTF-8 \
        >"$datadir.initdb.log" 2>&1 || {
        cat "$datadir.initdb.log" >&2
        return 1
    }
    _services_log "starting PostgreSQL on 127.0.0.1:$OAUTH1_PG_PORT"
    _as_postgres "$OAUTH1_PG_BIN/pg_ctl" -D "$datadir" -l "$datadir/server.log" \
        -o "-p $OAUTH1_PG_PORT -k $datadir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" \
        -w -t 60 start >/dev/null || {
        cat "$datadir/server.log" >&2
        return 1
    }
    local i
    for i in $(seq 1 30); do
        if "$OAUTH1_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$OAUTH1_PG_PORT"; then
            break
        fi
        if [ "$i" = 30 ]; then
            _services_log "PostgreSQL did not answer"
            return 1
        fi
        sleep 1
    done
    _as_postgres "$OAUTH1_PG_BIN/psql" -h 127.0.0.1 -p "$OAUTH1_PG_PORT" -U postgres -q \
        -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE oauth1 LOGIN PASSWORD 'oauth1'" \
        -c "CREATE DATABASE oauth1_test OWNER oauth1" >/dev/null || return 1
    export OAUTH1_TEST_POSTGRES_URL="postgres://oauth1:oauth1@127.0.0.1:$OAUTH1_PG_PORT/oauth1_test"
}

_start_redis() {
    _install_redis || return 1
    _services_log "starting Redis on 127.0.0.1:$OAUTH1_REDIS_PORT"
    local pidfile
    pidfile="$(mktemp /tmp/oauth1-redis.XXXXXX.pid)" || return 1
    echo "REDIS_PIDFILE=$pidfile" >>"$OAUTH1_SERVICES_STATE"
    redis-server --bind 127.0.0.1 --port "$OAUTH1_REDIS_PORT" --save '' --appendonly no \
        --daemonize yes --pidfile "$pidfile" --logfile "$pidfile.log" --dir /tmp || return 1
    local i
    for i in $(seq 1 30); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$OAUTH1_REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
            break
        fi
        if [ "$i" = 30 ]; then
            _services_log "Redis did not answer"
            cat "$pidfile.log" >&2 2>/dev/null
            return 1
        fi
        sleep 1
    done
    export OAUTH1_TEST_REDIS_URL="redis://127.0.0.1:$OAUTH1_REDIS_PORT/"
}

# Starts PostgreSQL and Redis and exports their URLs. Stops whatever a
# previous run left behind first.
start_services() {
    stop_services
    : >"$OAUTH1_SERVICES_STATE"
    _start_postgres || { stop_services; return 1; }
    _start_redis || { stop_services; return 1; }
    _services_log "OAUTH1_TEST_POSTGRES_URL=$OAUTH1_TEST_POSTGRES_URL"
    _services_log "OAUTH1_TEST_REDIS_URL=$OAUTH1_TEST_REDIS_URL"
}

# Stops both servers and removes their files. Idempotent; never fails.
stop_services() {
    local state="$OAUTH1_SERVICES_STATE" line key value
    if [ -f "$state" ]; then
        while IFS= read -r line; do
            key="${line%%=*}"
            value="${line#*=}"
            case "$key" in
            PGDATA)
                if [ -f "$value/postmaster.pid" ]; then
                    _services_log "stopping PostgreSQL ($value)"
                    _as_postgres "$OAUTH1_PG_BIN/pg_ctl" -D "$value" -m immediate -w stop \
                        >/dev/null 2>&1 || true
                fi
                rm -rf "$value" "$value.initdb.log"
                ;;
            REDIS_PIDFILE)
                if [ -s "$value" ]; then
                    _services_log "stopping Redis"
                    redis-cli -h 127.0.0.1 -p "$OAUTH1_REDIS_PORT" shutdown nosave \
                        >/dev/null 2>&1 || kill "$(cat "$value")" 2>/dev/null || true
                fi
                rm -f "$value" "$value.log"
                ;;
            esac
        done <"$state"
        rm -f "$state"
    fi
    unset OAUTH1_TEST_POSTGRES_URL OAUTH1_TEST_REDIS_URL
    return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case "${1:-}" in
    start) start_services ;;
    stop) stop_services ;;
    *)
        echo "usage: source $0 (then start_services / stop_services), or $0 start|stop" >&2
        exit 2
        ;;
    esac
fi
