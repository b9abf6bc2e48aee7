#!/usr/bin/env bash
# Interop: OpenSC 0.23 (opensc-tool, pkcs15-tool, pkcs11-tool with
# opensc-pkcs11.so) against cardsmith-sim through pcscd + vpcd. The card is
# personalised with yubico-piv-tool first.
set -u
P11=/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
if [ "${1:-}" != --inner ]; then
	. "$(dirname "$0")/lib.sh"
	for t in opensc-tool pkcs15-tool pkcs11-tool yubico-piv-tool; do
		command -v $t >/dev/null || exit 77
	done
	[ -f "$P11" ] || exit 77
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
export OPENSC_CONF=/dev/null # built-in defaults, no site configuration
Y() { yubico-piv-tool -r Virtual "$@"; }
P() { pkcs11-tool --module "$P11" "$@"; }

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

# Personalise: 9a P-256 and 9d RSA-2048 with certificates, and a CHUID.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -subj /CN=test-ca -out ca.pem >/dev/null 2>&1
run "setup: generate 9a" Y -a generate -s 9a -A ECCP256 -o pub9a.pem
run "setup: generate 9c" Y -a generate -s 9c -A RSA2048 -o pub9c.pem
run "setup: generate 9d" Y -a generate -s 9d -A RSA2048 -o pub9d.pem
openssl x509 -new -subj /CN=opensc-9a -force_pubkey pub9a.pem -CA ca.pem \
	-CAkey ca.key -out c9a.pem >/dev/null 2>&1
openssl x509 -new -subj /CN=opensc-9c -force_pubkey pub9c.pem -CA ca.pem \
	-CAkey ca.key -out c9c.pem >/dev/null 2>&1
openssl x509 -new -subj /CN=opensc-9d -force_pubkey pub9d.pem -CA ca.pem \
	-CAkey ca.key -out c9d.pem >/dev/null 2>&1
run "setup: import 9a certificate" Y -a import-certificate -s 9a -i c9a.pem
run "setup: import 9c certificate" Y -a import-certificate -s 9c -i c9c.pem
run "setup: import 9d certificate" Y -a import-certificate -s 9d -i c9d.pem
run "setup: set-chuid" Y -a set-chuid

run "opensc-tool --name" opensc-tool --reader 0 --name
check_match "card is a PIV card" 'Personal Identity Verification Card' last.out
OPENSC_DEBUG=3 opensc-tool --reader 0 --name >debug.out 2>&1
check_match "OpenSC identifies a YubiKey (ATR + GET VERSION 5.4.3)" \
	'Yubico card->type=.*version=0x00050403' debug.out

run "pkcs15-tool --list-certificates" pkcs15-tool --reader 0 --list-certificates
check_match "certificate 01 (9a) listed" 'ID[[:space:]]+: 01' last.out
check_match "certificate 02 (9c) listed" 'ID[[:space:]]+: 02' last.out
check_match "certificate 03 (9d) listed" 'ID[[:space:]]+: 03' last.out
run "pkcs15-tool --read-certificate 01" pkcs15-tool --reader 0 --read-certificate 01 -o r01.pem
check_eq "read certificate equals the stored one" \
	"$(openssl x509 -in c9a.pem -outform DER | od -An -tx1)" \
	"$(openssl x509 -in r01.pem -outform DER | od -An -tx1)"

run "pkcs11-tool --list-slots" P --list-slots
check_match "token serial comes from the CHUID GUID" 'serial num[[:space:]]+: [0-9a-f]{16}' last.out
run "pkcs11-tool --list-objects" P --list-objects
check_match "certificate object for 9a" 'subject:[[:space:]]+DN: CN=opensc-9a' last.out
check_match "public key object ID 01" 'ID:[[:space:]]+01' last.out

echo "sign me" >data.txt
openssl x509 -in c9a.pem -pubkey -noout >k9a.pem
openssl x509 -in c9c.pem -pubkey -noout >k9c.pem
openssl x509 -in c9d.pem -pubkey -noout >k9d.pem
run "C_Sign ECDSA-SHA256 with the 9a key" P --login --pin 123456 --sign \
	--id 01 -m ECDSA-SHA256 --signature-format openssl -i data.txt -o sig9a.bin
run "ECDSA signature verifies with openssl" openssl dgst -sha256 -verify k9a.pem \
	-signature sig9a.bin data.txt
run "C_Sign SHA256-RSA-PKCS with the 9c key (PIN always)" P --login \
	--pin 123456 --sign --id 02 -m SHA256-RSA-PKCS -i data.txt -o sig9c.bin
run "RSA signature verifies with openssl" openssl dgst -sha256 -verify k9c.pem \
	-signature sig9c.bin data.txt
openssl pkeyutl -encrypt -pubin -inkey k9d.pem -in data.txt -out enc.bin
run "C_Decrypt RSA-PKCS with the 9d key" P --login --pin 123456 --decrypt \
	--id 03 -m RSA-PKCS -i enc.bin -o dec.txt
run "decrypted text matches" cmp data.txt dec.txt
refuse "C_Login with a wrong PIN fails" P --login --pin 000000 --sign \
	--id 01 -m ECDSA-SHA256 -i data.txt -o x.bin
run "C_GenerateRandom (GENERAL AUTHENTICATE challenge, P1=00)" \
	P --generate-random 32 -o rnd.bin
check_eq "32 random bytes" 32 "$(stat -c %s rnd.bin 2>/dev/null)"
run "C_SetPIN" P --login --pin 123456 --change-pin --new-pin 654321
run "sign after the PIN change" P --login --pin 654321 --sign \
	--id 01 -m ECDSA-SHA256 --signature-format openssl -i data.txt -o sig2.bin
run "signature after PIN change verifies" openssl dgst -sha256 -verify k9a.pem \
	-signature sig2.bin data.txt
tap_done
