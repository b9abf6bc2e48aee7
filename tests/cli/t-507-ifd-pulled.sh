#!/usr/bin/env bash
# A card that dies in the middle of an APDU, through cardsmith-ifd: reader
# 2's sim is SIGKILLed while it holds the answer to a signature (a touch
# policy key, --touch-delay). The command on reader 2 fails promptly, that
# reader reports no card, pcscd stays up, a keygen running on reader 3 at
# the same moment and the cards in readers 1 and 4 keep working, and the
# same card can be inserted again.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 4 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
PIN=123456
export PIN
R() { printf 'cardsmith virtual reader %s' "$1"; }
for k in 1 2 3 4; do
	args=(--serial $((5000 + k)))
	[ $k -eq 2 ] && args+=(--touch-delay 8000)
	[ $k -eq 3 ] && args+=(--latency real)
	cs_ifd_insert $k "${args[@]}" ||
		tap_fail "card in reader $k" "$(tail -3 "$CS_T/sim$k.log")"
done
cs_do kg keygen --reader "$(R 2)" --slot 9a --alg p256 --touch-policy always
check_rc "reader 2: keygen of a touch-always key" 0

# The signature waits 8 s for the touch; kill the card during the wait.
setsid -w "$CS" csr --reader "$(R 2)" --slot 9a --subject CN=pulled \
	--pin-env PIN --out pulled.csr >csr.out 2>csr.err </dev/null &
csr=$!
setsid -w "$CS" keygen --reader "$(R 3)" --slot 9c --alg rsa2048 \
	--out pub3.pem >kg3.out 2>kg3.err </dev/null &
kg3=$!
for _ in $(seq 100); do
	grep -q "touch the card's button now" csr.err 2>/dev/null && break
	sleep 0.05
done
check_match "reader 2: the signature is waiting for the card" \
	"touch the card's button now" csr.err
sleep 0.3
t0=$(date +%s%N)
if cs_ifd_remove 2 KILL; then
	tap_ok "reader 2: killed card reported absent (${CS_IFD_WAITED} ms)"
else
	tap_fail "reader 2: killed card reported absent"
fi
rc=0
wait $csr || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check_eq "reader 2: the csr fails" yes "$([ $rc -ne 0 ] && echo yes || echo no)"
if [ "$ms" -lt 4000 ]; then
	tap_ok "reader 2: ... within ${ms} ms of the kill, not after the touch wait"
else
	tap_fail "reader 2: the csr failed promptly" "took ${ms} ms"
fi
check_eq "reader 2: no CSR written" no "$([ -s pulled.csr ] && echo yes || echo no)"
rc=0
wait $kg3 || rc=$?
check_eq "reader 3: the keygen running meanwhile succeeds" 0 "$rc"

cs_do rd readers --json
check_rc "pcscd still answers: readers exits 0" 0
check_eq "4 readers still listed" 4 "$(json_get "$LAST.out" readers.#)"
check_eq "reader 2 has no card" false "$(json_get "$LAST.out" readers.1.card_present)"
for k in 1 4; do
	cs_do kg$k keygen --reader "$(R $k)" --slot 9a --alg p256 --out p$k.pem
	check_rc "reader $k: keygen after the kill" 0
done
cs_do in3 --json inspect --reader "$(R 3)" --no-attest
check_eq "reader 3: still its card" 5003 "$(json_get "$LAST.out" serial)"

# Put the same card back (the state file survived the kill).
if cs_ifd_insert 2 --touch-delay 100; then
	tap_ok "reader 2: card inserted again"
else
	tap_fail "reader 2: card inserted again" "$(tail -3 "$CS_T/sim2.log")"
fi
cs_do csr2 csr --reader "$(R 2)" --slot 9a --subject CN=again \
	--pin-env PIN --out again.csr
check_rc "reader 2: csr on the re-inserted card" 0
tap_done
