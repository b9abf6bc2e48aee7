#!/usr/bin/env bash
# mgmt-key set (random/given, where the key goes), cert import/export/
# delete, retired slots and F9 in inspect, -v progress, reset.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
export PIN=123456

# A random key must go somewhere.
cs_do m1 mgmt-key set --random
check_rc "mgmt-key set --random alone: exit 2" 2
check_match "... names the three places" '\-\-protect.*\-\-out-key-file.*\-\-show-key' "$LAST.err"
touch exists.key
cs_do m2 mgmt-key set --random --out-key-file exists.key
check_rc "--out-key-file that exists: exit 1" 1
check_match "... nothing was changed" 'nothing was changed' "$LAST.err"
cs_do m3 --json inspect --no-attest
check_eq "the default key is still in place" true "$(json_get "$LAST.out" management_key.default)"
# A failure before the card changes (no PIN source for --protect, no
# terminal) leaves no key file behind, not even an empty one.
cs_do m3b mgmt-key set --random --protect --out-key-file early.key
check_rc "--protect without a PIN source: exit 2" 2
check_eq "... no key file was created" no "$([ -e early.key ] && echo yes || echo no)"

cs_do m4 mgmt-key set --random --show-key
check_rc "--random --show-key: exit 0" 0
K1=$(cat "$LAST.out")
if [[ $K1 =~ ^[0-9a-f]{48}$ ]]; then tap_ok "--show-key prints 48 hex digits"; else
	tap_fail "--show-key prints 48 hex digits" "$K1"; fi
export K1 K2=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
cs_do m5 --json mgmt-key set --mgmt-key-env K1 --new-mgmt-key-env K2
check_rc "mgmt-key set to a given AES-256 key: exit 0" 0
check_eq "... algorithm by length" aes256 "$(json_get "$LAST.out" algorithm)"
check_eq "... the key is not echoed" "<missing>" "$(json_get "$LAST.out" management_key)"
cs_do m6 keygen --slot 9a --alg p256
check_rc "keygen without the (non-default) key: exit 4" 4
check_match "... says how to give it" 'not the default and not PIN-protected: give it with --mgmt-key-fd' "$LAST.err"
cs_do m7 keygen --slot 9a --alg p256 --mgmt-key-env K2 --out pub9a.pem
check_rc "keygen with --mgmt-key-env: exit 0" 0
cs_do m8 --json inspect --no-attest
check_eq "inspect: management key aes256" aes256 "$(json_get "$LAST.out" management_key.algorithm)"
check_eq "inspect: not protected" false "$(json_get "$LAST.out" management_key.protected)"

# -v progress for RSA key generation.
cs_do v1 -v keygen --slot 9c --alg rsa2048 --mgmt-key-env K2
check_match "-v: RSA progress line" 'generating RSA-2048 key on the card \(this takes a few seconds\)' "$LAST.err"
cs_do v2 keygen --slot 9d --alg p256 --mgmt-key-env K2
if grep -q generating "$LAST.err"; then tap_fail "no progress without -v"; else tap_ok "no progress without -v"; fi

# An attested CSR, checked offline with the vendor root.
cs_do q1 csr --slot 9d --subject "CN=attested" --attest --digest sha384 \
	--pin-env PIN --out att.csr
check_rc "csr --attest --digest sha384: exit 0" 0
if openssl req -in att.csr -verify -noout >/dev/null 2>&1; then
	tap_ok "attested CSR verifies"; else tap_fail "attested CSR verifies"; fi
check_match "CSR signed with SHA-384" 'ecdsa-with-SHA384' \
	<(openssl req -in att.csr -noout -text 2>/dev/null)
cs_do q2 --json attest verify --csr att.csr --trust vendor/root.pem
check_rc "attest verify --csr (embedded attestation): exit 0" 0
check_eq "... slot 9d" 9d "$(json_get "$LAST.out" slot)"
check_eq "... the CSR key is the attested key" true "$(json_get "$LAST.out" key_matches)"
check_eq "... serial of the card" 12345678 "$(json_get "$LAST.out" serial)"
cs_do q3 attest verify --csr att.csr
check_rc "... but not against the real Yubico roots (exit 5)" 5

