#!/bin/bash
# Issue 12, critical: a genuine slot statement in the F9 position. The
# fixtures (tests/data/forged/gen.sh) are a manufacturer shaped like
# Yubico's (root pathlen 1 -> F9 CA:TRUE pathlen 0 -> statements) and
# "statements" for a software key signed with a card's slot key K, issued
# by K's genuine statement. Every way in is refused with a reason: attest
# verify (files, CSR with .3.1/.3.2 and legacy .3.11, --trust bundles that
# hold the F9), ca sign (--attestation/--intermediate/--attestation-chain,
# embedded, every profile, including software), and verify never sees a
# hardware certificate for the software key. The genuine evidence from the
# same manufacturer still verifies.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
F=$CS_SRC/tests/data/forged
D=$T/ca
export CSPASS=forged-f9-test-passphrase

# The precondition: plain path validation accepts the statement as a leaf.
openssl verify -CAfile "$F/root.pem" -untrusted "$F/f9.pem" \
	"$F/stmt-9a.pem" >"$T/ossl.out" 2>&1
check_eq "precondition: openssl accepts the statement as a leaf under the CA:TRUE F9" \
	0 "$?"

# --- attest verify ---
cs_run "$T/good" attest verify --in "$F/stmt-9a.pem" --intermediate "$F/f9.pem" \
	--trust "$F/root.pem" --json
check_eq "genuine statement + F9: valid" 0 "$RC"
check_eq "genuine: slot 9a" 9a "$(json_get "$T/good.out" slot)"
cs_run "$T/goodcsr" attest verify --csr "$F/genuine.csr.pem" --trust "$F/root.pem"
check_eq "genuine CSR (.3.1 + .3.2): valid" 0 "$RC"

for fg in forged-9a forged-9c; do
	cs_run "$T/$fg" attest verify --in "$F/$fg.stmt.pem" \
		--intermediate "$F/stmt-9a.pem" --trust "$F/root.pem" --json
	check_eq "attest verify $fg with the statement as F9: exit 5" 5 "$RC"
	check_eq "attest verify $fg: not valid" CS_ERR_VERIFY \
		"$(json_get "$T/$fg.out" error.code)"
	check_match "attest verify $fg: the reason names the statement in the F9 position" \
		"is a slot attestation statement, not a device F9 certificate" "$T/$fg.out"
done
for c in forged forged-legacy forged-9c; do
	cs_run "$T/$c-csr" attest verify --csr "$F/$c.csr.pem" --trust "$F/root.pem"
	check_eq "attest verify --csr $c.csr.pem: exit 5" 5 "$RC"
	check_match "attest verify --csr $c.csr.pem: reason" \
		"slot attestation statement" "$T/$c-csr.err"
	check_eq "attest verify --csr $c.csr.pem: never prints valid" 0 \
		"$(grep -ci valid "$T/$c-csr.out")"
done
# The request must prove possession of the attested key: a genuine CSR
# with one signature byte flipped is refused (review finding).
openssl req -in "$F/genuine.csr.pem" -outform der -out "$T/badsig.der"
sz=$(stat -c %s "$T/badsig.der")
last=$(od -An -tu1 -j $((sz - 1)) -N 1 "$T/badsig.der" | tr -d ' ')
printf "$(printf '\\%03o' $(((last ^ 1) & 255)))" |
	dd of="$T/badsig.der" bs=1 seek=$((sz - 1)) conv=notrunc 2>/dev/null
cs_run "$T/badsig" attest verify --csr "$T/badsig.der" --trust "$F/root.pem"
check_eq "attest verify --csr with a broken request signature: exit 5" 5 "$RC"
check_match "broken request signature: reason" \
	"certificate request: signature does not verify" "$T/badsig.err"
# A root that also issues ordinary certificates: one of them is no F9.
cs_run "$T/ee" attest verify --in "$F/forged-ee.stmt.pem" \
	--intermediate "$F/ee.pem" --trust "$F/root.pem"
check_eq "an end-entity certificate in the F9 position: exit 5" 5 "$RC"
check_match "end-entity as F9: reason" "no device F9 certificate" "$T/ee.err"
# A trust bundle holding the F9 (root + F9, as for openssl -CAfile).
cs_run "$T/bundle" attest verify --in "$F/forged-9a.stmt.pem" \
	--intermediate "$F/stmt-9a.pem" --trust "$F/trust-with-f9.pem"
check_eq "a --trust bundle containing an F9 certificate is refused: exit 6" 6 "$RC"
check_match "bundle: says the F9 can never be trusted" \
	"certificate #2 \(CN=Yubico PIV Attestation\) is a device attestation certificate" \
	"$T/bundle.err"
