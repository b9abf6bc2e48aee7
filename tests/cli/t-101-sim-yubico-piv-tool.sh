#!/usr/bin/env bash
# Interop: yubico-piv-tool 2.2 against cardsmith-sim through pcscd + vpcd.
# (PINs on the command line are unavoidable for this peer tool.)
set -u
if [ "${1:-}" != --inner ]; then
	. "$(dirname "$0")/lib.sh"
	command -v yubico-piv-tool >/dev/null || exit 77
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
Y() { yubico-piv-tool -r Virtual "$@"; }
NEWMGM=0f0e0d0c0b0a09080706050403020100a1a2a3a4a5a6a7a8

# run DESC CMD...: ok when CMD exits 0; output kept in $T.out
run() {
	local desc=$1
	shift
	if "$@" >"$CS_T/last.out" 2>&1; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$(tail -5 "$CS_T/last.out")"
	fi
}
# refuse DESC CMD...: ok when CMD fails
refuse() {
	local desc=$1
	shift
	if "$@" >"$CS_T/last.out" 2>&1; then
		tap_fail "$desc" "unexpectedly succeeded"
	else
		tap_ok "$desc"
	fi
}
# signed_by DESC CERT ISSUER: CERT's signature verifies with ISSUER's key
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

run "status" Y -a status
check_match "status shows firmware 5.4.3" 'Version:[[:space:]]+5\.4\.3' last.out
check_match "status shows serial 12345678" 'Serial Number:[[:space:]]+12345678' last.out
check_match "status shows 3 PIN tries" 'PIN tries left:[[:space:]]+3' last.out
run "version" Y -a version
check_match "version is 5.4.3" 'Application version 5\.4\.3' last.out
run "verify-pin" Y -a verify-pin -P 123456
refuse "verify-pin with a wrong PIN fails" Y -a verify-pin -P 111111
check_match "wrong PIN reports 2 tries left" '2 tries left' last.out
run "verify-pin restores the counter" Y -a verify-pin -P 123456

run "generate 9a ECCP256" Y -a generate -s 9a -A ECCP256 -o pub9a.pem
check_match "9a key is P-256" 'prime256v1|P-256' \
	<(openssl pkey -pubin -in pub9a.pem -noout -text 2>&1)
run "generate 9c RSA2048" Y -a generate -s 9c -A RSA2048 -o pub9c.pem
check_match "9c key is RSA-2048" 'Public-Key: \(2048 bit\)' \
	<(openssl pkey -pubin -in pub9c.pem -noout -text 2>&1)

# selfsign/request-certificate: yubico-piv-tool 2.2 linked with OpenSSL 3
# fails inside X509_sign before it sends anything (upstream issue #388).
# Run them anyway: if the peer tool works, check the results.
if Y -a verify-pin -P 123456 -a selfsign-certificate -s 9a -S '/CN=selfsigned/' \
	-i pub9a.pem -o self.pem >last.out 2>&1; then
	tap_ok "selfsign-certificate 9a"
	run "selfsigned certificate verifies" openssl verify -CAfile self.pem self.pem
else
	tap_skip "selfsign-certificate 9a" "yubico-piv-tool 2.2 + OpenSSL 3 fails client-side (issue #388)"
fi
if Y -a verify-pin -P 123456 -a request-certificate -s 9a -S '/CN=request/' \
	-i pub9a.pem -o req.pem >last.out 2>&1; then
	tap_ok "request-certificate 9a"
	run "CSR signature verifies" openssl req -in req.pem -verify -noout
else
	tap_skip "request-certificate 9a" "yubico-piv-tool 2.2 + OpenSSL 3 fails client-side (issue #388)"
fi

# Certificates for the card keys, issued by a throw-away CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -subj /CN=test-ca -out ca.pem >/dev/null 2>&1
openssl x509 -new -subj /CN=card-9a -force_pubkey pub9a.pem -CA ca.pem \
	-CAkey ca.key -out c9a.pem >/dev/null 2>&1
openssl x509 -new -subj /CN=card-9c -force_pubkey pub9c.pem -CA ca.pem \
	-CAkey ca.key -out c9c.pem >/dev/null 2>&1
run "import-certificate 9a" Y -a import-certificate -s 9a -i c9a.pem
run "import-certificate 9c" Y -a import-certificate -s 9c -i c9c.pem
run "read-certificate 9a" Y -a read-certificate -s 9a -o r9a.pem
run "read-certificate returns the imported certificate" cmp c9a.pem r9a.pem
run "status lists slot 9a" Y -a status
check_match "status shows the 9a subject" 'Subject DN:[[:space:]]+CN=card-9a' last.out
run "test-signature 9a (ECDSA on the card)" Y -a verify-pin -P 123456 -a test-signature -s 9a -i c9a.pem
run "test-signature 9c (RSA on the card)" Y -a verify-pin -P 123456 -a test-signature -s 9c -i c9c.pem
refuse "9c (PIN always) refuses to sign without VERIFY" Y -a test-signature -s 9c -i c9c.pem
run "test-decipher 9a (ECDH)" Y -a verify-pin -P 123456 -a test-decipher -s 9a -i c9a.pem
run "test-decipher 9c (RSA)" Y -a verify-pin -P 123456 -a test-decipher -s 9c -i c9c.pem

