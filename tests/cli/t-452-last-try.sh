#!/usr/bin/env bash
# issue 12: the last PIN (and PUK) try was protected only by 'pin verify'.
# Now every command that sends the PIN or PUK reads the counter first
# (without using a try) and, with one try left, refuses (exit 1, nothing
# sent, counter unchanged) unless --force or --last-try; prompts show the
# tries left.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
export GOOD=123456 BAD=000000 PUK=12345678 BADPUK=87654321 NEWPIN=24682468

pin_left() {
	cs_nt "$CS_T/st" --json pin status
	json_get "$CS_T/st.out" pin.tries_left
}
puk_left() {
	cs_nt "$CS_T/st" --json pin status
	json_get "$CS_T/st.out" puk.tries_left
}
one_left() { # two wrong PINs: one try left
	cs_nt "$CS_T/w1" pin verify --pin-env BAD
	cs_nt "$CS_T/w2" pin verify --pin-env BAD
	[ "$(pin_left)" = 1 ] || echo "# setup: expected 1 PIN try left, got $(pin_left)"
}
# refused NAME DESC ARGS...: exit 1, says why and how, counter still 1.
refused() {
	local n=$1 d=$2
	shift 2
	cs_do "$n" "$@"
	check_rc "$d: refused with one PIN try left (exit 1)" 1
	check_match "... says why and names the option" \
		'only 1 PIN try left: a wrong PIN would block it; nothing was tried \(add (--force or )?--(last-try|force) to try anyway\)' "$LAST.err"
	check_eq "... no try used" 1 "$(pin_left)"
}

cs_do k0 keygen --slot 9a --alg p256
check_rc "setup: a key in 9a" 0

one_left
refused c1 "csr, wrong PIN" csr --slot 9a --subject CN=x --pin-env BAD
refused c2 "csr, right PIN" csr --slot 9a --subject CN=x --pin-env GOOD
check_match "... csr names --force and --last-try" 'add --force or --last-try' c2.err
cs_do c4 --json csr --slot 9a --subject CN=x --pin-env GOOD
check_rc "--json csr at one try: exit 1" 1
check_eq "... JSON error code" CS_ERR_CANCELLED "$(json_get "$LAST.out" error.code)"
cs_do c5 csr --slot 9a --subject CN=x --pin-env GOOD --last-try --out c5.csr
check_rc "csr --last-try, right PIN: exit 0" 0
check_eq "... the right PIN resets the counter" 3 "$(pin_left)"
# The issue's wording: --force spends the last try too.
one_left
cs_do c3 csr --slot 9a --subject CN=x --pin-env GOOD --out c3.csr --force
check_rc "csr --force, right PIN at one try: exit 0" 0
check_eq "... counter back to 3" 3 "$(pin_left)"

one_left
refused p1 "pin change, wrong PIN" pin change --pin-env BAD --new-pin-env NEWPIN
refused p2 "pin change, right PIN" pin change --pin-env GOOD --new-pin-env NEWPIN
check_match "... pin change names --force" 'add --force' p2.err
cs_do p3 pin change --pin-env GOOD --new-pin-env NEWPIN --force
check_rc "pin change --force: exit 0" 0
cs_do p4 pin change --pin-env NEWPIN --new-pin-env GOOD
check_rc "... (changed back)" 0

# Commands that send the PIN for the PIN-protected management key.
cs_do m0 mgmt-key set --random --protect --pin-env GOOD
check_rc "setup: PIN-protected management key" 0
one_left
refused m1 "keygen (PIN for the protected key)" \
	keygen --slot 9c --alg p256 --pin-env GOOD
refused m2 "mgmt-key set --protect" mgmt-key set --random --protect --pin-env GOOD
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout o.key -subj /CN=o -out o.pem >/dev/null 2>&1
# cert import of this certificate and pin-retries set need --force anyway,
# and --force accepts spending the last try too (the issue's wording).
cs_do m6 cert import --slot 9a --in o.pem --pin-env GOOD --force
check_rc "cert import --force spends the last try (exit 0)" 0
check_eq "... counter back to 3" 3 "$(pin_left)"
one_left
cs_do m5 keygen --slot 9c --alg p256 --pin-env GOOD --last-try
check_rc "keygen --last-try: exit 0" 0
check_eq "... counter back to 3" 3 "$(pin_left)"

# pin verify keeps its --force; --last-try works there too.
one_left
refused v1 "pin verify" pin verify --pin-env GOOD
cs_do v2 pin verify --pin-env GOOD --last-try
check_rc "pin verify --last-try: exit 0" 0

# Blocked PIN: nothing is sent, exit 4.
one_left
cs_do b1 pin verify --pin-env BAD --force
cs_do b2 csr --slot 9a --subject CN=x --pin-env GOOD --last-try
check_rc "csr with a blocked PIN: exit 4" 4
check_match "... says it is blocked and what to do" 'PIN is blocked.*pin unblock' "$LAST.err"

# The PUK, the same way (YubiKey 5.3+ reports its counter).
cs_do u1 pin unblock --puk-env BADPUK --new-pin-env GOOD
cs_do u2 pin unblock --puk-env BADPUK --new-pin-env GOOD
check_eq "setup: one PUK try left" 1 "$(puk_left)"
cs_do u3 pin unblock --puk-env PUK --new-pin-env GOOD
check_rc "pin unblock with one PUK try left: refused (exit 1)" 1
check_match "... says why" 'only 1 PUK try left: a wrong PUK would block it; nothing was tried \(add --force' "$LAST.err"
check_eq "... no PUK try used" 1 "$(puk_left)"
cs_do u4 puk change --puk-env PUK --new-puk-env BADPUK
check_rc "puk change with one PUK try left: refused (exit 1)" 1
check_eq "... no PUK try used" 1 "$(puk_left)"
cs_do u5 pin unblock --puk-env PUK --new-pin-env GOOD --force
check_rc "pin unblock --force: exit 0" 0
check_eq "... PUK counter back" 3 "$(puk_left)"
check_eq "... PIN unblocked" 3 "$(pin_left)"

# Prompts show the tries left (script(1) gives a pty).
if command -v script >/dev/null; then
	pty() { # pty NAME INPUT-LINES... -- ARGS
		local n=$1 lines=()
		shift
		while [ "$1" != -- ]; do lines+=("$1"); shift; done
		shift
		{
			for l in "${lines[@]}"; do sleep 2; printf '%s\n' "$l"; done
			sleep 2
		} | script -qec "$CS $*" /dev/null >"$n.tty" 2>&1
		RC=$?
	}
	pty t1 "$GOOD" -- pin verify
	check_eq "PIN at the prompt: exit 0" 0 "$RC"
	check_match "the PIN prompt shows the tries left" 'Enter PIN \(3 tries left\): ' t1.tty
	cs_do t2 pin verify --pin-env BAD
	pty t3 "$GOOD" -- csr --slot 9a --subject CN=p --out t3.csr
	check_eq "csr, PIN at the prompt: exit 0" 0 "$RC"
	check_match "... prompt with 2 tries left" 'Enter PIN \(2 tries left\): ' t3.tty
	pty t4 "$PUK" "$GOOD" "$GOOD" -- pin unblock
	check_eq "pin unblock at the prompt: exit 0" 0 "$RC"
	check_match "the PUK prompt shows its tries left" 'Enter PUK \(3 tries left\): ' t4.tty
	check_match "... the new PIN prompt has no count" 'Enter new PIN: ' t4.tty
else
	tap_skip "prompts with tries left" "script(1) missing"
fi
tap_done
