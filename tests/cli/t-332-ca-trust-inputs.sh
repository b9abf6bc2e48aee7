#!/bin/bash
# Issue 12, follow-ups of the attestation review: what the CA takes in as
# manufacturer trust and as a chain sent along. ca init checks its roots
# and profiles, ca trust add refuses the legacy U2F root and says when a
# root is trusted already, and a chain is never silently ignored: without
# an attestation it is refused, an empty file is refused, an F9 in it is
# named without the advice to trust it.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
F=$CS_SRC/tests/data/forged
A=$CS_SRC/tests/data/attest
export CSPASS=trust-inputs-test-passphrase

printf 'not a certificate\n' >"$T/junk.pem"
cs_run "$T/i1" ca init --dir "$T/c1" --pass-env CSPASS --roots "$T/junk.pem"
check_eq "ca init --roots with no certificate: refused" 1 "$RC"
check_match "ca init --roots junk: names the roots" "manufacturer roots: .*no certificate" "$T/i1.err"
check_eq "ca init --roots junk: no CA left behind" no \
	"$([ -e "$T/c1/ca.cnf" ] && echo yes || echo no)"
cs_run "$T/i2" ca init --dir "$T/c2" --pass-env CSPASS --roots "$F/trust-with-f9.pem"
check_eq "ca init --roots holding an F9 certificate: refused (exit 6)" 6 "$RC"
check_match "ca init --roots with an F9: reason" "device attestation certificate" "$T/i2.err"
cs_run "$T/i3" ca init --dir "$T/c3" --pass-env CSPASS --roots "$F/f9.pem"
check_eq "ca init --roots with only a non-root: refused" 6 "$RC"
cs_run "$T/i4" ca init --dir "$T/c4" --pass-env CSPASS --roots "$F/root.pem" \
	--profiles "$T/no-such-dir"
check_eq "ca init --profiles that does not exist: refused" 1 "$RC"
check_match "ca init --profiles: names it" "profiles $T/no-such-dir" "$T/i4.err"

D=$T/ca
cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --roots "$F/root.pem" \
	--profiles "$CS_SRC/profiles"
check_eq "ca init with the test manufacturer root" 0 "$RC"

# The U2F root (shipped, held back) is refused by ca trust add.
awk '/^# LEGACY Yubico U2F Root CA Serial 457200631/ { on = 1 }
     on && /BEGIN CERTIFICATE/ { p = 1 } p { print } p && /END/ { exit }' \
	"$CS_SRC/share/yubico-piv-roots.pem" >"$T/u2f.pem"
cs_run "$T/u2f" ca trust add --dir "$D" "$T/u2f.pem"
check_eq "ca trust add of the legacy U2F root: refused (exit 6)" 6 "$RC"
check_match "U2F root: says why" "legacy Yubico U2F root is never a PIV attestation root" "$T/u2f.err"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/v.key" -subj "/CN=Other Vendor Root" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -out "$T/vendor.pem" 2>/dev/null
cs_run "$T/t1" ca trust add --dir "$D" "$T/vendor.pem" --json
check_eq "ca trust add of a new root" 1 "$(json_get "$T/t1.out" added)"
cs_run "$T/t2" ca trust add --dir "$D" "$T/vendor.pem" --json
check_eq "the same root again adds nothing" 0 "$(json_get "$T/t2.out" added)"
cs_run "$T/t3" ca trust add --dir "$D" "$T/vendor.pem"
check_match "... and says it is trusted already" "trusted already" "$T/t3.out"

# A chain without an attestation is refused, not ignored.
cs_run "$T/s1" ca sign --dir "$D" --profile software --csr "$F/soft.csr.pem" \
	--attestation-chain "$T/vendor.pem" --pass-env CSPASS --out "$T/s1.pem"
check_eq "--attestation-chain without an attestation: exit 5" 5 "$RC"
check_match "... reason" "an attestation chain was given, but no attestation" "$T/s1.err"
check_eq "... nothing written" no "$([ -e "$T/s1.pem" ] && echo yes || echo no)"
: >"$T/empty.pem"
cs_run "$T/s2" ca sign --dir "$D" --profile piv-auth --csr "$F/genuine.csr.pem" \
	--attestation-chain "$T/empty.pem" --pass-env CSPASS --out "$T/s2.pem"
check_eq "an empty --attestation-chain file: refused" 1 "$RC"
check_match "... reason" "attestation chain: .*no certificate found" "$T/s2.err"
# The genuine request with its own F9 sent along as chain: issued, and the
# warning names the F9 without advising to trust it.
cs_run "$T/s3" ca sign --dir "$D" --profile piv-auth --csr "$F/genuine.csr.pem" \
	--attestation-chain "$F/f9.pem" --pass-env CSPASS --out "$T/s3.pem"
check_eq "genuine CSR with its F9 as chain: issued" 0 "$RC"
check_match "... the F9 is named as never part of a chain" \
	"attestation chain ignored: certificate #1 \(CN=Yubico PIV Attestation\) is a device attestation certificate, never part of the chain" "$T/s3.err"
check_eq "... without the advice to trust it" 0 "$(grep -c 'ca trust add' "$T/s3.err")"
tap_done
