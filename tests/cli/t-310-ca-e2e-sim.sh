#!/usr/bin/env bash
# End to end on the virtual card: keygen -> attest -> csr -> ca sign
# (hardware-attested, card serial from the attestation) -> cert import ->
# verify accepts. Then a card that offers no attestation (--no-attestation
# sim mode): `ca sign` on its CSR file can prove only software, so the
# hardware profile refuses it and the software profile gives the software
# OID (hardware-enrolled is reachable only through the in-process
# enrollment path, never from a file).
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ] && [ "${1:-}" != --inner-noatt ]; then
	cs_need_sim
	cs_tmpdir
	export CS_E2E_OUT=$CS_TMP/tap
	cs_with_sim --serial 7654321 -- bash "$0" --inner
	rc=$?
	[ $rc -eq 77 ] && exit 77
	# cs_with_sim always passes --vendor; this card has none.
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		"exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state \$CS_HARNESS_DIR/card.state --no-attestation" \
		-- bash "$0" --inner-noatt
	rc2=$?
	# One TAP stream: renumber both rounds' lines.
	cat "$CS_TMP/tap.inner" "$CS_TMP/tap.inner-noatt" 2>/dev/null |
		awk '/^(not )?ok [0-9]+/ { n++; sub(/ok [0-9]+/, "ok " n) }
		     { print } END { print "1.." n }' >"$CS_TMP/tap.all"
	cat "$CS_TMP/tap.all"
	[ "$rc" -eq 0 ] && [ "$rc2" -eq 0 ] &&
		! grep -q '^not ok' "$CS_TMP/tap.all"
	exit $?
fi
cd "$CS_T" || exit 1
PIN=123456
CSPASS=e2e-ca-passphrase
export PIN CSPASS
mode=$1
exec >"$CS_E2E_OUT.${mode#--}"
if [ "$mode" = --inner-noatt ]; then
	cs_do na-kg keygen --slot 9a --alg p256 --out na-pub.pem --force
	check_rc "no-attestation card: keygen" 0
	cs_do na-csr csr --slot 9a --subject "CN=No Att" --pin-env PIN \
		--out na-csr.pem
	check_rc "no-attestation card: csr" 0
	cs_do na-att attest --slot 9a --out na-att.pem
	check_eq "no-attestation card: attest fails" 1 "$([ "$RC" -ne 0 ] && echo 1 || echo 0)"
	cs_do na-sign ca sign --dir ca --profile piv-auth --csr na-csr.pem \
		--pass-env CSPASS --out na-hw.pem
	check_rc "no attestation: hardware profile refuses (exit 6)" 6
	cs_do na-sw ca sign --dir ca --profile software --csr na-csr.pem \
		--pass-env CSPASS --out na-sw.pem --json
	check_rc "no attestation: software profile issues" 0
	check_eq "no attestation: level software, never hardware-enrolled" \
		software "$(json_get "$LAST.out" level)"
	cs_do na-v verify --chain chain.pem --require-level hardware-enrolled \
		na-sw.pem
	check_rc "no attestation: verify refuses it as hardware (exit 6)" 6
	exit 0
fi

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "ca init trusting the sim's vendor root" 0
cs_do kg keygen --slot 9a --alg p256 --out pub.pem --force
check_rc "keygen 9a p256" 0
cs_do att attest --slot 9a --out att.pem --f9-out f9.pem
check_rc "attest 9a" 0
cs_do csr csr --slot 9a --subject "CN=E2E User,O=cardsmith" --pin-env PIN \
	--out csr.pem
check_rc "csr 9a" 0
cs_do sign ca sign --dir ca --profile piv-auth --csr csr.pem \
	--attestation att.pem --intermediate f9.pem \
	--attestation-chain vendor/intermediate.pem --pass-env CSPASS \
	--out cert.pem --json
check_rc "ca sign: hardware-attested" 0
check_eq "level" hardware-attested "$(json_get "$LAST.out" level)"
check_eq "card serial from the attestation" 7654321 \
	"$(json_get "$LAST.out" card_serial)"
check_eq "certificate holds the card's key" "$(pub_der pub.pem)" \
	"$(cert_pub_der cert.pem)"
cs_do imp cert import --slot 9a --in cert.pem
check_rc "cert import" 0
cs_do exp cert export --slot 9a
check_file "the card returns the issued certificate" cert.pem "$LAST.out"
cs_do chain ca chain --dir ca --out chain.pem
check_rc "ca chain" 0
cs_do v verify --chain chain.pem --require-level hardware-attested cert.pem \
	--json
check_rc "verify accepts the card's certificate" 0
check_eq "verify: level" hardware-attested "$(json_get "$LAST.out" level)"
# Another card's slot statement is not evidence for this key.
cs_do kg2 keygen --slot 9c --alg p256 --out pub9c.pem --force
cs_do att2 attest --slot 9c --out att9c.pem --f9-out f9c.pem
cs_do sign2 ca sign --dir ca --profile piv-auth --csr csr.pem \
	--attestation att9c.pem --intermediate f9c.pem \
	--attestation-chain vendor/intermediate.pem --pass-env CSPASS
check_rc "9c attestation for the 9a CSR refused (exit 5)" 5
check_match "reason: different key" "different key" "$LAST.err"
exit 0
