#!/usr/bin/env bash
# 'ca init --root-subject/--issuing-subject/--hw-issuing-subject' (issue
# 9): the CA certificates carry the DNs given, multi-part, in the very
# order 'cardsmith csr --subject' gives the same string (one DN parser):
# RFC 4514 "CN=Root,O=Example,C=DE" is written last-to-first, so openssl
# -nameopt RFC2253 prints it back as given; the OpenSSL form
# "/C=DE/O=Example/CN=Root" is in DER order. Each CA signs with its subject
# as the issuer of what it issues. A subject csr would refuse is a usage
# error (exit 2) and creates nothing.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	export CS_E2E_OUT=$CS_TMP/tap
	cs_with_sim --serial 4720472 -- bash "$0" --inner
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
CSPASS=subjects-ca-pass
export PIN CSPASS
exec >"$CS_E2E_OUT"

subj() { # subj KIND FILE: the subject, RFC 2253 (last RDN first)
	openssl "$1" -in "$2" -noout -subject -nameopt RFC2253 2>/dev/null |
		sed 's/^subject=//'
}
issuer() {
	openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 2>/dev/null |
		sed 's/^issuer=//'
}
der_order() { # der_order FILE: the subject, DER order (oneline)
	openssl x509 -in "$1" -noout -subject -nameopt oneline 2>/dev/null |
		sed 's/^subject=//'
}

ROOT="CN=Example Root,OU=PKI,O=Example,C=DE"
ISS="CN=Example Issuing,O=Example,C=DE"
HW="CN=Example HW Issuing,O=Example,L=Berlin,C=DE"

cs_do kg keygen --slot 9a --alg p256 --out pub.pem --force
check_rc "keygen 9a" 0
n=0
for dn in "$ROOT" "$ISS" "$HW" "/C=DE/O=Example/CN=Slash Form"; do
	n=$((n + 1))
	cs_do csr$n csr --slot 9a --subject "$dn" --pin-env PIN \
		--out csr$n.pem
	check_rc "csr --subject '$dn'" 0
done

cs_do init ca init --dir ca --hardware-ca --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots vendor/root.pem \
	--root-subject "$ROOT" --issuing-subject "$ISS" \
	--hw-issuing-subject "$HW"
check_rc "ca init with three multi-part subjects" 0
check_eq "root subject as given (RFC 2253)" "$ROOT" "$(subj x509 ca/root.crt.pem)"
check_eq "root subject: the order csr gives" "$(subj req csr1.pem)" \
	"$(subj x509 ca/root.crt.pem)"
check_eq "root: DER order C, OU, O... as csr" \
	"C = DE, O = Example, OU = PKI, CN = Example Root" \
	"$(der_order ca/root.crt.pem)"
check_eq "root is self-issued" "$ROOT" "$(issuer ca/root.crt.pem)"
check_eq "issuing subject as given" "$ISS" "$(subj x509 ca/issuing.crt.pem)"
check_eq "issuing subject: the order csr gives" "$(subj req csr2.pem)" \
	"$(subj x509 ca/issuing.crt.pem)"
check_eq "issuing CA's issuer is the root" "$ROOT" \
	"$(issuer ca/issuing.crt.pem)"
check_eq "hardware issuing subject as given" "$HW" \
	"$(subj x509 ca/hw-issuing.crt.pem)"
check_eq "hardware issuing subject: the order csr gives" \
	"$(subj req csr3.pem)" "$(subj x509 ca/hw-issuing.crt.pem)"
check_eq "hardware issuing CA's issuer is the root" "$ROOT" \
	"$(issuer ca/hw-issuing.crt.pem)"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout sk.pem -subj "/CN=Leaf" -out leaf.csr 2>/dev/null
cs_do sign ca sign --dir ca --profile software --csr leaf.csr \
	--pass-env CSPASS --out leaf.pem
check_rc "ca sign (software)" 0
check_eq "leaf's issuer is the issuing CA's subject" "$ISS" "$(issuer leaf.pem)"

cs_do init2 ca init --dir ca2 --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem --root-subject "/C=DE/O=Example/CN=Slash Form"
check_rc "ca init with the OpenSSL form" 0
check_eq "slash form: the order csr gives" "$(subj req csr4.pem)" \
	"$(subj x509 ca2/root.crt.pem)"
check_eq "slash form: DER order as written" \
	"C = DE, O = Example, CN = Slash Form" "$(der_order ca2/root.crt.pem)"
check_eq "default issuing subject unchanged" "CN=cardsmith Issuing CA" \
	"$(subj x509 ca2/issuing.crt.pem)"

for bad in "" "CN" "CN=a,=b" "XX=bad" "CN=a,O"; do
	rm -rf bad
	cs_do bad ca init --dir bad --pass-env CSPASS --profiles "$CS_SRC/profiles" \
		--roots vendor/root.pem --root-subject "$bad"
	check_rc "--root-subject '$bad': exit 2" 2
	check_match "--root-subject '$bad': names the option" \
		"ca init: --root-subject" "$LAST.err"
	check_eq "--root-subject '$bad': no CA made" "" \
		"$(ls bad/root.crt.pem 2>/dev/null)"
done
rm -rf bad
cs_do badi ca init --dir bad --pass-env CSPASS --issuing-subject "CN=x,ZZ=y"
check_rc "bad --issuing-subject: exit 2" 2
cs_do badh ca init --dir bad --pass-env CSPASS --hw-issuing-subject "CN=HW"
check_rc "--hw-issuing-subject without --hardware-ca: exit 2" 2
cs_do badhj ca init --dir bad --hardware-ca --pass-env CSPASS \
	--hw-issuing-subject "CN=" --json
check_rc "bad --hw-issuing-subject --json: exit 2" 2
check_eq "bad --hw-issuing-subject --json: CS_ERR_ARG" CS_ERR_ARG \
	"$(json_get "$LAST.out" error.code)"
cs_do help ca init --help
check_match "--help names --root-subject" "--root-subject=DN" "$LAST.out"
check_match "--help describes the DN syntax" "CN=Root,O=Example,C=DE" "$LAST.out"
exit 0
