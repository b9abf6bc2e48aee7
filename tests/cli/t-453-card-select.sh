#!/usr/bin/env bash
# issue 12: choosing the card. A --reader that finds no PIV card lists the
# readers present (exit 3), so the user sees what to type; a --serial that
# is not a serial number (not a number, negative, too big, zero) is a
# usage error (exit 2) before any card is touched.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1

cs_do r1 inspect --no-attest --reader no-such-reader
check_rc "--reader matching nothing: exit 3" 3
check_match "... names the reader asked for" \
	'no PIV card found in readers matching no-such-reader' "$LAST.err"
check_match "... and lists the readers present by name" \
	'readers present: "[^"]*Virtual PCD 00 00"' "$LAST.err"
cs_do r2 --json inspect --no-attest --reader no-such-reader
check_rc "--json, --reader matching nothing: exit 3" 3
check_eq "... CS_ERR_NO_CARD" CS_ERR_NO_CARD "$(json_get "$LAST.out" error.code)"
check_match "... the JSON message lists the readers too" \
	'readers present: .*Virtual PCD 00 00' "$LAST.out"
# A reader that exists but holds no card: listed as empty.
cs_do r3 inspect --no-attest --reader "PCD 00 01"
check_rc "--reader of an empty reader: exit 3" 3
check_match "... marks the empty reader" '"[^"]*Virtual PCD 00 01" \(no card\)' "$LAST.err"
cs_do r4 keygen --slot 9a --alg p256 --reader nothing-like-it
check_rc "keygen --reader matching nothing: exit 3" 3
check_match "... lists the readers" 'readers present: ' "$LAST.err"
cs_do r5 --json inspect --no-attest --reader "pcd 00 00"
check_rc "--reader in another case still finds the card" 0

# --serial: the card's own works; anything that is not a serial is usage.
cs_do s1 --json inspect --no-attest --serial 12345678
check_rc "--serial of the card: exit 0" 0
for bad in abc -5 99999999999 4294967296 0 12x ''; do
	cs_do s2 inspect --no-attest --serial "$bad"
	check_rc "--serial '$bad': usage error (exit 2)" 2
	check_match "... says it is not a serial number" \
		"--serial: '$bad' is not a serial number" "$LAST.err"
done
cs_do s3 --json csr --slot 9a --subject CN=x --serial -1
check_rc "--json csr --serial -1: exit 2" 2
check_eq "... JSON error CS_ERR_ARG" CS_ERR_ARG "$(json_get "$LAST.out" error.code)"
cs_do s4 inspect --no-attest --serial 99
check_rc "--serial of no card present: exit 3" 3
tap_done
