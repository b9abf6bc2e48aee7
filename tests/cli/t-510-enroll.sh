#!/usr/bin/env bash
# cardsmith enroll on a blank virtual card: three certificates at
# hardware-attested (default profile set), each read back from the card by
# yubico-piv-tool and accepted by `cardsmith verify --require-level
# hardware-attested`; the PIN is no longer 123456, the PUK went to
# --secrets-out only, and ykman sees the management key stored on the card
# behind the PIN. The registry holds the enrollment, the evidence and the
# certificates.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim --serial 5100510 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
CSPASS=enroll-ca-passphrase
NEWPIN=271828
export CSPASS NEWPIN

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "ca init trusting the sim's vendor root" 0
cs_do enroll enroll --dir ca --subject "CN=Jane Enroll" \
	--email jane@example.org --new-pin-env NEWPIN --pass-env CSPASS \
	--secrets-out puk.txt --json
check_rc "enroll a blank card" 0
check_eq "one JSON document" 0 "$(json_valid "$LAST.out"; echo $?)"
check_eq "card serial" 5100510 "$(json_get "$LAST.out" card_serial)"
check_eq "three slots" 3 "$(json_get "$LAST.out" slots.#)"
for i in 0 1 2; do
	check_eq "slot $i hardware-attested" hardware-attested \
		"$(json_get "$LAST.out" slots.$i.level)"
	check_eq "slot $i issued now" false "$(json_get "$LAST.out" slots.$i.reused)"
done
check_eq "slots in order" "9a 9c 9d" "$(for i in 0 1 2; do json_get "$LAST.out" slots.$i.slot; done | tr '\n' ' ' | sed 's/ $//')"
# The CA's notes reach the officer: the sim's firmware 5.4.3 predates the
# YSA-2024-03 fix; --email given to enroll is no "dropped" value.
check_match "slot 9a notes: the firmware advisory" 'YSA-2024-03' \
	<(json_get "$LAST.out" slots.0.notes)
check_match "the notes as a warning on stderr" \
	'^cardsmith: warning: slot 9a: .*YSA-2024-03' "$LAST.err"
check_eq "the enroll --email is no dropped value" 0 \
	"$(grep -c "san.email 'jane@example.org' not taken: --var" "$LAST.err")"
check_match "progress on stderr, step N/M" 'step 1/[0-9]+: identify card' "$LAST.err"
check_match "progress names the slot steps" 'step [0-9]+/[0-9]+: 9c: issue certificate' "$LAST.err"
# Only the steps this run takes are counted: no reset, no retry counts.
check_eq "no reset step without --reset" 0 "$(grep -c 'reset PIV' "$LAST.err")"
check_eq "the last step is M/M" yes "$(grep -oE 'step [0-9]+/[0-9]+' "$LAST.err" |
	tail -1 | awk -F'[ /]' '{print ($2 == $3) ? "yes" : "no"}')"

# The PUK: in the file (0600), nowhere else.
check_eq "secrets file mode 0600" 600 "$(stat -c %a puk.txt)"
PUK=$(sed -n 's/^PUK=//p' puk.txt)
check_eq "PUK is 8 digits, not the default" yes \
	"$([ "${#PUK}" = 8 ] && [ "$PUK" != 12345678 ] && echo yes)"
check_eq "PUK not on stdout or stderr" 0 "$(cat "$LAST.out" "$LAST.err" | grep -c -- "$PUK")"
check_eq "new PIN not on stdout or stderr" 0 "$(cat "$LAST.out" "$LAST.err" | grep -c -- "$NEWPIN")"

cs_do chain ca chain --dir ca --out chain.pem
check_rc "ca chain" 0
Y() { yubico-piv-tool -r Virtual "$@"; }
for s in 9a 9c 9d; do
	serial=$(json_get "$CS_T/enroll.out" "slots.$(case $s in 9a) echo 0;; 9c) echo 1;; 9d) echo 2;; esac).serial")
	if command -v yubico-piv-tool >/dev/null; then
		Y -a read-certificate -s $s >"cert$s.pem" 2>"ypt$s.err"
		check_eq "yubico-piv-tool reads slot $s's certificate" 0 $?
	else
		cs_do exp$s cert export --slot $s --out "cert$s.pem"
		tap_skip "yubico-piv-tool reads slot $s" "yubico-piv-tool missing"
	fi
	check_eq "slot $s holds certificate $serial" "$serial" \
		"$(openssl x509 -in "cert$s.pem" -noout -serial | sed 's/^serial=//')"
	# 9a is for TLS client authentication; 9c/9d sign and agree keys.
	purpose=any
	[ $s = 9a ] && purpose=client-auth
	cs_do v$s verify --chain chain.pem --require-level hardware-attested \
		--purpose $purpose "cert$s.pem" --json
	check_rc "verify --require-level hardware-attested accepts $s" 0
done
check_match "9a subject" 'CN ?= ?Jane Enroll' <(openssl x509 -in cert9a.pem -noout -subject)
check_match "9c carries the e-mail" 'jane@example.org' <(openssl x509 -in cert9c.pem -noout -ext subjectAltName)

# PIN changed: the new one verifies, and ykman sees no default PIN.
cs_do pinv pin verify --pin-env NEWPIN
check_rc "the new PIN verifies" 0
if command -v ykman >/dev/null; then
	ykman --reader "${CS_READER:-Virtual PCD 00 00}" piv info </dev/null >ykinfo.txt 2>&1
	check_eq "ykman piv info" 0 $?
	check_match "ykman: management key stored, protected by PIN" \
		'Management key is stored on the YubiKey, protected by PIN' ykinfo.txt
	check_eq "ykman: no default PIN warning" 0 "$(grep -ci 'default PIN' ykinfo.txt)"
	check_eq "ykman: no default management key warning" 0 \
		"$(grep -ci 'default management key' ykinfo.txt)"
else
	tap_skip "ykman piv info" "ykman missing"
fi
cs_do insp inspect --json
check_rc "inspect" 0
check_eq "PIN not the default" false "$(json_get "$LAST.out" pin.default)"
check_eq "PUK not the default" false "$(json_get "$LAST.out" puk.default)"

# The registry: three delivered certificates of this card, evidence kept.
cs_do list ca list --dir ca --json
check_rc "ca list" 0
check_eq "three certificates delivered" 3 \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for c in d["certificates"] if c["status"]=="delivered" and c.get("card_serial")==5100510))' "$LAST.out")"
check_eq "the enrollment is recorded done" done \
	"$(sqlite3 ca/registry.db "SELECT state FROM enrollments WHERE card_serial = 5100510 AND current = 1" 2>/dev/null || python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT state FROM enrollments WHERE card_serial = 5100510 AND current = 1").fetchone()[0])' ca/registry.db)"
check_eq "evidence stored for each certificate" 3 \
	"$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM evidence e JOIN certs c ON c.serial = e.serial WHERE c.card_serial = 5100510 AND e.statement IS NOT NULL AND e.f9 IS NOT NULL").fetchone()[0])' ca/registry.db)"
tap_done