# The F9 in the F9 position but the forgery as statement: wrong signer.
cs_run "$T/f9pos" attest verify --in "$F/forged-9a.stmt.pem" \
	--intermediate "$F/f9.pem" --trust "$F/root.pem"
check_eq "forgery against the real F9: exit 5" 5 "$RC"

# --- ca sign ---
cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots "$F/root.pem"
check_eq "ca init trusting the Yubico-shaped test root" 0 "$RC"
# ca trust add refuses device certificates outright.
cs_run "$T/tadd" ca trust add --dir "$D" "$F/f9.pem"
check_eq "ca trust add of an F9 certificate: refused (exit 6)" 6 "$RC"
check_match "ca trust add: reason" "device attestation certificate" "$T/tadd.err"
cs_run "$T/tadd2" ca trust add --dir "$D" "$F/stmt-9a.pem"
check_eq "ca trust add of a slot statement: refused (exit 6)" 6 "$RC"
check_eq "ca trust add wrote nothing" 0 \
	"$(ls "$D/trust" | grep -c '^added-')"

n=0
# name | profile | args (space separated, relative to $F) | exit
while IFS='|' read -r name prof args code; do
	n=$((n + 1))
	set -- $args
	a=()
	for w in "$@"; do
		case "$w" in
		--*) a+=("$w") ;;
		*) a+=("$F/$w") ;;
		esac
	done
	cs_run "$T/s$n" ca sign --dir "$D" --profile "$prof" "${a[@]}" \
		--pass-env CSPASS --out "$T/s$n.pem"
	check_eq "ca sign $name ($prof): exit $code" "$code" "$RC"
	check_match "ca sign $name: reason given" \
		"slot attestation statement|not a manufacturer CA in the trust store|no device F9 certificate" "$T/s$n.err"
	check_eq "ca sign $name: no certificate written" no \
		"$([ -e "$T/s$n.pem" ] && echo yes || echo no)"
done <<'EOF'
files, statement as F9|piv-auth|--csr soft.csr.pem --attestation forged-9a.stmt.pem --intermediate stmt-9a.pem|5
files, F9 as --attestation-chain|piv-auth|--csr soft.csr.pem --attestation forged-9a.stmt.pem --intermediate stmt-9a.pem --attestation-chain f9.pem|5
files, slot 9c claim|piv-sign|--csr soft.csr.pem --attestation forged-9c.stmt.pem --intermediate stmt-9a.pem --attestation-chain f9.pem|5
files, software profile|software|--csr soft.csr.pem --attestation forged-9a.stmt.pem --intermediate stmt-9a.pem --attestation-chain f9.pem|5
embedded .3.1/.3.2|piv-auth|--csr forged.csr.pem|5
embedded .3.1/.3.2 with the F9 as chain|piv-auth|--csr forged.csr.pem --attestation-chain f9.pem|5
embedded legacy .3.11|piv-auth|--csr forged-legacy.csr.pem|5
embedded, slot 9c claim|piv-sign|--csr forged-9c.csr.pem --attestation-chain f9.pem|5
embedded, software profile|software|--csr forged.csr.pem|5
end-entity cert as F9|piv-auth|--csr forged-ee.csr.pem|5
end-entity cert as F9, files|piv-auth|--csr soft.csr.pem --attestation forged-ee.stmt.pem --intermediate ee.pem|5
EOF
check_match "the F9 sent as chain is named as not trusted" \
	"attestation chain ignored: certificate #1 \(CN=Yubico PIV Attestation\)" "$T/s2.err"
check_eq "the registry holds nothing after the attempts" 0 \
	"$(sqlite3 "$D/registry.db" 'select count(*) from certs' 2>/dev/null)"

# The genuine evidence of the same manufacturer is hardware-attested.
cs_run "$T/gsign" ca sign --dir "$D" --profile piv-auth \
	--csr "$F/genuine.csr.pem" --pass-env CSPASS --out "$T/genuine.pem" --json
check_eq "genuine CSR: issued" 0 "$RC"
check_eq "genuine CSR: hardware-attested" hardware-attested \
	"$(json_get "$T/gsign.out" level)"

# --- verify: the software key never holds a hardware certificate ---
cs_run "$T/ssign" ca sign --dir "$D" --profile software \
	--csr "$F/soft.csr.pem" --pass-env CSPASS --out "$T/soft.pem"
check_eq "the software key can get a software certificate" 0 "$RC"
cs_run "$T/chain" ca chain --dir "$D" --out "$T/chain.pem"
cs_run "$T/vsoft" verify --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/soft.pem"
check_eq "verify --require-level hardware-attested refuses it (exit 6)" 6 "$RC"
cs_run "$T/vgood" verify --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/genuine.pem"
check_eq "verify accepts the genuine card certificate" 0 "$RC"
tap_done
