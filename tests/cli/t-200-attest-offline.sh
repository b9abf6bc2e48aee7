#!/usr/bin/env bash
# cardsmith attest verify, offline (no pcscd, no card): genuine YubiKey
# attestations from tests/data/attest (see SOURCES.md) verify against the
# shipped Yubico roots (exit 0, with the fields SOURCES.md lists); tampered,
# truncated, mismatched or wrongly rooted ones are rejected with a reason
# (exit 5). Also the help and usage errors of the new commands.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
t=$CS_TMP
D="$CS_SRC/tests/data/attest"
export PCSCLITE_CSOCK_NAME=/nonexistent/cardsmith-test/sock
unset CARDSMITH_TRUST

# name serial firmware slot pin touch fips cspn key
while read -r name serial fw slot pin touch fips cspn key; do
	cs_run "$t/$name" --json attest verify --in "$D/$name.stmt.pem" \
		--intermediate "$D/$name.f9.pem"
	check_eq "$name: valid against the shipped roots (exit 0)" 0 "$RC"
	check_eq "$name: serial" "$serial" "$(json_get "$t/$name.out" serial)"
	check_eq "$name: firmware" "$fw" "$(json_get "$t/$name.out" firmware)"
	check_eq "$name: slot" "$slot" "$(json_get "$t/$name.out" slot)"
	check_eq "$name: PIN policy" "$pin" "$(json_get "$t/$name.out" pin_policy)"
	check_eq "$name: touch policy" "$touch" "$(json_get "$t/$name.out" touch_policy)"
	check_eq "$name: FIPS" "$fips" "$(json_get "$t/$name.out" fips)"
	check_eq "$name: CSPN" "$cspn" "$(json_get "$t/$name.out" cspn)"
	check_eq "$name: key algorithm" "$key" "$(json_get "$t/$name.out" key_algorithm)"
	check_eq "$name: no key given: key_matches null" null \
		"$(json_get "$t/$name.out" key_matches)"
done <<'EOF'
ovh-435-9a 5970478 4.3.5 9a always never false false rsa2048
ovh-574-9a 32718477 5.7.4 9a always never false false rsa2048
pivgo-543-9a 15732500 5.4.3 9a once never false false p256
sigstore-445-fips-9c 10550341 4.4.5 9c always always true false p256
sigstore-527-9c 15724862 5.2.7 9c always always false false p256
dockertuf-543-fips-9c 25515003 5.4.3 9c always never true false p384
psyk-542-cspn-9a 22399878 5.4.2 9a once never false true rsa2048
tmc-572-9a 30000948 5.7.2 9a once never false false rsa2048
EOF

cs_run "$t/txt" attest verify --in "$D/pivgo-543-9a.stmt.pem" \
	--intermediate "$D/pivgo-543-9a.f9.pem"
check_eq "text form exits 0" 0 "$RC"
check_match "text form: 'Attestation valid'" '^Attestation valid' "$t/txt.out"
check_match "text form: serial line" 'Serial: +15732500' "$t/txt.out"
check_match "text form: form factor line" 'Form factor: +USB-A nano|Form factor: ' "$t/txt.out"

# The legacy U2F-rooted chain needs the explicit flag.
cs_run "$t/u2f" attest verify --in "$D/pivgo-437-u2f-9a.stmt.pem" \
	--intermediate "$D/pivgo-437-u2f-9a.f9.pem"
check_eq "U2F-rooted 4.3.7 chain refused by default (exit 5)" 5 "$RC"
cs_run "$t/u2f2" attest verify --allow-u2f-root \
	--in "$D/pivgo-437-u2f-9a.stmt.pem" --intermediate "$D/pivgo-437-u2f-9a.f9.pem"
check_eq "U2F-rooted chain accepted with --allow-u2f-root" 0 "$RC"
# The same when the shipped bundle is named explicitly with --trust.
cs_run "$t/u2f3" attest verify --trust "$CS_SRC/share/yubico-piv-roots.pem" \
	--in "$D/pivgo-437-u2f-9a.stmt.pem" --intermediate "$D/pivgo-437-u2f-9a.f9.pem"
check_eq "U2F-rooted chain refused with the bundle as --trust too (exit 5)" 5 "$RC"
cs_run "$t/u2f4" attest verify --trust "$CS_SRC/share/yubico-piv-roots.pem" \
	--allow-u2f-root --in "$D/pivgo-437-u2f-9a.stmt.pem" \
	--intermediate "$D/pivgo-437-u2f-9a.f9.pem"
