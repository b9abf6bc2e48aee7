#!/bin/bash
# cardsmith ca sign with forged or insufficient evidence: each case is
# refused with its own reason and exit code (5: evidence does not verify,
# 6: policy), nothing is written and the registry stays empty.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
M=$T/m
export CSPASS=forged-test-pass
sh "$CS_SRC/tests/data/ca/mint.sh" "$M" >/dev/null 2>&1 ||
	{ echo "Bail out! mint.sh failed"; exit 1; }
cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots "$M/root.pem"
check_eq "ca init trusting the test manufacturer root" 0 "$RC"

# name | csr | statement | F9 | extra | exit | reason
while IFS='|' read -r name csr stmt f9 extra code reason; do
	args=(--csr "$M/$csr")
	[ -n "$stmt" ] && args+=(--attestation "$M/$stmt" --intermediate "$M/$f9")
	[ -n "$extra" ] && args+=(--attestation-chain "$M/$extra")
	cs_run "$T/$name" ca sign --dir "$D" --profile piv-auth "${args[@]}" \
		--pass-env CSPASS --out "$T/$name.pem"
	check_eq "$name: exit $code" "$code" "$RC"
	check_match "$name: reason" "$reason" "$T/$name.err"
	check_eq "$name: no certificate written" no \
		"$([ -e "$T/$name.pem" ] && echo yes || echo no)"
done <<'EOF2'
untrusted-root|leaf.csr.pem|stmt-untrusted.pem|f9-untrusted.pem||5|no trusted manufacturer root
other-key|leaf.csr.pem|stmt-other.pem|f9.pem||5|attestation is for a different key
other-slot|leaf.csr.pem|stmt-9c.pem|f9.pem||6|attested slot 9c is not allowed by profile piv-auth
untrusted-intermediate|leaf.csr.pem|stmt-midexp.pem|f9-midexp.pem|mid-expired.pem|5|issuer 'CN=cardsmith Test Attestation Mid Old' is not a manufacturer CA in the trust store
serial-mismatch|leaf.csr.pem|stmt-serial.pem|f9-serial.pem||5|card serial mismatch
pin-policy|leaf.csr.pem|stmt-pinnever.pem|f9.pem||6|PIN policy 'never' is below the profile piv-auth minimum 'once'
tampered-signature|leaf.csr.pem|stmt-badsig.der|f9.pem||5|statement signature does not verify
csr-signature|leaf-badsig.csr.der|stmt-9a.pem|f9.pem||5|CSR signature invalid
roca-firmware|rsa.csr.pem|stmt-rsa434.pem|f9.pem||6|ROCA
no-attestation|leaf.csr.pem||||6|requires hardware-attested
EOF2

# The intermediate sent along was not used, and the warning says so.
check_match "untrusted-intermediate: the chain sent along is named as ignored" \
	'attestation chain ignored: certificate #1 \(CN=cardsmith Test Attestation Mid Old\) is not in the manufacturer trust store' \
	"$T/untrusted-intermediate.err"
# Trusted by the CA, the same expired intermediate fails on its validity.
cs_run "$T/tadd" ca trust add --dir "$D" "$M/mid-expired.pem"
check_eq "ca trust add of the expired intermediate" 0 "$RC"
cs_run "$T/expired-intermediate" ca sign --dir "$D" --profile piv-auth \
	--csr "$M/leaf.csr.pem" --attestation "$M/stmt-midexp.pem" \
	--intermediate "$M/f9-midexp.pem" --pass-env CSPASS \
	--out "$T/expired-intermediate.pem"
check_eq "expired-intermediate (trusted): exit 5" 5 "$RC"
check_match "expired-intermediate (trusted): reason" 'certificate has expired' \
	"$T/expired-intermediate.err"

cs_run "$T/list" ca list --dir "$D" --json
check_eq "registry still empty" 0 "$(json_get "$T/list.out" certificates.#)"
cs_run "$T/good" ca sign --dir "$D" --profile piv-auth --csr "$M/leaf.csr.pem" \
	--attestation "$M/stmt-9a.pem" --intermediate "$M/f9.pem" \
	--pass-env CSPASS --out "$T/good.pem" --json
check_eq "the genuine evidence is accepted" 0 "$RC"
check_eq "genuine: hardware-attested" hardware-attested "$(json_get "$T/good.out" level)"
cs_run "$T/lost" ca revoke --dir "$D" --card 12345678 --reason keyCompromise --json
check_eq "revoke everything of a lost card" 1 "$(json_get "$T/lost.out" revoked)"
cs_run "$T/lost2" ca revoke --dir "$D" --card 12345678
check_eq "nothing left to revoke for that card" 1 "$RC"
tap_done
