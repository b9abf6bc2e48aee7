#!/bin/bash
# cardsmith ca: init, sign (software CSR from openssl req → software OID
# only; refused for a hardware profile), attested issuance, chain, verify,
# revoke + crl, list/show/reconcile, and agreement with
# `openssl verify -policy OID -explicit_policy -policy_check`.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=correct-horse-battery

sh "$CS_SRC/tests/data/ca/mint.sh" "$T/m" >/dev/null 2>&1 ||
	{ echo "Bail out! mint.sh failed"; exit 1; }

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --json \
	--profiles "$CS_SRC/profiles" --roots "$CS_SRC/share/yubico-piv-roots.pem"
check_eq "ca init exits 0" 0 "$RC"
check_eq "ca init json ok" true "$(json_get "$T/init.out" ok)"
arc=$(json_get "$T/init.out" arc)
HW=$(json_get "$T/init.out" policy_oids.hardware-attested)
SW=$(json_get "$T/init.out" policy_oids.software)
check_eq "arc is 1.2.840.113556.1.8000.2554.<uuid as 7 arcs>" ok \
	"$([[ $arc =~ ^1\.2\.840\.113556\.1\.8000\.2554(\.[0-9]{1,8}){7}$ ]] && echo ok)"
check_eq "hardware OID under the arc" "$arc.1.1" "$HW"
check_eq "CA dir mode 0700" 700 "$(stat -c %a "$D")"
check_eq "key files mode 0600" "600 600" \
	"$(stat -c %a "$D/root.key.pem") $(stat -c %a "$D/issuing.key.pem")"
check_match "CA key encrypted at rest" "ENCRYPTED PRIVATE KEY" "$D/issuing.key.pem"
cs_run "$T/init2" ca init --dir "$D" --pass-env CSPASS
check_eq "second init refused" 1 "$RC"

# The CA dir also comes from CARDSMITH_CA_DIR.
CARDSMITH_CA_DIR=$D cs_run "$T/trust" ca trust add "$T/m/root.pem" --json
check_eq "trust add via CARDSMITH_CA_DIR" 1 "$(json_get "$T/trust.out" added)"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/sw.key" -subj "/CN=Soft Ware" -out "$T/sw.csr" 2>/dev/null

# Genuine YubiKey evidence against the shipped roots: the chain verifies
# (the refusal is only that this CSR holds another key); the legacy
# U2F-rooted F9 is not trusted for PIV by default.
A=$CS_SRC/tests/data/attest
cs_run "$T/y543" ca sign --dir "$D" --profile piv-auth --csr "$T/sw.csr" \
	--attestation "$A/pivgo-543-9a.stmt.pem" \
	--intermediate "$A/pivgo-543-9a.f9.pem" --pass-env CSPASS
check_match "genuine 5.4.3 chain verifies with the shipped roots" \
	"different key" "$T/y543.err"
cs_run "$T/y574" ca sign --dir "$D" --profile piv-auth --csr "$T/sw.csr" \
	--attestation "$A/ovh-574-9a.stmt.pem" \
	--intermediate "$A/ovh-574-9a.f9.pem" --pass-env CSPASS
check_match "genuine 5.7.4 chain (Attestation Root 1) verifies" \
	"different key" "$T/y574.err"
cs_run "$T/u2f" ca sign --dir "$D" --profile piv-auth --csr "$T/sw.csr" \
	--attestation "$A/pivgo-437-u2f-9a.stmt.pem" \
	--intermediate "$A/pivgo-437-u2f-9a.f9.pem" --pass-env CSPASS
check_eq "U2F-rooted F9 refused by default (exit 5)" 5 "$RC"
check_eq "U2F-rooted F9: refused on the chain, not the key" 0 \
	"$(grep -c 'different key' "$T/u2f.err")"
cs_run "$T/sw" ca sign --dir "$D" --profile software --csr "$T/sw.csr" \
	--out "$T/sw.pem" --pass-env CSPASS --json
check_eq "software CSR issued" 0 "$RC"
check_eq "software level" software "$(json_get "$T/sw.out" level)"
openssl x509 -in "$T/sw.pem" -noout -text >"$T/sw.txt"
check_eq "software cert carries exactly one policy" 1 \
	"$(grep -c 'Policy:' "$T/sw.txt")"
check_match "that policy is the software OID" "Policy: $SW\$" "$T/sw.txt"
check_eq "no hardware OID in the software cert" 0 \
	"$(grep -c "$HW" "$T/sw.txt")"

cs_run "$T/swhw" ca sign --dir "$D" --profile piv-auth --csr "$T/sw.csr" \
	--out "$T/swhw.pem" --pass-env CSPASS
check_eq "software CSR refused for piv-auth (exit 6)" 6 "$RC"
check_match "refusal names the missing evidence" \
	"requires hardware-attested; the evidence proves only software" "$T/swhw.err"
check_eq "nothing written on refusal" no "$([ -e "$T/swhw.pem" ] && echo yes || echo no)"

cs_run "$T/hw" ca sign --dir "$D" --profile piv-auth --csr "$T/m/leaf.csr.pem" \
	--attestation "$T/m/stmt-9a.pem" --intermediate "$T/m/f9.pem" \
	--out "$T/hw.pem" --pass-env CSPASS --json
