#!/usr/bin/env bash
# scripts/with-virtual-reader.sh: environment, readers, exit status,
# teardown (normal exit, SIGTERM, SIGKILL) and no leftover processes.
set -u
: "${CS_BUILD:?CS_BUILD must point at a build directory (use tests/run.sh)}"
: "${CS_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
WVR="$CS_SRC/scripts/with-virtual-reader.sh"
n=0
failed=0

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}
check() { # check DESC COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else notok "$d"; fi
}

if [ ! -x /usr/sbin/pcscd ] ||
	[ ! -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ]; then
	echo "1..0 # SKIP pcscd or vsmartcard-vpcd not installed"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs-t005.XXXXXX") || exit 1
bgpid=
cleanup() {
	[ -n "$bgpid" ] && kill -KILL "$bgpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# Processes belonging to the harness whose dir is $1: pcscd names the dir
# on its command line, cards and commands carry it in their environment.
leftovers() {
	local dir=$1 e pid
	pgrep -af -- "$dir" | grep -v -e "^$$ " -e pgrep || true
	for e in /proc/[0-9]*/environ; do
		pid=${e#/proc/}
		pid=${pid%/environ}
		[ "$pid" = $$ ] && continue
		if grep -qzxF "CS_HARNESS_DIR=$dir" "$e" 2>/dev/null; then
			echo "$pid $(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null)"
		fi
	done
}
# Wait up to 5 s for a harness's processes to vanish.
gone() {
	local i
	for i in $(seq 50); do
		[ -z "$(leftovers "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

# 1-4: environment and readers seen by the command.
t0=$(date +%s%N)
"$WVR" -- sh -c '
	echo "sock=$PCSCLITE_CSOCK_NAME"
	echo "dir=$CS_HARNESS_DIR"
	echo "reader=$CS_READER"
	echo "reader2=$CS_READER2"
	echo "ports=$CS_VPCD_PORT/$CS_VPCD_PORT2"
	opensc-tool --list-readers
' >"$tmp/run1" 2>"$tmp/run1.err"
rc=$?
t1=$(date +%s%N)
echo "# harness + command took $(((t1 - t0) / 1000000)) ms"
dir=$(sed -n 's/^dir=//p' "$tmp/run1")
check "command exits 0 and the script returns 0" [ "$rc" = 0 ]
if [ -n "$dir" ] && grep -qx "sock=$dir/pcscd.comm" "$tmp/run1" &&
	grep -qx "reader=Virtual PCD 00 00" "$tmp/run1" &&
	grep -qx "reader2=Virtual PCD 00 01" "$tmp/run1" &&
	grep -qE '^ports=[0-9]+/[0-9]+$' "$tmp/run1"; then
	ok "PCSCLITE_CSOCK_NAME, CS_READER(2), CS_VPCD_PORT(2), CS_HARNESS_DIR exported"
else
	notok "environment exported" "$(cat "$tmp/run1" "$tmp/run1.err")"
fi
p1=$(sed -n 's/^ports=\([0-9]*\)\/.*/\1/p' "$tmp/run1")
p2=$(sed -n 's/^ports=[0-9]*\/\([0-9]*\)/\1/p' "$tmp/run1")
if [ -n "$p1" ] && [ "$((p1 + 1))" = "$p2" ]; then
	ok "the two vpcd ports are consecutive"
else
	notok "consecutive ports" "$p1 $p2"
fi
if grep -qE '^[0-9]+ +Yes +Virtual PCD 00 00$' "$tmp/run1" &&
	grep -qE '^[0-9]+ +No +Virtual PCD 00 01$' "$tmp/run1"; then
	ok "opensc-tool sees the card in 00 00 and an empty 00 01"
else
	notok "opensc-tool --list-readers" "$(cat "$tmp/run1" "$tmp/run1.err")"
fi

# 5-6: teardown after a normal exit.
if [ -n "$dir" ] && gone "$dir"; then
	ok "no pcscd/card process of the harness remains"
else
	notok "leftover processes" "$(leftovers "$dir")"
fi
if [ -n "$dir" ] && [ ! -e "$dir" ]; then
	ok "the harness dir is removed"
else
	notok "harness dir removed" "$dir"
fi

# 7-8: the command's exit status comes back.
"$WVR" -- sh -c 'exit 3' 2>/dev/null
check "exit status 3 propagates" [ $? = 3 ]
"$WVR" -- false 2>/dev/null
rc=$?
check "a failing command makes the script fail" [ "$rc" != 0 ]

# 9: --no-card and --card2 with a custom card command.
"$WVR" --no-card --card2 'exec "$CS_BUILD/tests/harness/tinycard" --atr 3B8F8001804F0CA000000306030001000000006A' \
	-- opensc-tool --list-readers >"$tmp/run2" 2>&1
if grep -qE '^[0-9]+ +No +Virtual PCD 00 00$' "$tmp/run2" &&
	grep -qE '^[0-9]+ +Yes +Virtual PCD 00 01$' "$tmp/run2"; then
	ok "--no-card leaves 00 00 empty, --card2 fills 00 01"
else
	notok "--no-card/--card2" "$(cat "$tmp/run2")"
fi

# 10: the card command gets its env; the card's ATR reaches the command.
"$WVR" --card 'echo "$CS_VPCD_PORT $CS_HARNESS_DIR $PCSCLITE_CSOCK_NAME" >"$CS_HARNESS_DIR/card.env"; exec "$CS_BUILD/tests/harness/tinycard" --atr 3B0112' \
	-- sh -c 'cat "$CS_HARNESS_DIR/card.env"; echo "want $CS_VPCD_PORT $CS_HARNESS_DIR $PCSCLITE_CSOCK_NAME"; opensc-tool -r "$CS_READER" --atr' \
	>"$tmp/run3" 2>&1
got=$(sed -n 1p "$tmp/run3")
want=$(sed -n 's/^want //p' "$tmp/run3")
if [ -n "$got" ] && [ "$got" = "$want" ] && grep -qx '3b:01:12' "$tmp/run3"; then
	ok "card command sees CS_VPCD_PORT/CS_HARNESS_DIR/PCSCLITE_CSOCK_NAME; --atr works"
else
	notok "card command environment" "$(cat "$tmp/run3")"
fi

# 11-12: SIGTERM tears everything down and reports 128+15.
rm -f "$tmp/dir"
"$WVR" -- sh -c 'echo "$CS_HARNESS_DIR" >"$0"; exec sleep 60' "$tmp/dir" \
	2>/dev/null &
bgpid=$!
for i in $(seq 100); do [ -s "$tmp/dir" ] && break; sleep 0.1; done
dir=$(cat "$tmp/dir" 2>/dev/null)
kill -TERM "$bgpid"
wait "$bgpid"
rc=$?
bgpid=
check "SIGTERM: script exits 143" [ "$rc" = 143 ]
if [ -n "$dir" ] && gone "$dir" && [ ! -e "$dir" ]; then
	ok "SIGTERM: pcscd, card and command are gone, dir removed"
else
	notok "SIGTERM teardown" "$(leftovers "$dir")"
fi

# 13: SIGKILL of the harness process: children die with it (PDEATHSIG).
rm -f "$tmp/dir"
"$WVR" -- sh -c 'echo "$CS_HARNESS_DIR" >"$0"; exec sleep 60' "$tmp/dir" \
	2>/dev/null &
bgpid=$!
for i in $(seq 100); do [ -s "$tmp/dir" ] && break; sleep 0.1; done
dir=$(cat "$tmp/dir" 2>/dev/null)
{
	kill -KILL "$bgpid"
	wait "$bgpid"
} 2>/dev/null
bgpid=
if [ -n "$dir" ] && gone "$dir"; then
	ok "SIGKILL: pcscd, card and command die with the harness"
else
	notok "SIGKILL teardown" "$(leftovers "$dir")"
fi
[ -n "$dir" ] && case "$dir" in */cs-harness.*) rm -rf "$dir" ;; esac

# 14: a missing build gives a clear error, not a hang.
CS_BUILD="$tmp/nonexistent" "$WVR" -- true 2>"$tmp/err4"
rc=$?
if [ "$rc" = 125 ] && grep -q 'make tests' "$tmp/err4"; then
	ok "missing vreader: exit 125 telling to run make tests"
else
	notok "missing vreader" "rc=$rc" "$(cat "$tmp/err4")"
fi

# 15: a card command that dies is reported at once, not after a timeout.
t0=$(date +%s%N)
"$WVR" --card 'exit 4' -- true 2>"$tmp/err5"
rc=$?
t1=$(date +%s%N)
if [ "$rc" = 125 ] && grep -q 'exited (status 4)' "$tmp/err5" &&
	[ $(((t1 - t0) / 1000000)) -lt 5000 ]; then
	ok "dead card command: exit 125 naming its status"
else
	notok "dead card command" "rc=$rc" "$(cat "$tmp/err5")"
fi

# 16: usage error.
"$WVR" --bogus 2>/dev/null
check "unknown option: exit 2" [ $? = 2 ]

# 17: ports taken under our feet: the harness retries on other ports.
if command -v python3 >/dev/null; then
	python3 -c '
import socket, sys, time
ss = []
for p in range(22000, 22100):
    try:
        a = socket.socket(); a.bind(("0.0.0.0", p)); a.listen(1)
        b = socket.socket(); b.bind(("0.0.0.0", p + 1)); b.listen(1)
    except OSError:
        continue
    print(p, flush=True); ss = [a, b]; break
time.sleep(60)
' >"$tmp/held" </dev/null &
	holder=$!
	for i in $(seq 50); do [ -s "$tmp/held" ] && break; sleep 0.1; done
	held=$(cat "$tmp/held")
	CS_HARNESS_PORT=$held "$WVR" -- sh -c 'echo "port=$CS_VPCD_PORT"' \
		>"$tmp/run5" 2>"$tmp/run5.err"
	rc=$?
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	if [ -n "$held" ] && [ "$rc" = 0 ] &&
		grep -q "did not appear on ports $held/" "$tmp/run5.err" &&
		grep -qE '^port=[0-9]+$' "$tmp/run5" &&
		! grep -qx "port=$held" "$tmp/run5"; then
		ok "taken vpcd ports: retried on others"
	else
		notok "retry on taken ports" "held=$held rc=$rc" \
			"$(cat "$tmp/run5" "$tmp/run5.err")"
	fi
else
	n=$((n + 1))
	echo "ok $n - taken vpcd ports: retried on others # SKIP no python3"
fi

echo "1..$n"
[ "$failed" = 0 ]