run "attest 9a" Y -a attest -s 9a -o att.pem
run "read-certificate f9" Y -a read-certificate -s f9 -o f9.pem
check_eq "statement subject names slot 9a" "subject=CN = YubiKey PIV Attestation 9a" \
	"$(openssl x509 -in att.pem -noout -subject)"
check_eq "statement issuer is the F9 subject" \
	"$(openssl x509 -in f9.pem -noout -subject | sed 's/^subject=//')" \
	"$(openssl x509 -in att.pem -noout -issuer | sed 's/^issuer=//')"
signed_by "statement signature verifies with the F9 key" att.pem f9.pem
run "F9 certificate verifies under the sim vendor root" \
	openssl verify -CAfile vendor/root.pem f9.pem
signed_by "F9 signature verifies with the root key" f9.pem vendor/root.pem
refuse "plain chain verify rejects (F9 is not a CA)" \
	openssl verify -CAfile vendor/root.pem -untrusted f9.pem att.pem
check_eq "attested key equals the generated key" "$(pubder pub9a.pem)" "$(certpub att.pem)"
check_match "statement carries the firmware extension" '1\.3\.6\.1\.4\.1\.41482\.3\.3' \
	<(openssl x509 -in att.pem -noout -text)
refuse "attest of an empty slot fails" Y -a attest -s 9d
run "attest 9c (RSA-2048)" Y -a attest -s 9c -o att9c.pem
signed_by "RSA statement signature verifies with the F9 key" att9c.pem f9.pem
check_eq "RSA attested key equals the generated key" "$(pubder pub9c.pem)" "$(certpub att9c.pem)"
check_match "9c statement records PIN policy always (.3.8 = 03 01)" \
	'1\.3\.6\.1\.4\.1\.41482\.3\.8' <(openssl x509 -in att9c.pem -noout -text)

# import-key: a software key into 9e, usable, but never attestable
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out soft.key 2>/dev/null
openssl req -x509 -key soft.key -subj /CN=soft -out soft.pem 2>/dev/null
run "import-key 9e" Y -a import-key -s 9e -i soft.key
run "import-certificate 9e" Y -a import-certificate -s 9e -i soft.pem
run "test-signature 9e (imported key, PIN never)" Y -a test-signature -s 9e -i soft.pem
refuse "attest refuses the imported key" Y -a attest -s 9e
run "delete-certificate 9e" Y -a delete-certificate -s 9e
refuse "deleted certificate is gone" Y -a read-certificate -s 9e

run "set-chuid" Y -a set-chuid
run "read-object CHUID" Y -a read-object --id 0x5fc102
check_match "CHUID carries the 9999 FASC-N" '^3019d4e739da739ced39ce739d83' last.out
printf '0102030405' >obj.hex
run "write-object 5fff10" Y -a write-object --id 0x5fff10 -i obj.hex
run "read-object 5fff10" Y -a read-object --id 0x5fff10
check_match "object bytes round-trip" '^0102030405$' last.out

run "change-pin" Y -a change-pin -P 123456 -N 654321
refuse "old PIN no longer verifies" Y -a verify-pin -P 123456
run "new PIN verifies" Y -a verify-pin -P 654321
run "change-puk" Y -a change-puk -P 12345678 -N 87654321
for i in 1 2 3; do Y -a verify-pin -P 000000 >/dev/null 2>&1; done
refuse "PIN is blocked after 3 wrong tries" Y -a verify-pin -P 654321
check_match "blocked PIN is reported" 'blocked' last.out
run "unblock-pin with the new PUK" Y -a unblock-pin -P 87654321 -N 112233
run "unblocked PIN verifies" Y -a verify-pin -P 112233

run "set-mgm-key" Y -a set-mgm-key -n "$NEWMGM"
refuse "default management key is refused now" Y -a generate -s 9d -A ECCP256 -o x.pem
run "new management key works" Y -k"$NEWMGM" -a generate -s 9d -A ECCP384 -o pub9d.pem

refuse "reset refused while PIN and PUK work" Y -a reset
for i in 1 2 3; do Y -a verify-pin -P 000000 >/dev/null 2>&1; done
for i in 1 2 3; do Y -a change-puk -P 00000000 -N 11111111 >/dev/null 2>&1; done
run "reset after blocking PIN and PUK" Y -a reset
run "default PIN after reset" Y -a verify-pin -P 123456
refuse "certificate 9a gone after reset" Y -a read-certificate -s 9a
run "F9 certificate kept by reset" Y -a read-certificate -s f9 -o f9b.pem
run "F9 certificate unchanged" cmp f9.pem f9b.pem
run "default management key after reset" Y -a generate -s 9a -A ECCP256 -o p.pem
run "pin-retries 5/4" Y -a verify-pin -P 123456 -a pin-retries --pin-retries 5 --puk-retries 4
run "status after pin-retries" Y -a status
check_match "5 PIN tries" 'PIN tries left:[[:space:]]+5' last.out
tap_done
