#!/usr/bin/env bash
# The CSR's requested values, end to end on the virtual card (issue 12):
# piv-sign takes the e-mail the CSR asks for (it used to refuse "template
# needs %{email}"), piv-keymgmt never takes it and says so, and an RSA-2048
# key in 9D gets a key management certificate from piv-keymgmt-rsa
# (keyEncipherment) that verifies as hardware-attested and goes back onto
# the card.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	export CS_E2E_OUT=$CS_TMP/tap
	cs_with_sim --serial 4310431 -- bash "$0" --inner
	rc=$?
	[ $rc -eq 77 ] && exit 77
	cat "$CS_TMP/tap" 2>/dev/null
	n=$(grep -cE '^(not )?ok ' "$CS_TMP/tap" 2>/dev/null)
	echo "1..${n:-0}"
	[ "$rc" -eq 0 ] && [ "${n:-0}" -gt 0 ] && ! grep -q '^not ok' "$CS_TMP/tap"
	exit $?
fi
cd "$CS_T" || exit 1
PIN=123456
CSPASS=csr-values-ca-pass
export PIN CSPASS
exec >"$CS_E2E_OUT"
CHAIN=(--attestation-chain vendor/intermediate.pem)

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "ca init trusting the sim's vendor root" 0

# 9C, PIN always: piv-sign takes the CSR's e-mail and UPN.
cs_do kg9c keygen --slot 9c --alg p256 --pin-policy always --out pub9c.pem \
	--force
check_rc "keygen 9c p256, PIN always" 0
cs_do att9c attest --slot 9c --out att9c.pem --f9-out f9.pem
check_rc "attest 9c" 0
cs_do csr9c csr --slot 9c --subject "CN=Jane Doe,O=Acme" --pin-env PIN \
	--san email:jane@example.com --san upn:jane@EXAMPLE.COM \
	--san dns:host.example.com --out csr9c.pem
check_rc "csr 9c with e-mail, UPN and DNS SANs" 0
cs_do sign9c ca sign --dir ca --profile piv-sign --csr csr9c.pem \
	--attestation att9c.pem --intermediate f9.pem "${CHAIN[@]}" \
	--pass-env CSPASS --out sign.pem --json
check_rc "piv-sign issues from the CSR's e-mail (no --var)" 0
check_eq "level" hardware-attested "$(json_get "$LAST.out" level)"
openssl x509 -in sign.pem -noout -ext subjectAltName >sign-san.txt 2>&1
check_match "the CSR's e-mail is in the certificate" "email:jane@example.com" \
	sign-san.txt
check_eq "dropped: the DNS name and O=" "san.dns subject.O" \
	"$(json_get "$LAST.out" dropped.0.field) $(json_get "$LAST.out" dropped.1.field)"
check_match "warning names what was dropped and why" \
	"warning: dropped san.dns 'host.example.com': profile piv-sign does not allow DNS SANs from the CSR" \
	"$LAST.err"

# 9D, P-256: piv-keymgmt never takes the CSR's e-mail.
cs_do kg9d keygen --slot 9d --alg p256 --out pub9d.pem --force
check_rc "keygen 9d p256" 0
cs_do att9d attest --slot 9d --out att9d.pem --f9-out f9d.pem
cs_do csr9d csr --slot 9d --subject "CN=Jane Doe" --pin-env PIN \
	--san email:jane@example.com --out csr9d.pem
check_rc "csr 9d with an e-mail SAN" 0
cs_do km ca sign --dir ca --profile piv-keymgmt --csr csr9d.pem \
	--attestation att9d.pem --intermediate f9d.pem "${CHAIN[@]}" \
	--pass-env CSPASS --out km.pem
check_rc "piv-keymgmt without --var email refused (exit 6)" 6
check_match "the refusal says why the CSR's e-mail was not taken" \
	"template needs %\\{email\\}.*san.email 'jane@example.com' was not taken: profile piv-keymgmt does not allow email SANs" \
	"$LAST.err"
cs_do km2 ca sign --dir ca --profile piv-keymgmt --csr csr9d.pem \
	--attestation att9d.pem --intermediate f9d.pem "${CHAIN[@]}" \
	--var email=officer@example.com --pass-env CSPASS --out km.pem --json
check_rc "piv-keymgmt with --var email" 0
check_eq "dropped[0] is the CSR's e-mail" \
	"san.email jane@example.com" \
	"$(json_get "$LAST.out" dropped.0.field) $(json_get "$LAST.out" dropped.0.value)"
check_eq "with the reason" \
	"profile piv-keymgmt does not allow email SANs from the CSR (csr_san)" \
	"$(json_get "$LAST.out" dropped.0.reason)"
openssl x509 -in km.pem -noout -ext subjectAltName >km-san.txt 2>&1
if grep -q "jane@example.com" km-san.txt; then
	tap_fail "piv-keymgmt took the CSR's e-mail"
else
	tap_ok "piv-keymgmt carries the officer's e-mail only"
fi

# 9D, RSA-2048: the RSA key management profile, end to end.
cs_do kgr keygen --slot 9d --alg rsa2048 --out pubr.pem --force
check_rc "keygen 9d rsa2048" 0
cs_do attr attest --slot 9d --out attr.pem --f9-out f9r.pem
check_rc "attest 9d (RSA)" 0
cs_do csrr csr --slot 9d --subject "CN=Jane Doe" --pin-env PIN --out csrr.pem
check_rc "csr 9d (RSA)" 0
cs_do kmec ca sign --dir ca --profile piv-keymgmt --csr csrr.pem \
	--attestation attr.pem --intermediate f9r.pem "${CHAIN[@]}" \
	--var email=jane@example.com --pass-env CSPASS --out kmec.pem
check_rc "the EC profile refuses the RSA key (exit 6)" 6
cs_do kmr ca sign --dir ca --profile piv-keymgmt-rsa --csr csrr.pem \
	--attestation attr.pem --intermediate f9r.pem "${CHAIN[@]}" \
	--var email=jane@example.com --pass-env CSPASS --out kmr.pem --json
check_rc "piv-keymgmt-rsa issues for the RSA-2048 9D key" 0
check_eq "level" hardware-attested "$(json_get "$LAST.out" level)"
check_eq "certificate holds the card's key" "$(pub_der pubr.pem)" \
	"$(cert_pub_der kmr.pem)"
openssl x509 -in kmr.pem -noout -ext keyUsage >kmr-ku.txt 2>&1
check_match "keyUsage is keyEncipherment (RSA key transport)" \
	"^ *Key Encipherment$" kmr-ku.txt
cs_do chain ca chain --dir ca --out chain.pem
# A key-management certificate is no TLS client credential: --purpose any.
cs_do v verify --chain chain.pem --require-level hardware-attested \
	--purpose any kmr.pem
check_rc "verify accepts it as hardware-attested" 0
cs_do imp cert import --slot 9d --in kmr.pem
check_rc "cert import 9d" 0
cs_do exp cert export --slot 9d
check_file "the card returns the 9D certificate" kmr.pem "$LAST.out"
exit 0
