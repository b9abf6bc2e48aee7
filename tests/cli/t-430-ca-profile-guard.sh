#!/bin/bash
# Profile guards from the command line (issue 12): a policy_oid spelt
# non-canonically (<arc>.1.01) is refused with the spelling to use.
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

tap_done
