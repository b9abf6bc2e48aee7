#!/usr/bin/env bash
# Issue 12, critical, end to end on the virtual card: the sim issues its F9
# as CA:TRUE pathlen 0 (--f9-ca, the shape of most firmware 5 YubiKeys).
# The attacker has only the card and its PIN: the slot key signs, as an
# ordinary PIV signature (tests/harness/forgestmt), "statements" for a
# software key issued by the slot's genuine statement. ca sign (files and
# embedded), attest verify and verify refuse every variant; the genuine
# card flow on the same card stays hardware-attested.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	[ -x "$CS_BUILD/tests/harness/forgestmt" ] || exit 77
	cs_tmpdir
	cs_with_sim --f9-ca --serial 5550123 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
PIN=123456
CSPASS=forged-sim-ca-passphrase
export PIN CSPASS
Y=1.3.6.1.4.1.41482.3
FORGE=$CS_BUILD/tests/harness/forgestmt
hex() { openssl x509 -in "$1" -outform der | od -An -v -tx1 | tr -d ' \n'; }

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "ca init trusting the sim's vendor root" 0
cs_do kg keygen --slot 9a --alg p256 --out pub.pem --force
check_rc "keygen 9a p256" 0
cs_do att attest --slot 9a --out att.pem --f9-out f9.pem
check_rc "attest 9a" 0
check_match "the sim's F9 is CA:TRUE, pathlen 0 (--f9-ca)" 'CA:TRUE, pathlen:0' \
	<(openssl x509 -in f9.pem -noout -ext basicConstraints 2>&1)
openssl verify -CAfile vendor/root.pem -untrusted f9.pem att.pem >/dev/null 2>&1
check_eq "precondition: openssl accepts the slot statement as a leaf" 0 "$?"

# The genuine flow on the same card.
cs_do csr csr --slot 9a --subject "CN=Card Holder" --pin-env PIN --attest \
	--out card.csr
check_rc "csr 9a with the attestation embedded" 0
cs_do good ca sign --dir ca --profile piv-auth --csr card.csr \
	--pass-env CSPASS --out card.pem --json
check_rc "genuine card CSR: issued" 0
check_eq "genuine card CSR: hardware-attested" hardware-attested \
	"$(json_get "$LAST.out" level)"

# The attacker: a software key, and statements the card signs for it.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out soft.key 2>/dev/null
openssl pkey -in soft.key -pubout -out soft.pub
openssl req -new -key soft.key -subj /CN=Mallory -out soft.csr
"$FORGE" --stmt att.pem --pubkey soft.pub --slot 9a --pin-env PIN \
	--claim-slot 9a --claim-firmware 5.7.4 --claim-serial 5550123 \
	--claim-policy 3:2 --out forged.pem 2>forge.err
check_eq "the slot key signs a forged statement (an ordinary PIV signature)" \
	0 "$?"
"$FORGE" --stmt att.pem --pubkey soft.pub --slot 9a --pin-env PIN \
	--claim-slot 9c --claim-firmware 5.7.4 --claim-serial 5550123 \
	--claim-policy 3:2 --out forged9c.pem 2>forge9c.err
check_eq "and one claiming slot 9c" 0 "$?"
check_eq "the forgery certifies the software key" "$(pub_der soft.pub)" \
	"$(cert_pub_der forged.pem)"
openssl req -new -key soft.key -subj /CN=Mallory \
	-addext "$Y.1=DER:$(hex forged.pem)" -addext "$Y.2=DER:$(hex att.pem)" \
	-out forged.csr 2>/dev/null
openssl req -new -key soft.key -subj /CN=Mallory \
	-addext "$Y.11=DER:$(hex forged.pem)" -addext "$Y.2=DER:$(hex att.pem)" \
	-out forged-legacy.csr 2>/dev/null

n=0
# name | profile | args | exit
while IFS='|' read -r name prof args code; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	cs_do s$n ca sign --dir ca --profile "$prof" $args \
		--pass-env CSPASS --out s$n.pem
	check_rc "ca sign $name ($prof): refused, exit $code" "$code"
	check_match "ca sign $name: reason" \
		'slot attestation statement|not a manufacturer CA in the trust store' \
		"$LAST.err"
	check_eq "ca sign $name: no certificate written" no \
		"$([ -e s$n.pem ] && echo yes || echo no)"
done <<'EOF'
statement as F9|piv-auth|--csr soft.csr --attestation forged.pem --intermediate att.pem|5
with the real F9 as chain|piv-auth|--csr soft.csr --attestation forged.pem --intermediate att.pem --attestation-chain f9.pem|5
slot 9c claim|piv-sign|--csr soft.csr --attestation forged9c.pem --intermediate att.pem --attestation-chain f9.pem|5
embedded .3.1/.3.2|piv-auth|--csr forged.csr --attestation-chain f9.pem|5
embedded legacy .3.11|piv-auth|--csr forged-legacy.csr|5
embedded, software profile|software|--csr forged.csr|5
EOF

cs_do av attest verify --csr forged.csr --trust vendor/root.pem
check_rc "attest verify --csr of the forged CSR: exit 5" 5
check_eq "attest verify never says valid" 0 "$(grep -ci valid "$LAST.out")"
cs_do av2 attest verify --in forged.pem --intermediate att.pem \
	--trust vendor/root.pem
check_rc "attest verify of the forged statement: exit 5" 5
check_match "attest verify: reason" 'is a slot attestation statement' "$LAST.err"

# verify: the software key ends up with a software certificate at most.
cs_do sw ca sign --dir ca --profile software --csr soft.csr --pass-env CSPASS \
	--out soft.pem
check_rc "the software key's plain CSR gets a software certificate" 0
cs_do chain ca chain --dir ca --out chain.pem
cs_do v1 verify --chain chain.pem --require-level hardware-attested soft.pem
check_rc "verify --require-level hardware-attested refuses it (exit 6)" 6
cs_do v2 verify --chain chain.pem --require-level hardware-attested card.pem
check_rc "verify accepts the card's own certificate" 0
cs_do list ca list --dir ca --json
check_eq "the registry holds only the two legitimate certificates" 2 \
	"$(json_get "$LAST.out" certificates.#)"
tap_done
