#!/bin/bash
# Profile guards from the command line (issue 12): a profile that names
# $ENV::CA_PASS is refused and the passphrase never reaches a certificate
# or a message; a policy_oid spelt non-canonically is refused with the
# spelling to use; CA-only extensions in a profile are refused; and
# `ca sign` says, per value, what of the CSR it dropped and why (warning
# lines, and "dropped" in --json), taking only what the profile allows.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CA_PASS=guard-ca-pass-phrase-77

cs_run "$T/init" ca init --dir "$D" --pass-env CA_PASS --json \
	--profiles "$CS_SRC/profiles"
check_eq "ca init" 0 "$RC"

p_head() {
	printf '[cardsmith]\nlevel = software\nmax_level = software\n'
}
ext() {
	printf '[extensions]\nbasicConstraints = critical,CA:FALSE\n'
	printf 'keyUsage = critical,digitalSignature\n'
}
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Guard User" -out "$T/plain.csr" \
	2>/dev/null

# 1. $ENV:: is never expanded: the CA passphrase stays out of the subject.
{
	p_head
	printf 'subject = CN=$ENV::CA_PASS\n'
	ext
} >"$T/env.cnf"
cs_run "$T/env" ca sign --dir "$D" --profile "$T/env.cnf" \
	--csr "$T/plain.csr" --pass-env CA_PASS --out "$T/env.pem" --json
check_eq "\$ENV:: profile refused (exit 1)" 1 "$RC"
check_match "the refusal names the line" \
	"syntax error at line 4: '\\\$' outside a comment" "$T/env.out"
check_eq "no certificate written" no "$([ -e "$T/env.pem" ] && echo yes || echo no)"
if grep -rqs -- "guard-ca-pass-phrase-77" "$T/env.out" "$T/env.err" \
	"$D/registry.db" "$T"/env.pem; then
	tap_fail "the passphrase appears in output, registry or certificate"
else
	tap_ok "the passphrase appears nowhere"
fi
{
	p_head
	printf 'subject = CN=${ENV::CA_PASS}\n'
	ext
} >"$T/env2.cnf"
cs_run "$T/env2" ca sign --dir "$D" --profile "$T/env2.cnf" \
	--csr "$T/plain.csr" --pass-env CA_PASS --out "$T/env2.pem"
check_eq "\${ENV::...} refused too" 1 "$RC"
{
	p_head
	printf '.include /etc/hostname\n'
	ext
} >"$T/inc.cnf"
cs_run "$T/inc" ca sign --dir "$D" --profile "$T/inc.cnf" \
	--csr "$T/plain.csr" --pass-env CA_PASS --out "$T/inc.pem"
check_eq ".include refused" 1 "$RC"
check_match ".include: names the line" "line 4: .include and .pragma" \
	"$T/inc.err"

# 2. A non-canonical policy_oid: refused, with the spelling to write.
HW=$(json_get "$T/init.out" policy_oids.hardware-attested)
{
	printf '[cardsmith]\nlevel = hardware-attested\n'
	printf 'max_level = hardware-attested\npolicy_oid = %s1\n' "${HW%1}0"
	ext
} >"$T/oid.cnf"
cs_run "$T/oid" ca sign --dir "$D" --profile "$T/oid.cnf" \
	--csr "$T/plain.csr" --pass-env CA_PASS --out "$T/oid.pem"
check_eq "policy_oid <arc>.1.01 refused (exit 1)" 1 "$RC"
check_match "says to write it canonically" \
	"is not written canonically.*\\(write ${HW//./\\.}:" "$T/oid.err"

# 3. CA-only extensions never go into a leaf profile.
{
	p_head
	ext
	printf 'nameConstraints = critical,permitted;DNS:example.com\n'
} >"$T/nc.cnf"
cs_run "$T/nc" ca sign --dir "$D" --profile "$T/nc.cnf" \
	--csr "$T/plain.csr" --pass-env CA_PASS --out "$T/nc.pem"
check_eq "nameConstraints in a profile refused" 1 "$RC"
check_match "names the extension" \
	"nameConstraints.*belongs on CA certificates only" "$T/nc.err"

# 4. What the CSR asked for and the profile did not take is reported.
{
	p_head
	printf 'csr_san = email\nsubject = CN=%%{cn}\n'
	ext
} >"$T/san.cnf"
openssl req -new -key "$T/k.pem" -subj "/CN=Jane Doe/O=Acme" \
	-addext "subjectAltName=email:jane@example.com,DNS:host.example.com" \
	-out "$T/san.csr" 2>/dev/null
cs_run "$T/san" ca sign --dir "$D" --profile "$T/san.cnf" \
	--csr "$T/san.csr" --pass-env CA_PASS --out "$T/san.pem" --json
check_eq "ca sign with a SAN the profile allows" 0 "$RC"
check_eq "two values dropped" 2 "$(json_get "$T/san.out" dropped.#)"
check_eq "dropped[0].field" san.dns "$(json_get "$T/san.out" dropped.0.field)"
check_eq "dropped[0].value" host.example.com \
	"$(json_get "$T/san.out" dropped.0.value)"
check_eq "dropped[0].reason" \
	"profile san does not allow DNS SANs from the CSR (csr_san)" \
	"$(json_get "$T/san.out" dropped.0.reason)"
check_eq "dropped[1]: the CSR's O" subject.O \
	"$(json_get "$T/san.out" dropped.1.field)"
check_match "a warning line per dropped value" \
	"^cardsmith: warning: dropped san.dns 'host.example.com': profile san does not allow DNS SANs" \
	"$T/san.err"
check_match "warning for O=" \
	"^cardsmith: warning: dropped subject.O 'Acme': profile san does not take O from the CSR" \
	"$T/san.err"
openssl x509 -in "$T/san.pem" -noout -ext subjectAltName >"$T/san.txt" 2>&1
check_match "the allowed e-mail is in the certificate" \
	"email:jane@example.com" "$T/san.txt"
if grep -q "host.example.com" "$T/san.txt"; then
	tap_fail "the DNS name the profile does not allow was taken"
else
	tap_ok "the DNS name the profile does not allow is not taken"
fi
cs_run "$T/plainj" ca sign --dir "$D" --profile "$T/san.cnf" \
	--csr "$T/plain.csr" --pass-env CA_PASS --out "$T/plainj.pem" --json
check_eq "nothing dropped: an empty list" "[]" \
	"$(json_get "$T/plainj.out" dropped)"
tap_done
