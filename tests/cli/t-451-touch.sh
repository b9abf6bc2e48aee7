#!/usr/bin/env bash
# issue 12: a key with touch policy always/cached makes the card wait for
# its button; cardsmith says so on stderr right before the wait
# ("touch the card's button now (slot 9a)"), not on stdout, not with -q.
# The sim holds such answers for --touch-delay ms, so the line must show
# up while the command is still waiting.
set -u
. "$(dirname "$0")/lib.sh"
DELAY=3000
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim --touch-delay $DELAY -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
export PIN=123456
MSG="touch the card's button now"

now_ms() { date +%s%3N; }

# watch NAME ARGS...: run cardsmith in the background; record when the
# touch line appeared (ms after start, or "never"), whether the command was
# still running then, and how long it took in all.
watch() {
	local n=$1 t0 pid seen=never running=no
	shift
	t0=$(now_ms)
	setsid -w "$CS" "$@" >"$n.out" 2>"$n.err" </dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$seen" = never ] && grep -qF "$MSG" "$n.err" 2>/dev/null; then
			seen=$(($(now_ms) - t0))
			kill -0 "$pid" 2>/dev/null && running=yes
		fi
		sleep 0.05
	done
	wait "$pid"
	RC=$?
	[ "$seen" = never ] && grep -qF "$MSG" "$n.err" && seen=late
	TOTAL=$(($(now_ms) - t0))
	SEEN=$seen
	RUNNING=$running
}

cs_do k1 keygen --slot 9a --alg p256 --touch-policy always
check_rc "keygen --touch-policy always: exit 0" 0
if grep -qF "$MSG" "$LAST.err"; then tap_fail "... generating waits for no touch: no touch line"
else tap_ok "... generating waits for no touch: no touch line"; fi

watch s1 csr --slot 9a --subject CN=touch --pin-env PIN --out s1.csr
check_eq "csr on a touch key: exit 0" 0 "$RC"
check_match "... says to touch the card, naming the slot" \
	"^cardsmith: touch the card's button now \\(slot 9a\\)$" s1.err
check_eq "... while the card is still waiting" yes "$RUNNING"
if [ "$TOTAL" -ge $((DELAY - 200)) ]; then tap_ok "... and the card did wait (${TOTAL} ms)"
else tap_fail "... and the card did wait" "total ${TOTAL} ms"; fi
if [ "$SEEN" != never ] && [ "$SEEN" != late ] && [ $((TOTAL - SEEN)) -ge $((DELAY / 2)) ]; then
	tap_ok "... the line came before the wait (${SEEN} of ${TOTAL} ms)"
else tap_fail "... the line came before the wait" "seen at $SEEN, total $TOTAL ms"; fi
if openssl req -in s1.csr -verify -noout >/dev/null 2>&1; then tap_ok "... the CSR verifies"
else tap_fail "... the CSR verifies"; fi

watch s2 --json csr --slot 9a --subject CN=touch --pin-env PIN
check_eq "--json csr on a touch key: exit 0" 0 "$RC"
if json_valid s2.out; then tap_ok "... stdout is one JSON document"; else
	tap_fail "... stdout is one JSON document" "$(head -3 s2.out)"; fi
check_match "... the touch line is on stderr" "$MSG \\(slot 9a\\)" s2.err

watch s3 -q csr --slot 9a --subject CN=touch --pin-env PIN --out s3.csr
check_eq "-q csr on a touch key: exit 0" 0 "$RC"
check_empty "... -q silences the touch line" s3.err

cs_do k2 keygen --slot 9c --alg p256 --touch-policy cached
watch s4 csr --slot 9c --subject CN=cached --pin-env PIN --out s4.csr
check_eq "csr on a touch-cached key: exit 0" 0 "$RC"
check_match "... touch line for slot 9c" "$MSG \\(slot 9c\\)" s4.err

cs_do k3 keygen --slot 9d --alg p256 --touch-policy never
watch s5 csr --slot 9d --subject CN=never --pin-env PIN --out s5.csr
check_eq "csr on a touch-never key: exit 0" 0 "$RC"
if grep -qF "$MSG" s5.err; then tap_fail "... no touch line" "$(cat s5.err)"; else
	tap_ok "... no touch line"; fi

# A management key with touch: every authentication waits.
cs_do m1 mgmt-key set --random --touch --out-key-file touch.key
check_rc "mgmt-key set --touch: exit 0" 0
watch m2 keygen --slot 9e --alg p256 --mgmt-key-file touch.key
check_eq "keygen with a touch management key: exit 0" 0 "$RC"
check_match "... says to touch for the management key" \
	"$MSG \\(management key\\)" m2.err
check_eq "... while the card is still waiting" yes "$RUNNING"
tap_done
