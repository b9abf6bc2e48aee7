#!/usr/bin/env bash
# cardsmith enroll, state and resume: a card pulled in the middle of an
# enrollment (sim --fault drop-after=N, right before slot 9a's certificate
# reaches the card) is finished by the next run, which never certifies a
# key twice, even when the registry lost the note that it had (a crash
# between the issuance commit and the step write). Enrolling the card again
# issues nothing; a card reset by hand afterwards is refused with the
# command to run, and --re-enroll revokes the old certificates as
# superseded and enrolls it afresh.
set -u
. "$(dirname "$0")/lib.sh"
cs_need_sim
cs_tmpdir
T=$CS_TMP
cd "$T" || exit 1
"$CS_BUILD/bin/cardsmith-sim" init-vendor "$T/vendor" >/dev/null 2>&1 ||
	{ echo "Bail out! init-vendor failed"; exit 1; }
export CS CS_T="$T" CSPASS=resume-ca-passphrase NEWPIN=314159

cat >"$T/c.sh" <<'SH'
cd "$CS_T" || exit 1
c() {
	local n=$1
	shift
	setsid -w "$CS" "$@" >"$n.out" 2>"$n.err" </dev/null
	echo $? >"$n.rc"
}
SH
# session STATE 'SIM-ARGS' 'COMMANDS': pcscd + sim on card STATE, kept
# across sessions; the sim's APDU trace goes to STATE.trace.
session() {
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		"CARDSMITH_SIM_TRACE=1 exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state $T/$1.state --vendor $T/vendor --serial 5110511 $2 2>$T/$1.trace" \
		-- bash -c ". $T/c.sh; $3" >>"$T/harness.log" 2>&1
}
rc() { cat "$T/$1.rc" 2>/dev/null || echo none; }
sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(str(x) for x in row) for row in r))' ca/registry.db "$1"; }
E="enroll --dir ca --subject CN=Resume --email r@example.org --new-pin-env NEWPIN --pass-env CSPASS --json"

# Two CAs with the same roots: one for the probe, one for the real runs.
for d in ca pca; do
	"$CS" ca init --dir $d --pass-env CSPASS --profiles "$CS_SRC/profiles" \
		--roots vendor/root.pem >/dev/null 2>&1
done
check_eq "ca init" yes "$([ -f ca/registry.db ] && [ -f pca/registry.db ] && echo yes)"

# The probe: the same enrollment on an identical card, to count the APDUs
# up to the PUT DATA of slot 9a's certificate object (5FC105).
session probe "" "c p ${E/--dir ca/--dir pca} --secrets-out p.puk"
check_eq "probe enrollment" 0 "$(rc p)"
n=$(awk '/cardsmith-sim: > / { n++ }
	/cardsmith-sim: > [01]0 DB 3F FF .*5C 03 5F C1 05/ { print n; exit }' probe.trace)
if [ -n "$n" ] && [ "$n" -gt 20 ]; then tap_ok "probe: 9a's certificate is APDU $n"
else tap_fail "probe: 9a's certificate write found in the trace" "$(tail -3 probe.trace)"; n=9999; fi

# Pulled right before the certificate reached the card.
session a "--fault drop-after=$((n - 1))" "c a1 $E --secrets-out a1.puk"
check_eq "pulled during the enrollment: exit 3 (card gone)" 3 "$(rc a1)"
check_eq "the PUK was kept before the card took it" yes \
	"$(grep -qE '^PUK=[0-9]{8}$' a1.puk 2>/dev/null && echo yes)"
# Written before the card changed: the import had begun.
check_eq "slot 9a recorded as importing" "importing" \
	"$(sql "SELECT s.state FROM enroll_slots s JOIN enrollments e ON e.id = s.enrollment WHERE e.card_serial = 5110511 AND s.slot = 154")"
S9A=$(sql "SELECT s.cert_serial FROM enroll_slots s JOIN enrollments e ON e.id = s.enrollment WHERE s.slot = 154")
check_eq "one certificate issued so far" 1 "$(sql "SELECT count(*) FROM certs WHERE status IN (1, 2)")"
# A crash between the issuance commit and the step write: the registry
# has the certificate, the slot row does not say so.
sql "UPDATE enroll_slots SET state = 'generated', cert_serial = NULL WHERE slot = 154" >/dev/null

session a "" "c a2 $E --secrets-out a2.puk"
check_eq "the next run finishes the enrollment" 0 "$(rc a2)"
check_eq "... as a resumed one" true "$(json_get a2.out resumed)"
check_eq "... slot 9a's certificate is the one issued before" "$S9A" "$(json_get a2.out slots.0.serial)"
check_eq "... and marked reused" true "$(json_get a2.out slots.0.reused)"
check_eq "... 9c was issued now" false "$(json_get a2.out slots.1.reused)"
check_eq "three certificates in all, none twice" 3 "$(sql "SELECT count(*) FROM certs WHERE status IN (1, 2)")"
check_eq "all delivered" 3 "$(sql "SELECT count(*) FROM certs WHERE status = 2")"
check_eq "one certificate per key" 3 "$(sql "SELECT count(DISTINCT key_sha256) FROM certs WHERE status IN (1, 2)")"
check_eq "the PUK was not changed again (no new secrets file)" no "$([ -e a2.puk ] && echo yes || echo no)"
check_eq "record done" done "$(sql "SELECT state FROM enrollments WHERE current = 1")"

# Again: nothing is issued, the receipt comes back.
session a "" "c a3 $E --secrets-out a3.puk"
check_eq "enrolling the enrolled card again: exit 0" 0 "$(rc a3)"
check_eq "... already enrolled" true "$(json_get a3.out already_enrolled)"
check_eq "... the same 9d certificate" "$(json_get a2.out slots.2.serial)" "$(json_get a3.out slots.2.serial)"
check_eq "... still three certificates" 3 "$(sql "SELECT count(*) FROM certs")"

# Reset by hand: the card no longer matches its record.
session a "" "c a4 reset --force; c a5 $E --secrets-out a5.puk"
check_eq "cardsmith reset" 0 "$(rc a4)"
check_eq "enroll refuses the reset card (exit 6)" 6 "$(rc a5)"
check_match "... saying the card does not match its record" 'does not match the card' a5.out
check_match "... with the command to enroll it afresh" \
	'cardsmith enroll --dir .* --serial 5110511 .*--re-enroll' a5.out
check_eq "... nothing issued" 3 "$(sql "SELECT count(*) FROM certs")"

session a "" "c a6 $E --re-enroll --secrets-out a6.puk"
check_eq "enroll --re-enroll" 0 "$(rc a6)"
check_eq "... revoked the three old certificates" 3 "$(json_get a6.out revoked)"
check_eq "... as superseded" 3 "$(sql "SELECT count(*) FROM certs WHERE status = 3 AND revoke_reason = 4")"
check_eq "... and issued three new ones" 3 "$(sql "SELECT count(*) FROM certs WHERE status = 2")"
check_eq "... under a new record, the old one superseded" "superseded|0 done|1" \
	"$(sql "SELECT state, current FROM enrollments ORDER BY id" | tr '\n' ' ' | sed 's/ $//')"
check_eq "... a new PUK" yes "$(grep -qE '^PUK=[0-9]{8}$' a6.puk 2>/dev/null && echo yes)"
tap_done
