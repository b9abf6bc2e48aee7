#!/usr/bin/env bash
# Sub-levels end to end on the virtual card: a CA defined with
# --sublevel pin-always-touch-always=pin:always,touch:always and a profile
# granting it; a key generated with PIN always + touch always gets the
# sub-level's OID (its only policy), verify accepts it both for
# hardware-attested and for the sub-level by name and reports the name; a
# PIN-once key gets plain hardware-attested, which the sub-level refuses.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	export CS_E2E_OUT=$CS_TMP/tap
	cs_with_sim --serial 5550123 -- bash "$0" --inner
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
CSPASS=sublevel-ca-pass
export PIN CSPASS
exec >"$CS_E2E_OUT"
BOTH=pin-always-touch-always

cat >sub.cnf <<'CNF'
[cardsmith]
level = hardware-attested
slots = 9a, 9c
algs = p256
sublevels = pin-always-touch-always, pin-always
subject = CN=%{cn}
[extensions]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
CNF

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem --sublevel "$BOTH=pin:always,touch:always" \
	--sublevel pin-always=pin:always --json
check_rc "ca init with two sub-levels" 0
ARC=$(json_get "$LAST.out" arc)
check_eq "sub-level OID defaults to <arc>.1.1.1" "$ARC.1.1.1" \
	"$(json_get "$LAST.out" "policy_oids.$BOTH")"
check_match "ca.cnf records the sub-level and its OID" \
	"^$BOTH = pin:always,touch:always,oid:$ARC\\.1\\.1\\.1\$" ca/ca.cnf
cs_do chain ca chain --dir ca --out chain.pem
check_rc "ca chain" 0

# PIN always + touch always in 9a.
cs_do kg keygen --slot 9a --alg p256 --pin-policy always \
	--touch-policy always --out pub.pem --force
check_rc "keygen 9a, PIN always, touch always" 0
cs_do att attest --slot 9a --out att.pem --f9-out f9.pem
check_rc "attest 9a" 0
cs_do csr csr --slot 9a --subject "CN=Sub User" --pin-env PIN --out csr.pem
check_rc "csr 9a" 0
cs_do sign ca sign --dir ca --profile "$CS_T/sub.cnf" --csr csr.pem \
	--attestation att.pem --intermediate f9.pem \
	--attestation-chain vendor/intermediate.pem --pass-env CSPASS \
	--out cert.pem --json
check_rc "ca sign: PIN always + touch always" 0
check_eq "level hardware-attested" hardware-attested \
	"$(json_get "$LAST.out" level)"
check_eq "sub-level granted" "$BOTH" "$(json_get "$LAST.out" sublevel)"
check_eq "policy OID is the sub-level's" "$ARC.1.1.1" \
	"$(json_get "$LAST.out" policy_oid)"
SERIAL=$(json_get "$LAST.out" serial)
pols=$(openssl x509 -in cert.pem -noout -ext certificatePolicies 2>/dev/null |
	grep -c 'Policy:')
check_eq "the certificate carries exactly one policy" 1 "$pols"
check_match "that policy is the sub-level OID" "Policy: $ARC\\.1\\.1\\.1\$" \
	<(openssl x509 -in cert.pem -noout -ext certificatePolicies 2>/dev/null)
cs_do show ca show --dir ca "$SERIAL" --json
check_eq "registry records the sub-level" "$BOTH" \
	"$(json_get "$LAST.out" sublevel)"
cs_do v1 verify --chain chain.pem --require-level hardware-attested cert.pem \
	--json
check_rc "verify --require-level hardware-attested accepts it" 0
check_eq "verify reports the sub-level name" "$BOTH" \
	"$(json_get "$LAST.out" sublevel)"
check_eq "verify reports the parent level" hardware-attested \
	"$(json_get "$LAST.out" level)"
cs_do v2 verify --chain chain.pem --require-level "$BOTH" cert.pem --json
check_rc "verify --require-level $BOTH accepts it" 0
cs_do v3 verify --chain chain.pem --require-level pin-always cert.pem
check_rc "verify --require-level pin-always accepts the stricter one" 0
check_match "text output names the sub-level" "sub-level $BOTH" "$LAST.out"

# PIN once in 9c: plain hardware-attested.
cs_do kg2 keygen --slot 9c --alg p256 --pin-policy once --out pub9c.pem \
	--force
check_rc "keygen 9c, PIN once" 0
cs_do att2 attest --slot 9c --out att9c.pem --f9-out f9c.pem
cs_do csr2 csr --slot 9c --subject "CN=Once User" --pin-env PIN \
	--out csr9c.pem
check_rc "csr 9c" 0
cs_do sign2 ca sign --dir ca --profile "$CS_T/sub.cnf" --csr csr9c.pem \
	--attestation att9c.pem --intermediate f9c.pem \
	--attestation-chain vendor/intermediate.pem --pass-env CSPASS \
	--out cert9c.pem --json
check_rc "ca sign: PIN once" 0
check_eq "PIN once: no sub-level" null "$(json_get "$LAST.out" sublevel)"
check_eq "PIN once: the hardware-attested OID" "$ARC.1.1" \
	"$(json_get "$LAST.out" policy_oid)"
cs_do v4 verify --chain chain.pem --require-level hardware-attested \
	cert9c.pem --json
check_rc "verify accepts it as hardware-attested" 0
cs_do v5 verify --chain chain.pem --require-level "$BOTH" cert9c.pem --json
check_rc "verify --require-level $BOTH refuses it (exit 6)" 6
check_match "reason names the missing sub-level" "sub-level $BOTH required" \
	"$LAST.out"
# Issue 12: a name no CA in --chain defines is a misspelt level (usage).
cs_do v6 verify --chain chain.pem --require-level no-such cert.pem
check_rc "an undefined sub-level is a usage error (exit 2)" 2
exit 0
