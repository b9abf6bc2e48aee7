#!/usr/bin/env bash
# Each slot 9a/9c/9d/9e x each algorithm of a firmware 5.4.3 card (p256,
# p384, rsa2048): keygen -> attest --verify (attested key = generated key)
# -> csr (verifies, carries the key) -> certificate from a throwaway CA
# imported -> inspect --json shows it with key_matches true.
# CS_SLOT_FW / CS_SLOT_ALGS select another card (t-211).
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim ${CS_SLOT_SIMARGS:-} -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
ALGS=${CS_SLOT_ALGS:-p256 p384 rsa2048}
FW=${CS_SLOT_FW:-5.4.3}
PIN=123456
export PIN

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -subj /CN=throwaway-ca -out ca.pem >/dev/null 2>&1
# The vendor root plus its intermediate (5.7 cards chain through it, as
# real ones chain through "Yubico PIV Attestation B 1").
cat vendor/root.pem vendor/intermediate.pem >trust.pem
printf '[ext]\ncertificatePolicies=1.3.6.1.4.1.99999.1.2\n' >ext.cnf

# slot_json FILE SLOT PATH: value at PATH inside the slot's object.
slot_json() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    v = [s for s in d["slots"] if s["slot"] == sys.argv[2]][0]
    for k in [k for k in sys.argv[3].split(".") if k]:
        v = v[int(k)] if isinstance(v, list) else v[k]
except Exception:
    print("<missing>"); sys.exit(0)
print(v if isinstance(v, str) else json.dumps(v))
PY
}

cs_do info --json inspect --no-attest
check_eq "card firmware is $FW" "$FW" "$(json_get "$LAST.out" firmware)"

for slot in 9a 9c 9d 9e; do
	for alg in $ALGS; do
		n="$slot-$alg"
		cs_do "kg-$n" keygen --slot "$slot" --alg "$alg" --out "pub-$n.pem" --force
		check_rc "$n: keygen exits 0" 0
		if ! openssl pkey -pubin -in "pub-$n.pem" -noout 2>/dev/null; then
			tap_fail "$n: keygen wrote a public key"
			continue
		fi
		tap_ok "$n: keygen wrote a public key"
		cs_do "at-$n" --json attest --slot "$slot" --out "att-$n.pem" \
			--f9-out "f9-$n.pem" --verify --trust trust.pem
		check_rc "$n: attest --verify exits 0" 0
		check_eq "$n: attestation verified" true "$(json_get "$LAST.out" verified)"
		check_eq "$n: attestation names slot $slot" "$slot" "$(json_get "$LAST.out" slot)"
		check_eq "$n: attested key algorithm" "$alg" "$(json_get "$LAST.out" key_algorithm)"
		check_eq "$n: attested key = generated key (openssl)" \
			"$(pub_der "pub-$n.pem")" "$(cert_pub_der "att-$n.pem")"
		cs_do "csr-$n" csr --slot "$slot" --subject "CN=slot $n,O=cardsmith test" \
			--san "email:$n@example.org" --pin-env PIN --out "csr-$n.pem"
		check_rc "$n: csr exits 0" 0
		if openssl req -in "csr-$n.pem" -verify -noout >/dev/null 2>&1; then
			tap_ok "$n: openssl req -verify accepts the CSR"
		else
			tap_fail "$n: openssl req -verify accepts the CSR"
		fi
		check_eq "$n: CSR carries the generated key" \
			"$(pub_der "pub-$n.pem")" "$(csr_pub_der "csr-$n.pem")"
		openssl x509 -req -in "csr-$n.pem" -CA ca.pem -CAkey ca.key \
			-CAcreateserial -days 30 -extfile ext.cnf -extensions ext \
			-out "cert-$n.pem" >/dev/null 2>&1
		cs_do "imp-$n" cert import --slot "$slot" --in "cert-$n.pem"
		check_rc "$n: cert import exits 0" 0
		cs_do "exp-$n" cert export --slot "$slot"
		check_file "$n: cert export returns the imported certificate" \
			"cert-$n.pem" "$LAST.out"
		cs_do "ins-$n" --json inspect --trust trust.pem
		check_rc "$n: inspect exits 0" 0
		check_eq "$n: inspect shows the subject" \
			"CN=slot $n,O=cardsmith test" \
			"$(slot_json "$LAST.out" "$slot" certificate.subject)"
		check_eq "$n: inspect key_matches true" true \
			"$(slot_json "$LAST.out" "$slot" certificate.key_matches)"
		check_eq "$n: inspect shows the key algorithm" "$alg" \
			"$(slot_json "$LAST.out" "$slot" key.algorithm)"
		check_eq "$n: inspect: key generated on the card" generated \
			"$(slot_json "$LAST.out" "$slot" key.origin)"
		check_eq "$n: inspect: attestation valid" valid \
			"$(slot_json "$LAST.out" "$slot" attestation.status)"
		check_eq "$n: inspect: policy OID" '["1.3.6.1.4.1.99999.1.2"]' \
			"$(slot_json "$LAST.out" "$slot" certificate.policy_oids)"
		fp=$(openssl x509 -in "cert-$n.pem" -noout -fingerprint -sha256 |
			sed 's/.*=//')
		check_eq "$n: inspect: SHA-256 fingerprint" "$fp" \
			"$(slot_json "$LAST.out" "$slot" certificate.sha256_fingerprint)"
		dl=$(slot_json "$LAST.out" "$slot" certificate.days_left)
		case "$dl" in
		29 | 30) tap_ok "$n: inspect: days_left $dl of 30" ;;
		*) tap_fail "$n: inspect: days_left 29 or 30" "got: $dl" ;;
		esac
	done
done

# The text form names the same facts.
cs_do text inspect --trust trust.pem
check_match "inspect text: certificate subject" 'Subject: +CN=slot 9a-[a-z0-9]+,O=cardsmith test' "$LAST.out"
check_match "inspect text: key match line" 'Matches slot key: +yes' "$LAST.out"
check_match "inspect text: attestation valid" 'Attestation: +valid' "$LAST.out"
tap_done