# Certificates: import checks the key, export, delete.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout soft.key -subj /CN=other-key -out other.pem >/dev/null 2>&1
cs_do c1 cert import --slot 9a --in other.pem --mgmt-key-env K2
check_rc "cert import for another key: exit 1" 1
check_match "... says so, nothing written" "not the key in slot 9a: nothing was written" "$LAST.err"
cs_do c2 cert export --slot 9a
check_rc "cert export of an empty certificate slot: exit 1" 1
check_match "... message" 'slot 9a has no certificate' "$LAST.err"
cs_do c3 cert import --slot 9a --in other.pem --mgmt-key-env K2 --force
check_rc "cert import --force: exit 0" 0
cs_do c4 --json inspect --no-attest
python3 - "$LAST.out" >km.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print([s for s in d["slots"] if s["slot"] == "9a"][0]["certificate"]["key_matches"])
PY
check_eq "inspect: key_matches false for the other key" False "$(cat km.txt)"
cs_do c5 cert export --slot 9a --out exported.pem
check_file "cert export --out writes the certificate" other.pem exported.pem
cs_do c6 cert export --slot 9a --out exported.pem
check_rc "cert export --out onto an existing file: exit 1" 1
cs_do c7 cert export --slot f9 --json
check_rc "cert export --slot f9: exit 0" 0
check_match "F9 certificate PEM" 'BEGIN CERTIFICATE' "$LAST.out"
cs_do c8 cert delete --slot 9a --mgmt-key-env K2
check_rc "cert delete without --force: exit 2" 2
cs_do c9 cert delete --slot 9a --mgmt-key-env K2 --force
check_rc "cert delete --force: exit 0" 0
cs_do c10 cert export --slot 9a
check_rc "deleted certificate is gone" 1
cs_do c11 cert import --slot 9a --in /nonexistent.pem --mgmt-key-env K2
check_rc "cert import of a missing file: exit 1" 1

# Retired slots appear when they hold something.
cs_do r1 keygen --slot 82 --alg p256 --mgmt-key-env K2
check_rc "keygen in retired slot 82: exit 0" 0
cs_do r2 --json inspect --trust vendor/root.pem
slots=$(python3 -c 'import json,sys; print(" ".join(s["slot"] for s in json.load(open(sys.argv[1]))["slots"]))' "$LAST.out")
check_eq "inspect lists 9a 9c 9d 9e, retired 82, f9" "9a 9c 9d 9e 82 f9" "$slots"
check_match "inspect: retired slot named" '"name": "retired 1"' "$LAST.out"

# Reset.
cs_do x1 reset
check_rc "reset without --force: exit 2" 2
check_match "reset without --force: names --force" '\-\-force' "$LAST.err"
cs_do x2 pin verify --pin-env HOME
check_rc "one wrong PIN before the reset" 4
cs_do x3 -v --json reset --force
check_rc "reset --force: exit 0" 0
check_eq "reset: JSON" true "$(json_get "$LAST.out" reset)"
check_match "reset -v: blocks the PIN first" 'blocking the PIN' "$LAST.err"
cs_do x4 --json inspect --no-attest
check_eq "after reset: 9a has no key" null "$(json_get "$LAST.out" slots.0.key)"
check_eq "after reset: PIN default" true "$(json_get "$LAST.out" pin.default)"
check_eq "after reset: PIN tries 3" 3 "$(json_get "$LAST.out" pin.tries_left)"
check_eq "after reset: management key default" true "$(json_get "$LAST.out" management_key.default)"
check_eq "after reset: F9 kept" f9 "$(json_get "$LAST.out" slots.4.slot)"
cs_do x5 keygen --slot 9a --alg p256
check_rc "after reset: the default management key works" 0
tap_done
