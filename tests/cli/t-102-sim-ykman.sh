#!/usr/bin/env bash
# Interop: ykman 4.0.9 against cardsmith-sim through pcscd + vpcd.
# (PINs and keys on the command line are unavoidable for this peer tool.)
set -u
if [ "${1:-}" != --inner ]; then
	. "$(dirname "$0")/lib.sh"
	command -v ykman >/dev/null || exit 77
	[ -x "$CS_BUILD/bin/cardsmith-sim" ] || exit 77
	cs_tmpdir
	"$CS_BUILD/bin/cardsmith-sim" init-vendor "$CS_TMP/vendor" || {
		echo "Bail out! init-vendor failed"
		exit 1
	}
	export CS_T="$CS_TMP"
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		'exec cardsmith-sim --vpcd-port $CS_VPCD_PORT --state $CS_T/card.state --vendor $CS_T/vendor' \
		-- bash "$0" --inner
	exit $?
fi

. "$(dirname "$0")/lib.sh"
cd "$CS_T" || exit 1
K() { ykman --reader "${CS_READER:-Virtual PCD 00 00}" "$@" </dev/null; }
M=010203040506070801020304050607080102030405060708

run() {
	local desc=$1
	shift
	if "$@" >"$CS_T/last.out" 2>&1; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$(tail -5 "$CS_T/last.out")"
	fi
}
refuse() {
	local desc=$1
	shift
	if "$@" >"$CS_T/last.out" 2>&1; then
		tap_fail "$desc" "unexpectedly succeeded"
	else
		tap_ok "$desc"
	fi
}
signed_by() {
	if python3 - "$2" "$3" >"$CS_T/last.out" 2>&1 <<'PY'; then
import sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
i = x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())
c.verify_directly_issued_by(i)
PY
		tap_ok "$1"
	else
		tap_fail "$1" "$(tail -3 "$CS_T/last.out")"
	fi
}
pubder() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | od -An -tx1; }
certpub() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | od -An -tx1; }
csrpub() { openssl req -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER | od -An -tx1; }

run "ykman info" K info
check_match "device serial 12345678" 'Serial number: 12345678' last.out
check_match "firmware 5.4.3" 'Firmware version: 5\.4\.3' last.out
check_match "PIV enabled" '^PIV[[:space:]]+Enabled' last.out
run "piv info on a fresh card" K piv info
check_match "PIN tries 3/3" 'PIN tries remaining: 3/3' last.out
check_match "default management key reported" 'Using default Management key' last.out
check_match "management key is TDES" 'Management key algorithm: TDES' last.out

run "keys generate 9a ECCP256" K piv keys generate -m $M -a ECCP256 9a pub9a.pem
run "keys generate 9c RSA2048" K piv keys generate -m $M -a RSA2048 9c pub9c.pem
run "keys export 9a (metadata)" K piv keys export 9a exp9a.pem
check_eq "exported key equals the generated key" "$(pubder pub9a.pem)" "$(pubder exp9a.pem)"

run "keys attest 9a" K piv keys attest 9a att.pem
run "certificates export f9" K piv certificates export f9 f9.pem
signed_by "statement signature verifies with the F9 key" att.pem f9.pem
signed_by "F9 signature verifies with the vendor root" f9.pem vendor/root.pem
check_eq "attested key equals the generated key" "$(pubder pub9a.pem)" "$(certpub att.pem)"

run "certificates generate 9a" K piv certificates generate -m $M -P 123456 -s CN=ykman-9a 9a pub9a.pem
run "certificates export 9a" K piv certificates export 9a c9a.pem
run "card-signed certificate verifies" openssl verify -CAfile c9a.pem c9a.pem
check_eq "certificate key equals the generated key" "$(pubder pub9a.pem)" "$(certpub c9a.pem)"
run "certificates generate 9c (RSA, PIN always)" K piv certificates generate -m $M -P 123456 -s CN=ykman-9c 9c pub9c.pem
run "certificates export 9c" K piv certificates export 9c c9c.pem
run "RSA card-signed certificate verifies" openssl verify -CAfile c9c.pem c9c.pem
run "certificates request 9a" K piv certificates request -P 123456 -s CN=csr 9a pub9a.pem csr.pem
run "CSR signature verifies" openssl req -in csr.pem -verify -noout
check_eq "CSR key equals the generated key" "$(pubder pub9a.pem)" "$(csrpub csr.pem)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout soft.key -subj /CN=imported -out soft.pem >/dev/null 2>&1
run "certificates import 9d" K piv certificates import -m $M 9d soft.pem
run "certificates export 9d" K piv certificates export 9d soft2.pem
run "exported certificate is the imported one" cmp soft.pem soft2.pem
run "keys import 9d" K piv keys import -m $M 9d soft.key
refuse "attest refuses an imported key" K piv keys attest 9d x.pem
run "piv info lists the certificates" K piv info
check_match "slot 9a subject shown" 'Subject DN:[[:space:]]+CN=ykman-9a' last.out

A256=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
run "change-management-key to AES-256" K piv access change-management-key -m $M -a AES256 -n $A256 -f
run "piv info after AES key" K piv info
check_match "management key algorithm AES256" 'Management key algorithm: AES256' last.out
run "keys generate with the AES key" K piv keys generate -m $A256 -a ECCP384 82 pub82.pem
check_match "P-384 key from the card" 'secp384r1|P-384' <(openssl pkey -pubin -in pub82.pem -noout -text 2>&1)
run "back to the default 3DES key" K piv access change-management-key -m $A256 -a TDES -n $M -f

run "access change-pin" K piv access change-pin -P 123456 -n 654321
run "access change-puk" K piv access change-puk -p 12345678 -n 87654321
run "change-management-key --protect" K piv access change-management-key -m $M --protect -P 654321 -f
run "piv info after protecting" K piv info
check_match "management key stored on the card" 'protected by PIN' last.out
run "keys generate 9e with only the PIN" K piv keys generate -P 654321 -a ECCP256 9e pub9e.pem
refuse "the old default management key is refused" K piv keys generate -m $M -a ECCP256 9e x.pem
run "access set-retries 5 6" K piv access set-retries 5 6 -P 654321 -f
run "piv info after set-retries" K piv info
check_match "PIN tries 5/5" 'PIN tries remaining: 5/5' last.out
check_match "PIN back to default" 'Using default PIN' last.out

run "piv reset --force" K piv reset --force
run "piv info after reset" K piv info
check_match "reset: PIN tries 3/3" 'PIN tries remaining: 3/3' last.out
check_match "reset: default management key" 'Using default Management key' last.out
refuse "reset: certificate 9a is gone" K piv certificates export 9a x.pem
refuse "reset: key 9a is gone" K piv keys export 9a x.pem
run "reset: F9 certificate kept" K piv certificates export f9 f9b.pem
run "reset: F9 certificate unchanged" cmp f9.pem f9b.pem
tap_done