check_eq "and accepted with --trust and --allow-u2f-root" 0 "$RC"

# CSRs carrying the attestation (.3.1 and legacy .3.11).
for c in tmc-574-9a-oid1 tmc-527-9a-oid11 psyk-543-9a-oid1 psyk-543-9a-oid11; do
	cs_run "$t/$c" --json attest verify --csr "$D/$c.csr.pem"
	check_eq "$c: embedded attestation valid (exit 0)" 0 "$RC"
	check_eq "$c: the CSR key is the attested key" true \
		"$(json_get "$t/$c.out" key_matches)"
done
cs_run "$t/f9only" attest verify --csr "$D/psyk-543-9a-f9only.csr.pem"
check_eq "CSR with only an F9 certificate: exit 5" 5 "$RC"
check_match "CSR with only an F9 certificate: says no statement" \
	'no attestation statement' "$t/f9only.err"

# Key matching: the right key, another key.
openssl pkey -pubin -inform DER -in "$D/gen-9a.pub.der" -out "$t/gen.pub.pem" 2>/dev/null
openssl pkey -pubin -inform DER -in "$D/gen-other.pub.der" -out "$t/other.pub.pem" 2>/dev/null
cs_run "$t/km" --json attest verify --trust "$D/gen-root.pem" \
	--in "$D/gen-9a.stmt.pem" --intermediate "$D/gen-9a.f9.pem" --pubkey "$t/gen.pub.pem"
check_eq "generated fixture with its key: exit 0" 0 "$RC"
check_eq "generated fixture with its key: key_matches" true "$(json_get "$t/km.out" key_matches)"
cs_run "$t/kmx" attest verify --trust "$D/gen-root.pem" \
	--in "$D/gen-9a.stmt.pem" --intermediate "$D/gen-9a.f9.pem" --pubkey "$t/other.pub.pem"
check_eq "another key: exit 5" 5 "$RC"
check_match "another key: reason" 'attested key differs' "$t/kmx.err"

# Wrong root: the genuine pair against the generated test root only.
cs_run "$t/wr" --json attest verify --trust "$D/gen-root.pem" \
	--in "$D/pivgo-543-9a.stmt.pem" --intermediate "$D/pivgo-543-9a.f9.pem"
check_eq "wrong root: exit 5" 5 "$RC"
check_eq "wrong root: CS_ERR_VERIFY" CS_ERR_VERIFY "$(json_get "$t/wr.out" error.code)"
check_match "wrong root: reason names the missing root" 'no trusted manufacturer root' "$t/wr.out"
CARDSMITH_TRUST="$D/gen-root.pem" cs_run "$t/env" attest verify \
	--in "$D/pivgo-543-9a.stmt.pem" --intermediate "$D/pivgo-543-9a.f9.pem"
check_eq "CARDSMITH_TRUST replaces the shipped roots" 5 "$RC"

# Statement and F9 of different cards.
cs_run "$t/mix" attest verify --in "$D/pivgo-543-9a.stmt.pem" \
	--intermediate "$D/sigstore-527-9c.f9.pem"
check_eq "statement with another card's F9: exit 5" 5 "$RC"
check_match "statement with another card's F9: reason" 'F9|issuer|signature' "$t/mix.err"

# Tampered copies of every genuine statement: one byte of the signature.
for name in ovh-574-9a pivgo-543-9a sigstore-527-9c dockertuf-543-fips-9c tmc-572-9a; do
	openssl x509 -in "$D/$name.stmt.pem" -outform DER -out "$t/$name.der"
	python3 - "$t/$name.der" "$t/$name.bad.der" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-10] ^= 0x01          # inside the signature value
open(sys.argv[2], "wb").write(b)
PY
	cs_run "$t/$name.bad" attest verify --in "$t/$name.bad.der" \
		--intermediate "$D/$name.f9.pem"
	check_eq "$name tampered signature: exit 5" 5 "$RC"
	check_match "$name tampered signature: reason says signature" \
		'signature' "$t/$name.bad.err"
	head -c 300 "$t/$name.der" >"$t/$name.trunc.der"
	cs_run "$t/$name.trunc" attest verify --in "$t/$name.trunc.der" \
		--intermediate "$D/$name.f9.pem"
	check_eq "$name truncated statement: exit 5" 5 "$RC"
	check_match "$name truncated statement: a reason is given" \
		'attestation not valid: .+' "$t/$name.trunc.err"
