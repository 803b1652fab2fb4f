#!/usr/bin/env bash
# The cost of several instances (docs/SCALING.md): instance A on PostgreSQL takes the load of
# wcms-loadgen (AGENTS agents polling every 2 s, in rooms of 50, with dashboards and commands);
# with PEERS=1 instance B runs beside it on the same database, taking no request, only every
# change A tells it. Prints the load generator's report for A, then B's and PostgreSQL's CPU over
# the same time, and the instances' per-minute "cluster" log lines.
# Usage: WCMS_BENCH_POSTGRES='postgres://user:pw@127.0.0.1:5432/db?sslmode=disable' make bench-cluster
set -euo pipefail
: "${WCMS_BENCH_POSTGRES:?set WCMS_BENCH_POSTGRES to a postgres:// URL with ?sslmode=...; a schema of its own is made and dropped}"
AGENTS=${AGENTS:-10000}
DURATION=${DURATION:-60s}
PEERS=${PEERS:-1}
BIN=${BIN:-bin}

tmp=$(mktemp -d)
schema="bench_$(date +%s)"
dsn="${WCMS_BENCH_POSTGRES}&search_path=${schema}"
password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	psql -q "$WCMS_BENCH_POSTGRES" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
psql -q "$WCMS_BENCH_POSTGRES" -c "CREATE SCHEMA $schema"

instance() { # name port
	WCMS_ADMIN_PASSWORD=$password "$BIN/wcms-server" -addr "127.0.0.1:$2" -db "$dsn" -data-dir "$tmp/data" \
		-agent-dir "$tmp/none" >"$tmp/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$2/healthz" >/dev/null && return 0
		sleep 0.2
	done
	echo "instance $1 did not start:" >&2
	cat "$tmp/$1.log" >&2
	exit 1
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
pg_ticks() { local t=0; for p in $(pgrep -u postgres postgres); do t=$((t + $(ticks "$p" 2>/dev/null || echo 0))); done; echo $t; }

instance a 5061
a=${pids[0]}
if [ "$PEERS" = 1 ]; then
	instance b 5062
	b=${pids[1]}
fi
hz=$(getconf CLK_TCK)
"$BIN/wcms-loadgen" -url http://127.0.0.1:5061 -server-pid "$a" -admin-password "$password" -agents "$AGENTS" \
	-room-size 50 -duration "$DURATION" >"$tmp/load.out" 2>&1 &
load=$!
pids+=($load)
# B and PostgreSQL are measured over the load generator's window: from the end of its 10 s
# warm-up (its "10s" progress line; registering and placing the agents come before) to its report.
until grep -qE '^ +10s ' "$tmp/load.out"; do
	kill -0 $load 2>/dev/null || { cat "$tmp/load.out"; exit 1; }
	sleep 0.2
done
start=$(date +%s.%N)
pg0=$(pg_ticks)
b0=0
[ "$PEERS" = 1 ] && b0=$(ticks "$b")
until grep -q '^agents ' "$tmp/load.out"; do
	kill -0 $load 2>/dev/null || break
	sleep 0.2
done
secs=$(echo "$(date +%s.%N) - $start" | bc)
pg1=$(pg_ticks)
b1=0
[ "$PEERS" = 1 ] && b1=$(ticks "$b")
wait $load || true
cat "$tmp/load.out"
echo
echo "over the measuring window (${secs%.*} s):"
echo "  PostgreSQL CPU: $(echo "scale=1; 100 * ($pg1 - $pg0) / $hz / $secs" | bc) % of a core"
if [ "$PEERS" = 1 ]; then
	echo "  instance B CPU (applying A's changes): $(echo "scale=1; 100 * ($b1 - $b0) / $hz / $secs" | bc) % of a core"
	echo "  instance B memory: $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$b/status")"
fi
echo "cluster log lines:"
grep -h '"msg":"cluster"' "$tmp"/*.log || echo "  (none: a run shorter than a minute)"
