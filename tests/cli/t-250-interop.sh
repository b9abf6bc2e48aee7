#!/usr/bin/env bash
# Interop: a card personalised by cardsmith reads correctly in ykman,
# yubico-piv-tool, OpenSC (pkcs15-tool, and pkcs11-tool signing with the
# cardsmith-generated key); a PIN-protected management key set by
# cardsmith works with ykman's PIN-only flow and vice versa.
# (The peer tools take PINs on their command line; cardsmith never does.)
set -u
. "$(dirname "$0")/lib.sh"
P11=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	for t in ykman yubico-piv-tool pkcs15-tool pkcs11-tool; do
		command -v $t >/dev/null || exit 77
	done
	[ -f "$P11" ] || exit 77
	cs_tmpdir
	cs_with_sim -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
export OPENSC_CONF=/dev/null PIN=123456
M=010203040506070801020304050607080102030405060708
K() { ykman --reader "$CS_READER" "$@" </dev/null; }
Y() { yubico-piv-tool -r Virtual "$@" </dev/null; }
run() {
	local desc=$1
	shift
	if "$@" >"$CS_T/last.out" 2>&1; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$(tail -5 "$CS_T/last.out")"
	fi
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -subj /CN=interop-ca -out ca.pem >/dev/null 2>&1
issue() { # issue SLOT ALG CN
	cs_do "kg$1" keygen --slot "$1" --alg "$2" --pin-policy once --out "pub$1.pem" &&
		cs_do "csr$1" csr --slot "$1" --subject "CN=$3" --pin-env PIN --out "csr$1.pem" &&
		openssl x509 -req -in "csr$1.pem" -CA ca.pem -CAkey ca.key \
			-CAcreateserial -days 365 -out "c$1.pem" >/dev/null 2>&1 &&
		cs_do "imp$1" cert import --slot "$1" --in "c$1.pem"
}
run "cardsmith personalises 9a (P-256)" issue 9a p256 cardsmith-9a
run "cardsmith personalises 9c (RSA-2048)" issue 9c rsa2048 cardsmith-9c
run "cardsmith personalises 9d (P-384)" issue 9d p384 cardsmith-9d

# ykman
run "ykman piv info" K piv info
check_match "ykman: 9a certificate subject" 'Subject DN:[[:space:]]+CN=cardsmith-9a' last.out
check_match "ykman: 9c certificate subject" 'Subject DN:[[:space:]]+CN=cardsmith-9c' last.out
check_match "ykman: PIN tries 3/3" 'PIN tries remaining: 3/3' last.out
# ykman 4.0.9 has no "piv keys info" (ykman 5 does): the same facts come
# from "keys export" (GET METADATA) and "keys attest" (the card's statement).
run "ykman piv keys attest 9a" K piv keys attest 9a ykatt9a.pem
check_eq "ykman's attestation of 9a is for cardsmith's key" \
	"$(pub_der pub9a.pem)" "$(cert_pub_der ykatt9a.pem)"
python3 - ykatt9a.pem >pol.txt 2>&1 <<'PY'
import sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
for e in c.extensions:
    if e.oid.dotted_string == "1.3.6.1.4.1.41482.3.8":
        print(e.value.value.hex())
PY
check_eq "ykman's attestation: PIN policy once, touch never (0201)" 0201 "$(cat pol.txt)"
run "ykman piv keys export 9d" K piv keys export 9d yk9d.pem
check_eq "ykman's 9d key is cardsmith's P-384 key" "$(pub_der pub9d.pem)" "$(pub_der yk9d.pem)"
run "ykman piv keys export 9a" K piv keys export 9a yk9a.pem
check_eq "ykman's 9a public key is cardsmith's" "$(pub_der pub9a.pem)" "$(pub_der yk9a.pem)"
run "ykman piv certificates export 9c" K piv certificates export 9c yk9c.pem
check_eq "ykman's 9c certificate is the imported one" \
	"$(openssl x509 -in c9c.pem -outform DER | od -An -tx1)" \
	"$(openssl x509 -in yk9c.pem -outform DER | od -An -tx1)"

# yubico-piv-tool
run "yubico-piv-tool -a status" Y -a status
check_match "yubico-piv-tool: slot 9a" 'Slot 9a:' last.out
check_match "yubico-piv-tool: 9a subject" 'Subject DN:[[:space:]]+CN=cardsmith-9a' last.out
check_match "yubico-piv-tool: 9c subject" 'Subject DN:[[:space:]]+CN=cardsmith-9c' last.out

# OpenSC
run "pkcs15-tool --list-certificates" pkcs15-tool --reader 0 --list-certificates
check_match "pkcs15-tool: certificate 01 (9a)" 'ID[[:space:]]+: 01' last.out
check_match "pkcs15-tool: certificate 02 (9c)" 'ID[[:space:]]+: 02' last.out
run "pkcs15-tool --read-certificate 01" pkcs15-tool --reader 0 --read-certificate 01 -o r01.pem
check_eq "pkcs15-tool reads the certificate cardsmith stored in 9a" \
	"$(openssl x509 -in c9a.pem -outform DER | od -An -tx1)" \
	"$(openssl x509 -in r01.pem -outform DER | od -An -tx1)"
echo "signed by a cardsmith key" >data.txt
run "pkcs11-tool signs with the 9a key (ECDSA-SHA256)" \
	pkcs11-tool --module "$P11" --login --pin 123456 --sign --id 01 \
	-m ECDSA-SHA256 --signature-format openssl -i data.txt -o sig9a.bin
run "the 9a signature verifies with cardsmith's public key" \
	openssl dgst -sha256 -verify pub9a.pem -signature sig9a.bin data.txt
run "pkcs11-tool signs with the 9c key (RSA-PKCS SHA256)" \
	pkcs11-tool --module "$P11" --login --pin 123456 --sign --id 02 \
	-m SHA256-RSA-PKCS -i data.txt -o sig9c.bin
run "the 9c signature verifies with cardsmith's public key" \
	openssl dgst -sha256 -verify pub9c.pem -signature sig9c.bin data.txt

# cardsmith --protect, then ykman with only the PIN.
cs_do prot --json mgmt-key set --random --protect --pin-env PIN
check_rc "cardsmith mgmt-key set --random --protect: exit 0" 0
check_eq "mgmt-key set: AES-192 on a 5.4 card" aes192 "$(json_get "$LAST.out" algorithm)"
check_eq "mgmt-key set --protect: no key in the output" "<missing>" \
	"$(json_get "$LAST.out" management_key)"
run "ykman piv info after cardsmith --protect" K piv info
check_match "ykman: management key stored, protected by PIN" 'protected by PIN' last.out
check_match "ykman: management key AES192" 'Management key algorithm: AES192' last.out
run "ykman piv keys generate with only the PIN" K piv keys generate -P 123456 -a ECCP256 9e yk9e.pem
if K piv keys generate -m $M -a ECCP256 9e x.pem >last.out 2>&1; then
	tap_fail "ykman: the default management key no longer works"
else
	tap_ok "ykman: the default management key no longer works"
fi
cs_do ins1 --json inspect --no-attest
check_eq "cardsmith inspect: management key protected" true \
	"$(json_get "$LAST.out" management_key.protected)"
check_eq "cardsmith inspect: management key not default" false \
	"$(json_get "$LAST.out" management_key.default)"

# Reset, then ykman --protect --generate, then cardsmith with only the PIN.
cs_do rst reset --force
check_rc "cardsmith reset --force: exit 0" 0
run "ykman piv info after cardsmith reset" K piv info
check_match "after reset: default management key" 'Using default Management key' last.out
check_match "after reset: PIN tries 3/3" 'PIN tries remaining: 3/3' last.out
if K piv certificates export 9a x.pem >last.out 2>&1; then
	tap_fail "after reset: certificate 9a is gone"
else
	tap_ok "after reset: certificate 9a is gone"
fi
run "ykman change-management-key --protect --generate" \
	K piv access change-management-key -m $M --protect --generate -P 123456 -f
cs_do kgp keygen --slot 9a --alg p256 --pin-env PIN --out p9a.pem
check_rc "cardsmith keygen with only the PIN (ykman-protected key): exit 0" 0
cs_do kgn keygen --slot 9c --alg p256
check_rc "cardsmith keygen without the PIN: exit 2 (PIN needed, no terminal)" 2
check_match "... asks for the PIN by its options" 'no PIN given: use --pin-fd' "$LAST.err"
run "ykman piv keys export 9a (cardsmith's new key)" K piv keys export 9a yk9a2.pem
check_eq "ykman sees cardsmith's new 9a key" "$(pub_der p9a.pem)" "$(pub_der yk9a2.pem)"
tap_done
