#!/usr/bin/env bash
# PIN and PUK: status, verify (exit 0 / 4, one try, refuse at 1 left),
# wrong PIN counting down with the count in the message and JSON, blocked
# PIN, unblock with the PUK, change PIN and PUK, pin-retries set.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
export GOOD=123456 BAD=000000 PUK=12345678 BADPUK=87654321

tries() { # print PIN tries_left from pin status
	cs_nt "$CS_T/st" --json pin status
	json_get "$CS_T/st.out" pin.tries_left
}

cs_do s0 --json pin status
check_rc "pin status exits 0" 0
check_eq "fresh card: 3 PIN tries" 3 "$(json_get "$LAST.out" pin.tries_left)"
check_eq "fresh card: PIN total 3" 3 "$(json_get "$LAST.out" pin.tries_total)"
check_eq "fresh card: PIN is the default" true "$(json_get "$LAST.out" pin.default)"
check_eq "fresh card: 3 PUK tries" 3 "$(json_get "$LAST.out" puk.tries_left)"
cs_do s0t pin status
check_match "pin status text" '^PIN tries left: 3/3' "$LAST.out"

cs_do v1 --json pin verify --pin-env GOOD
check_rc "pin verify, right PIN: exit 0" 0
check_eq "pin verify: verified" true "$(json_get "$LAST.out" verified)"
check_eq "pin verify: tries_left 3" 3 "$(json_get "$LAST.out" tries_left)"

cs_do v2 pin verify --pin-env BAD
check_rc "pin verify, wrong PIN: exit 4" 4
check_match "wrong PIN: message with the count" '^cardsmith: wrong PIN, 2 tries left$' "$LAST.err"
check_eq "wrong PIN: one try used" 2 "$(tries)"
cs_do v3 --json pin verify --pin-env BAD
check_rc "second wrong PIN: exit 4" 4
check_eq "second wrong PIN: JSON code" CS_ERR_AUTH "$(json_get "$LAST.out" error.code)"
check_eq "second wrong PIN: JSON tries_left 1" 1 "$(json_get "$LAST.out" error.tries_left)"
check_eq "second wrong PIN: JSON message" "wrong PIN, 1 try left" "$(json_get "$LAST.out" error.message)"

cs_do v4 pin verify --pin-env GOOD
check_rc "1 try left: pin verify refuses without --force (exit 1)" 1
check_match "1 try left: says why and how" 'only 1 PIN try left.*--force' "$LAST.err"
check_eq "1 try left: no try was used" 1 "$(tries)"
cs_do v5 pin verify --pin-env GOOD --force
check_rc "1 try left, --force, right PIN: exit 0" 0
check_eq "right PIN resets the counter" 3 "$(tries)"

# Block the PIN.
for i in 1 2 3; do cs_do "b$i" pin verify --pin-env BAD --force; done
check_rc "third wrong PIN: exit 4" 4
check_match "third wrong PIN: blocked, with what to do" 'PIN is blocked.*pin unblock' "$LAST.err"
cs_do b4 --json pin verify --pin-env GOOD
check_rc "blocked PIN: even the right PIN exits 4" 4
check_eq "blocked PIN: CS_ERR_BLOCKED" CS_ERR_BLOCKED "$(json_get "$LAST.out" error.code)"
cs_do b5 --json pin status
check_eq "pin status: blocked" true "$(json_get "$LAST.out" pin.blocked)"
cs_do b6 csr --slot 9a --subject CN=x --pin-env GOOD
check_rc "csr with a blocked PIN: exit 4" 4

# Unblock with the PUK.
cs_do u1 pin unblock --puk-env BADPUK --new-pin-env GOOD
check_rc "unblock with a wrong PUK: exit 4" 4
check_match "wrong PUK: message with the count" 'wrong PUK, 2 tries left' "$LAST.err"
export NEWPIN=654321
cs_do u2 pin unblock --puk-env PUK --new-pin-env NEWPIN
check_rc "unblock with the PUK: exit 0" 0
cs_do u3 pin verify --pin-env NEWPIN
check_rc "the new PIN works" 0
cs_do u4 pin verify --pin-env GOOD
check_rc "the old PIN does not" 4

# Change the PIN: fd shared by both secrets, one line each.
printf '%s\n%s\n' 654321 13572468 >pins.txt
cs_do c1 pin change --pin-fd 3 --new-pin-fd 3 3<pins.txt
check_rc "pin change with --pin-fd/--new-pin-fd on one pipe: exit 0" 0
export P3=13572468
cs_do c2 pin verify --pin-env P3
check_rc "changed PIN verifies" 0
printf '%s\n' 13572468 >old.txt
chmod 600 old.txt
export SHORT=123
cs_do c3 pin change --pin-file old.txt --new-pin-env SHORT
check_rc "too short new PIN: exit 1" 1
check_match "too short new PIN: message" 'new PIN must be 6 to 8 characters' "$LAST.err"
cs_do c4 pin change --pin-env BAD --new-pin-env GOOD
check_rc "pin change with a wrong PIN: exit 4" 4
check_match "pin change with a wrong PIN: count" 'wrong PIN, 2 tries left' "$LAST.err"

# PUK change.
export NEWPUK=24681357
cs_do k1 puk change --puk-env PUK --new-puk-env NEWPUK
check_rc "puk change: exit 0" 0
cs_do k2 puk change --puk-env PUK --new-puk-env NEWPUK
check_rc "puk change with the old PUK: exit 4" 4

# Retry counts: destructive (resets PIN and PUK), so --force.
cs_do r1 pin-retries set --pin-tries 5 --puk-tries 6 --pin-env P3
check_rc "pin-retries set without --force and no terminal: exit 2" 2
check_match "pin-retries set: names --force" '\-\-force' "$LAST.err"
cs_do r2 pin-retries set --pin-tries 5 --puk-tries 6 --pin-env P3 --force
check_rc "pin-retries set --force: exit 0" 0
cs_do r3 --json pin status
check_eq "PIN tries now 5" 5 "$(json_get "$LAST.out" pin.tries_left)"
check_eq "PUK tries now 6" 6 "$(json_get "$LAST.out" puk.tries_total)"
check_eq "PIN back to the default" true "$(json_get "$LAST.out" pin.default)"
cs_do r4 pin verify --pin-env GOOD
check_rc "default PIN verifies after pin-retries set" 0
cs_do r5 pin-retries set --pin-tries 0 --puk-tries 3 --force --pin-env GOOD
check_rc "pin-retries 0: usage error" 2
tap_done