check_eq "attested CSR issued for piv-auth" 0 "$RC"
check_eq "hardware-attested level" hardware-attested "$(json_get "$T/hw.out" level)"
check_eq "card serial recorded" 12345678 "$(json_get "$T/hw.out" card_serial)"
HWSER=$(json_get "$T/hw.out" serial)

cs_run "$T/emb" ca sign --dir "$D" --profile piv-auth \
	--csr "$T/m/csr-embedded.pem" --out "$T/emb.pem" --pass-env CSPASS
check_eq "attestation read from the CSR's extensions" 0 "$RC"

cs_run "$T/chain" ca chain --dir "$D" --out "$T/chain.pem"
check_eq "ca chain" 0 "$RC"
check_eq "chain has issuing + root" 2 "$(grep -c 'BEGIN CERTIFICATE' "$T/chain.pem")"

cs_run "$T/v1" verify --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/hw.pem" --json
check_eq "verify accepts the hardware leaf" 0 "$RC"
check_eq "verify reports the level" hardware-attested "$(json_get "$T/v1.out" level)"
cs_run "$T/v2" verify --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/sw.pem" --json
check_eq "verify refuses the software leaf (exit 6)" 6 "$RC"
check_eq "refusal json" false "$(json_get "$T/v2.out" accepted)"
cs_run "$T/v3" verify --chain "$T/chain.pem" --require-level software "$T/sw.pem"
check_eq "software leaf passes a software check" 0 "$RC"

# Agreement with OpenSSL's explicit-policy check.
sed -n '/BEGIN/,/END/p' "$D/root.crt.pem" >"$T/root.pem"
ov() {
	openssl verify -CAfile "$T/root.pem" -untrusted "$D/issuing.crt.pem" \
		-policy "$1" -explicit_policy -policy_check "${@:2}" >/dev/null 2>&1
}
ov "$HW" "$T/hw.pem"
check_eq "openssl agrees: hardware leaf ok" 0 "$?"
ov "$HW" "$T/sw.pem"
check_eq "openssl agrees: software leaf not ok for the hardware OID" 1 \
	"$([ $? -ne 0 ] && echo 1 || echo 0)"

cs_run "$T/rev" ca revoke --dir "$D" --serial "$HWSER" --reason keyCompromise
check_eq "revoke" 0 "$RC"
cs_run "$T/crl" ca crl --dir "$D" --out "$T/crl.pem" --pass-env CSPASS
check_eq "crl" 0 "$RC"
openssl crl -in "$T/crl.pem" -noout -text >"$T/crl.txt" 2>&1
check_match "CRL lists the serial" "Serial Number: $HWSER" "$T/crl.txt"
check_match "CRL has a number" "CRL Number" "$T/crl.txt"
check_match "CRL has an AKI" "Authority Key Identifier" "$T/crl.txt"
cs_run "$T/v4" verify --chain "$T/chain.pem" --crl "$T/crl.pem" \
	--require-level hardware-attested "$T/hw.pem"
check_eq "verify refuses the revoked leaf (exit 5)" 5 "$RC"
check_match "revocation reason" "revoked" "$T/v4.out"
cat "$T/root.pem" "$D/issuing.crt.pem" >"$T/bundle.pem"
openssl verify -CAfile "$T/bundle.pem" -CRLfile "$T/crl.pem" -crl_check \
	"$T/hw.pem" >/dev/null 2>&1
check_eq "openssl agrees: revoked" 1 "$([ $? -ne 0 ] && echo 1 || echo 0)"
cs_run "$T/v5" verify --chain "$T/chain.pem" --crl "$T/crl.pem" \
	--require-level hardware-attested "$T/emb.pem"
check_eq "other hardware leaf still accepted with the CRL" 0 "$RC"

cs_run "$T/list" ca list --dir "$D" --json
check_eq "list has three certificates" 3 "$(json_get "$T/list.out" certificates.#)"
cs_run "$T/show" ca show --dir "$D" "$HWSER" --json
check_eq "show: revoked" revoked "$(json_get "$T/show.out" status)"
check_eq "show: card serial" 12345678 "$(json_get "$T/show.out" card_serial)"
check_eq "show: firmware" 5.7.4 "$(json_get "$T/show.out" firmware)"
cs_run "$T/exp" ca list --dir "$D" --expiring 100 --json
check_eq "expiring within 100 days: the software cert" 1 \
	"$(json_get "$T/exp.out" certificates.#)"
cs_run "$T/rec" ca reconcile --dir "$D" --json
check_eq "reconcile ok" true "$(json_get "$T/rec.out" integrity_ok)"

CSPASS=wrong cs_run "$T/badpw" ca sign --dir "$D" --profile software \
	--csr "$T/sw.csr" --pass-env CSPASS
check_eq "wrong passphrase exits 4" 4 "$RC"
check_eq "passphrase never echoed" 0 "$(cat "$T"/*.err "$T"/*.out | grep -c correct-horse)"
cs_nt "$T/nopw" ca sign --dir "$D" --profile software --csr "$T/sw.csr"
check_eq "no passphrase source and no terminal: usage error" 2 "$RC"
cs_run "$T/dry" ca sign --dir "$D" --profile software --csr "$T/sw.csr" \
	--dry-run --json
check_eq "dry run needs no passphrase" 0 "$RC"
check_eq "dry run issues nothing" 3 \
	"$("$CS" ca list --dir "$D" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["certificates"]))')"

tap_done
