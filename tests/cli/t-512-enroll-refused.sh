#!/usr/bin/env bash
# cardsmith enroll refuses an unsuitable card before anything changes: a
# card without attestation when the profiles require hardware-attested,
# and firmware a profile's deny rule names (FIPS 4.4.4, YSA-2019-02). With
# a profile set whose profile accepts hardware-enrolled, the card without
# attestation is enrolled at hardware-enrolled, never higher.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" = "" ]; then
	cs_need_sim
	cs_tmpdir
	export CS_T=$CS_TMP CS_OUT=$CS_TMP/tap
	"$CS_BUILD/bin/cardsmith-sim" init-vendor "$CS_T/vendor" >/dev/null 2>&1 ||
		{ echo "Bail out! init-vendor failed"; exit 1; }
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		"exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state \$CS_HARNESS_DIR/card.state --no-attestation --serial 5120512" \
		-- bash "$0" --noatt
	rc1=$?
	[ $rc1 -eq 77 ] && exit 77
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		"exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state \$CS_HARNESS_DIR/card.state --vendor \$CS_T/vendor --firmware 4.4.4 --serial 5120513" \
		-- bash "$0" --fips
	rc2=$?
	cat "$CS_OUT.noatt" "$CS_OUT.fips" 2>/dev/null |
		awk '/^(not )?ok [0-9]+/ { n++; sub(/ok [0-9]+/, "ok " n) }
		     { print } END { print "1.." n }' >"$CS_OUT.all"
	cat "$CS_OUT.all"
	[ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && ! grep -q '^not ok' "$CS_OUT.all"
	exit $?
fi
mode=${1#--}
cd "$CS_T" || exit 1
exec >"$CS_OUT.$mode"
export CSPASS=refuse-ca-passphrase NEWPIN=161803 PIN=123456
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1/registry.db" "$2"; }
E="--subject CN=Refused --email x@example.org --new-pin-env NEWPIN --pass-env CSPASS --secrets-out"

cs_do init-$mode ca init --dir ca-$mode --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots vendor/root.pem
check_rc "$mode: ca init" 0

if [ "$mode" = noatt ]; then
	cs_do e1 enroll --dir ca-noatt $E e1.puk
	check_rc "no attestation, default set: refused (exit 6)" 6
	check_match "... naming the reason" 'the card offers no attestation, but profile piv-auth \(slot 9a\) requires hardware-attested' "$LAST.err"
	check_eq "... before the PUK was made" no "$([ -e e1.puk ] && echo yes || echo no)"
	check_eq "... no enrollment recorded" 0 "$(sql ca-noatt 'SELECT count(*) FROM enrollments')"
	cs_do i1 inspect --json --no-attest
	check_eq "... the PIN is still the factory one" true "$(json_get "$LAST.out" pin.default)"
	check_eq "... no key was generated in 9a" null "$(json_get "$LAST.out" slots.0.key)"

	# A profile that accepts what this station can prove without
	# attestation: the key was generated on the card here.
	cat >ca-noatt/profiles/enrolled-auth.cnf <<'CNF'
[cardsmith]
level = hardware-enrolled
slots = 9a
algs = p256
validity_days = 30
subject = CN=%{cn}
[extensions]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
CNF
	mkdir -p ca-noatt/profile-sets
	cat >ca-noatt/profile-sets/enrolled.cnf <<'CNF'
[profile_set]
slots = 9a
[9a]
profile = enrolled-auth
alg = p256
CNF
	cs_do e2 enroll --dir ca-noatt --profile-set enrolled $E e2.puk --json
	check_rc "no attestation, hardware-enrolled profile: enrolled" 0
	check_eq "... attestation false" false "$(json_get "$LAST.out" attestation)"
	check_eq "... at hardware-enrolled" hardware-enrolled "$(json_get "$LAST.out" slots.0.level)"
	cs_do exp cert export --slot 9a --out c9a.pem
	cs_do chain ca chain --dir ca-noatt --out chain.pem
	cs_do v1 verify --chain chain.pem --require-level hardware-attested c9a.pem
	check_rc "verify: not hardware-attested (exit 6)" 6
	cs_do v2 verify --chain chain.pem --require-level hardware-enrolled c9a.pem
	check_rc "verify: hardware-enrolled" 0
	exit 0
fi

cs_do f1 enroll --dir ca-fips $E f1.puk
check_rc "firmware 4.4.4: refused (exit 6)" 6
check_match "... naming the rule and the profile" \
	'firmware 4\.4\.4 \(FIPS series\) has reduced randomness.*profile piv-auth \(slot 9a\) denies it' "$LAST.err"
check_match "... before any key" 'before any key was generated' "$LAST.err"
check_eq "... no enrollment recorded" 0 "$(sql ca-fips 'SELECT count(*) FROM enrollments')"
check_eq "... no certificate" 0 "$(sql ca-fips 'SELECT count(*) FROM certs')"
check_eq "... before the PUK was made" no "$([ -e f1.puk ] && echo yes || echo no)"
cs_do f2 attest --slot 9a
check_eq "... slot 9a has no key to attest" 1 "$([ "$RC" -ne 0 ] && echo 1 || echo 0)"
cs_do f3 pin verify --pin-env PIN
check_rc "... the factory PIN still verifies" 0
exit 0
