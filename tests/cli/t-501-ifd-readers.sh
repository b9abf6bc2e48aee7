#!/usr/bin/env bash
# cardsmith-ifd: 8 virtual readers in one private pcscd. Cards (sims on the
# readers' unix sockets) in readers 1, 4 and 8 only -> exactly those are
# present; removing 4 is seen by SCardGetStatusChange and by `readers`;
# inserting it again brings the same card back. Also times sim connect ->
# pcscd reporting the card present.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 8 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1

# present_set FILE: the reader numbers whose card_present is true, sorted.
present_set() {
	python3 - "$1" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
out = []
for r in d.get("readers", []):
    m = re.match(r"cardsmith virtual reader (\d) ", r["name"])
    if m and r["card_present"]:
        out.append(m.group(1))
print(" ".join(sorted(out)))
PY
}

# cardsmith-sim: exactly one of --vpcd-port and --socket.
SIM=$CS_BUILD/bin/cardsmith-sim
for bad in "--socket $CS_T/x.sock --vpcd-port 1234" "--socket" "--socket ''" \
	"--socket $CS_T/x.sock --vpcd-host 127.0.0.1" ""; do
	rc=0
	eval "\"\$SIM\" $bad --state \"\$CS_T/bad.state\" --no-attestation" \
		>/dev/null 2>"$CS_T/bad.err" </dev/null || rc=$?
	check_eq "cardsmith-sim ${bad:-(neither)}: usage error (exit 2)" 2 "$rc"
done
check_match "the usage names --socket" 'socket PATH' "$CS_T/bad.err"

cs_do r0 readers --json
check_rc "readers --json with 8 empty readers exits 0" 0
check_eq "8 readers listed" 8 "$(json_get "$LAST.out" readers.#)"
check_eq "reader 8 is named after its reader.conf entry" \
	"cardsmith virtual reader 8 07 00" "$(cs_ifd_reader 8)"
check_eq "no card anywhere" "" "$(present_set "$LAST.out")"

for k in 1 4 8; do
	if cs_ifd_insert $k --serial $((1000 + k)); then
		tap_ok "card inserted in reader $k (seen after ${CS_IFD_WAITED} ms)"
	else
		tap_fail "card inserted in reader $k" "$(tail -5 "$CS_T/sim$k.log")"
	fi
done
cs_do r1 readers --json
check_rc "readers --json exits 0" 0
check_eq "exactly readers 1, 4, 8 hold a card" "1 4 8" "$(present_set "$LAST.out")"
check_eq "reader 4 card has the YubiKey 5 ATR" \
	3BFD1300008131FE158073C021C057597562694B657940 \
	"$(json_get "$LAST.out" readers.3.atr)"
for k in 2 3 5 6 7; do
	if "$CS_BUILD/tests/harness/pcscwait" "$(cs_ifd_reader $k)" absent 1000 \
		>/dev/null; then
		tap_ok "reader $k reports no card"
	else
		tap_fail "reader $k reports no card"
	fi
done

# Each card answers in its own reader: serials differ as inserted.
for k in 1 4 8; do
	cs_do i$k inspect --reader "cardsmith virtual reader $k" --json
	check_rc "inspect reader $k exits 0" 0
	check_eq "reader $k holds the card with serial $((1000 + k))" \
		$((1000 + k)) "$(json_get "$LAST.out" serial)"
	check_eq "inspect names reader $k" "$(cs_ifd_reader $k)" \
		"$(json_get "$LAST.out" reader)"
done

if cs_ifd_remove 4; then
	tap_ok "removal from reader 4 seen (after ${CS_IFD_WAITED} ms)"
else
	tap_fail "removal from reader 4 seen"
fi
cs_do r2 readers --json
check_eq "after removal: readers 1 and 8 hold a card" "1 8" \
	"$(present_set "$LAST.out")"
cs_do i4b inspect --reader "cardsmith virtual reader 4" --json
check_rc "inspect of the emptied reader 4: no card (exit 3)" 3

# The same card again: its state survived the removal.
if cs_ifd_insert 4; then
	tap_ok "card re-inserted in reader 4"
else
	tap_fail "card re-inserted in reader 4" "$(tail -5 "$CS_T/sim4.log")"
fi
cs_do i4c inspect --reader "cardsmith virtual reader 4" --json
check_eq "re-inserted card is the same (serial 1004)" 1004 \
	"$(json_get "$LAST.out" serial)"

# Connect -> present latency, 5 rounds on reader 2 with a started sim.
worst=0
for i in 1 2 3 4 5; do
	cs_ifd_insert 2 >/dev/null || break
	[ "${CS_IFD_WAITED:-99999}" -gt "$worst" ] && worst=$CS_IFD_WAITED
	cs_ifd_remove 2 || break
done
echo "# worst sim start -> card present: ${worst} ms (includes sim start-up)"
check_eq "5 insert/remove rounds on reader 2 complete" 5 "$i"
tap_done