done
# A tampered serial in the tbsCertificate (signature then fails).
python3 - "$t/pivgo-543-9a.der" "$t/serial.der" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(bytes.fromhex("2b0601040182c40a0307"))  # .3.7 serial OID
b[i + 14] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
cs_run "$t/ser" attest verify --in "$t/serial.der" \
	--intermediate "$D/pivgo-543-9a.f9.pem"
check_eq "statement with an edited serial: exit 5" 5 "$RC"
openssl x509 -in "$D/pivgo-543-9a.f9.pem" -outform DER | head -c 200 >"$t/f9.trunc"
cs_run "$t/f9t" attest verify --in "$D/pivgo-543-9a.stmt.pem" --intermediate "$t/f9.trunc"
check_eq "truncated F9 certificate: exit 5" 5 "$RC"

# Usage errors.
cs_run "$t/u1" attest verify --in "$D/pivgo-543-9a.stmt.pem"
check_eq "attest verify --in without --intermediate: exit 2" 2 "$RC"
cs_run "$t/u2" attest verify
check_eq "attest verify without input: exit 2" 2 "$RC"
cs_run "$t/u3" attest verify --csr x --pubkey y --in z --intermediate w
check_eq "attest verify --csr with --pubkey: exit 2" 2 "$RC"
cs_run "$t/u4" attest verify --in /nonexistent --intermediate /nonexistent
check_eq "attest verify with a missing file: exit 1" 1 "$RC"
check_match "missing file named" '/nonexistent' "$t/u4.err"

# Help for every command and subcommand.
for c in inspect keygen attest csr reset "attest verify" "cert import" \
	"cert export" "cert delete" "pin change" "pin unblock" "pin status" \
	"pin verify" "puk change" "mgmt-key set" "pin-retries set"; do
	# shellcheck disable=SC2086
	cs_run "$t/help" help $c
	check_eq "help $c exits 0" 0 "$RC"
	check_match "help $c: usage line" "^Usage: cardsmith $c" "$t/help.out"
	check_match "help $c: an example" '^Example:' "$t/help.out"
done
for c in inspect keygen "cert import" "pin verify" "mgmt-key set"; do
	# shellcheck disable=SC2086
	cs_run "$t/help" $c --help
	check_match "$c --help: --reader option" '--reader=NAME' "$t/help.out"
	check_match "$c --help: --serial option" '--serial=N' "$t/help.out"
done
cs_run "$t/g" cert
check_eq "cert without a subcommand: exit 2" 2 "$RC"
check_match "cert without a subcommand: lists them" 'import, export, delete' "$t/g.err"
cs_run "$t/g2" pin frob
check_eq "pin frob: exit 2" 2 "$RC"
cs_run "$t/g3" cert --help
check_eq "cert --help: exit 0" 0 "$RC"
check_match "cert --help lists import" 'cert import' "$t/g3.out"
cs_run "$t/h" help
for c in inspect keygen attest csr cert pin puk mgmt-key pin-retries reset; do
	check_match "help lists $c" "^  $c " "$t/h.out"
done
# Usage errors are found before any card is looked for (no pcscd here).
while read -r desc args; do
	# shellcheck disable=SC2086
	cs_run "$t/ue" $args
	check_eq "usage error without a card: $desc (exit 2)" 2 "$RC"
done <<'EOF2'
keygen bad algorithm	keygen --slot 9a --alg rsa512
keygen bad slot	keygen --slot 9b --alg p256
keygen bad policy	keygen --slot 9a --alg p256 --pin-policy sometimes
keygen no slot	keygen --alg p256
attest no slot	attest --verify
attest --trust without --verify	attest --slot 9a --trust x.pem
csr no subject	csr --slot 9a
cert import no --in	cert import --slot 9a
cert export bad slot	cert export --slot zz
mgmt-key random nowhere	mgmt-key set --random
mgmt-key two destinations	mgmt-key set --random --show-key --out-key-file k
pin-retries missing count	pin-retries set --pin-tries 3
EOF2
cs_run "$t/ue" keygen --slot 9a --alg rsa512
check_match "keygen bad algorithm: message lists the algorithms" \
	'give p256, p384, rsa2048, rsa3072, rsa4096 or ed25519' "$t/ue.err"

# A card command without pcscd: exit 3.
cs_run "$t/nc" --json inspect
check_eq "inspect without pcscd: exit 3" 3 "$RC"
check_eq "inspect without pcscd: ok false" false "$(json_get "$t/nc.out" ok)"
tap_done
