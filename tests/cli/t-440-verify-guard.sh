#!/bin/bash
# cardsmith verify guards (issue 12): a required level is met only through
# the level map of the leaf's issuer (a foreign CA asserting anyPolicy in
# the same bundle never meets it, even with --policy); a CA certificate, a
# self-signed certificate and a leaf whose KU/EKU do not fit the purpose
# are refused; only --chain is trusted; the leaf of every shipped profile
# meant for client authentication passes with the default purpose; without
# --crl verify says revocation was not checked; a misspelt level or purpose
# is a usage error.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=verify-guard-pass-phrase
FPKI=2.16.840.1.101.3.2.1.3.7

sh "$CS_SRC/tests/data/ca/mint.sh" "$T/m" >/dev/null 2>&1 ||
	{ echo "Bail out! mint.sh failed"; exit 1; }

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --json \
	--profiles "$CS_SRC/profiles" --roots "$T/m/root.pem" \
	--extra-policy "$FPKI"
check_eq "ca init" 0 "$RC"
HW=$(json_get "$T/init.out" policy_oids.hardware-attested)
cs_run "$T/chain" ca chain --dir "$D" --out "$T/chain.pem"
check_eq "ca chain" 0 "$RC"

# A software CSR, and the minted attested key (9a and 9c statements).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/sw.key" -subj "/CN=Soft Ware" -out "$T/sw.csr" 2>/dev/null
M=$T/m
att9a=(--csr "$M/leaf.csr.pem" --attestation "$M/stmt-9a.pem"
	--intermediate "$M/f9.pem")
att9c=(--csr "$M/leaf.csr.pem" --attestation "$M/stmt-9c.pem"
	--intermediate "$M/f9.pem")

# sign NAME PROFILE ARGS...: issue $T/NAME.pem
sign() {
	local name=$1 profile=$2
	shift 2
	cs_run "$T/s-$name" ca sign --dir "$D" --profile "$profile" \
		--out "$T/$name.pem" --pass-env CSPASS "$@"
	check_eq "ca sign --profile $profile" 0 "$RC"
}
sign software software --csr "$T/sw.csr"
sign auth piv-auth "${att9a[@]}"
sign fpki fpki-common-hardware "${att9a[@]}"
sign logon smartcard-logon "${att9a[@]}" --var upn=jane@example.com
# The minted 9c statement says PIN once; piv-sign wants always. Same
# extensions, relaxed minimum.
sed 's/^min_pin_policy = always$/min_pin_policy = once/' \
	"$CS_SRC/profiles/piv-sign.cnf" >"$T/piv-sign-once.cnf"
sign sign "$T/piv-sign-once.cnf" "${att9c[@]}" --var email=jane@example.com

# verify NAME ARGS... CERT: cs_run with prefix $T/v-NAME
verify() {
	local name=$1
	shift
	cs_run "$T/v-$name" verify "$@"
}

# 1. Shipped client-auth profiles pass with the default purpose.
verify software --chain "$T/chain.pem" --require-level software \
	"$T/software.pem"
check_eq "software profile: accepted by default" 0 "$RC"
verify auth --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/auth.pem"
check_eq "piv-auth profile: accepted by default" 0 "$RC"
verify fpki --chain "$T/chain.pem" --policy "$FPKI" "$T/fpki.pem"
check_eq "fpki-common-hardware profile: accepted by default" 0 "$RC"
verify logon --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/logon.pem"
check_eq "smartcard-logon profile: accepted by default" 0 "$RC"
verify logon2 --chain "$T/chain.pem" --purpose smartcard-logon \
	--require-level hardware-attested "$T/logon.pem"
check_eq "smartcard-logon profile: accepted for --purpose smartcard-logon" \
	0 "$RC"
verify auth2 --chain "$T/chain.pem" --purpose smartcard-logon "$T/auth.pem"
check_eq "piv-auth leaf (clientAuth only) refused for smartcard-logon" 6 "$RC"

# 2. A signing certificate is not a client-auth certificate.
verify sign --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/sign.pem"
check_eq "piv-sign leaf refused by default (exit 6)" 6 "$RC"
check_match "reason names the missing clientAuth" \
	"extendedKeyUsage \(emailProtection\) lacks clientAuth" "$T/v-sign.out"
verify sign2 --chain "$T/chain.pem" --require-level hardware-attested \
	--purpose any "$T/sign.pem"
check_eq "piv-sign leaf accepted with --purpose any" 0 "$RC"

# 3. A serverAuth-only leaf of the same CA.
cat >"$T/server.cnf" <<'EOF'
[cardsmith]
level = software
max_level = software
[extensions]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
EOF
sign server "$T/server.cnf" --csr "$T/sw.csr"
verify server --chain "$T/chain.pem" --require-level software --json \
	"$T/server.pem"
check_eq "serverAuth-only leaf refused by default (exit 6)" 6 "$RC"
check_eq "refusal json" false "$(json_get "$T/v-server.out" accepted)"
check_match "reason names serverAuth and clientAuth" \
	"serverAuth.*lacks clientAuth.*purpose client-auth" "$T/v-server.out"
verify server2 --chain "$T/chain.pem" --require-level software \
	--purpose any "$T/server.pem"
check_eq "serverAuth-only leaf accepted with --purpose any" 0 "$RC"
verify purpose --chain "$T/chain.pem" --purpose tls "$T/server.pem"
check_eq "unknown --purpose: usage error (exit 2)" 2 "$RC"
check_match "usage error lists the purposes" "client-auth.*any" \
	"$T/v-purpose.err"

# 4. A CA certificate is never a leaf, even one that asserts the policy.
sed -n '/BEGIN/,/END/p' "$D/issuing.crt.pem" >"$T/issuing.pem"
sed -n '/BEGIN/,/END/p' "$D/root.crt.pem" >"$T/root.pem"
verify ca --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/issuing.pem"
check_eq "issuing CA certificate as the leaf: refused (exit 6)" 6 "$RC"
check_match "reason: a CA certificate" "CA certificate" "$T/v-ca.out"
verify ca2 --chain "$T/chain.pem" --purpose any "$T/issuing.pem"
check_eq "CA certificate refused with --purpose any too" 6 "$RC"
verify root --chain "$T/chain.pem" --require-level hardware-attested \
	"$T/root.pem"
check_eq "the trusted root as the leaf: refused (exit 5)" 5 "$RC"
check_match "reason: self-signed" "self-signed" "$T/v-root.out"

# 5. A foreign CA in the bundle, asserting anyPolicy, with a leaf that
#    carries our hardware OID: --policy alone still means "this OID", but
#    no level can be established without the issuer's level map.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/fca.key" -subj "/CN=Foreign CA" -days 30 \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "certificatePolicies=2.5.29.32.0" -out "$T/fca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/fl.key" -subj "/CN=Foreign Leaf" -out "$T/fl.csr" 2>/dev/null
cat >"$T/fl.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
certificatePolicies = $HW
EOF
openssl x509 -req -in "$T/fl.csr" -CA "$T/fca.pem" -CAkey "$T/fca.key" \
	-set_serial 0x4a11 -days 30 -extfile "$T/fl.ext" -out "$T/fl.pem" \
	2>/dev/null
cat "$T/chain.pem" "$T/fca.pem" >"$T/bundle.pem"
verify fl --chain "$T/bundle.pem" --policy "$HW" \
	--require-level hardware-attested "$T/fl.pem"
check_eq "foreign anyPolicy CA: --policy HW --require-level refused (6)" 6 "$RC"
check_match "reason: the issuer has no level map" \
	"CN=Foreign CA carries no cardsmith level map, so the level cannot be established" \
	"$T/v-fl.out"
verify fl2 --chain "$T/bundle.pem" --require-level hardware-attested \
	"$T/fl.pem"
check_eq "foreign anyPolicy CA: --require-level alone refused (6)" 6 "$RC"
verify fl3 --chain "$T/bundle.pem" --policy "$HW" "$T/fl.pem"
check_eq "--policy alone: the OID, explicitly asserted, is accepted" 0 "$RC"
verify fl4 --chain "$T/bundle.pem" --policy "$HW" \
	--require-level hardware-attested "$T/auth.pem"
check_eq "our own leaf in the same bundle still passes both" 0 "$RC"

# 6. Only --chain is trusted: a self-signed certificate vouches for nothing.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/self.key" -subj "/CN=Self Signed" -days 30 \
	-addext "basicConstraints=critical,CA:FALSE" \
	-addext "keyUsage=critical,digitalSignature" \
	-addext "extendedKeyUsage=clientAuth" \
	-addext "certificatePolicies=$HW" -out "$T/self.pem" 2>/dev/null
verify self --chain "$T/chain.pem" "$T/self.pem"
check_eq "self-signed leaf refused (exit 5)" 5 "$RC"
check_match "reason: self-signed" "self-signed" "$T/v-self.out"
# Without keyUsage, OpenSSL would take it for an anchor of its own.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/self2.key" -subj "/CN=Self Signed" -days 30 \
	-addext "basicConstraints=critical,CA:FALSE" \
	-addext "extendedKeyUsage=clientAuth" \
	-addext "certificatePolicies=$HW" -out "$T/self2.pem" 2>/dev/null
cat "$T/chain.pem" "$T/self2.pem" >"$T/selfbundle.pem"
verify self2 --chain "$T/selfbundle.pem" --policy "$HW" "$T/self2.pem"
check_eq "a non-CA certificate in --chain is refused, never an anchor" 1 "$RC"
check_match "error names the certificate" \
	"certificate 3 \(CN=Self Signed\) is not a CA certificate" "$T/v-self2.err"
# Its issuer travelling with the leaf is not trusted either.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/x.key" -subj "/CN=Jane Doe" -out "$T/x.csr" 2>/dev/null
openssl x509 -req -in "$T/x.csr" -CA "$T/fca.pem" -CAkey "$T/fca.key" \
	-set_serial 0x4a12 -days 30 -extfile "$T/fl.ext" -out "$T/x.pem" \
	2>/dev/null
cat "$T/x.pem" "$T/fca.pem" >"$T/xbundle.pem"
verify xb --chain "$T/chain.pem" --policy "$HW" "$T/xbundle.pem"
check_eq "leaf + its own CA in the CERT file: refused (exit 5)" 5 "$RC"
check_match "says only the first certificate is verified" \
	"holds 2 certificates: only the first is verified" "$T/v-xb.err"
cat "$T/fca.pem" "$T/x.pem" >"$T/xbundle2.pem"
verify xb2 --chain "$T/chain.pem" "$T/xbundle2.pem"
check_eq "a CA first in the CERT file does not verify itself (exit 5)" 5 "$RC"

# 7. Revocation: said when not checked.
verify norev --chain "$T/chain.pem" --require-level software \
	"$T/software.pem"
check_eq "accepted without --crl" 0 "$RC"
check_match "stderr: revocation not checked" "revocation not checked" \
	"$T/v-norev.err"
verify norevj --chain "$T/chain.pem" --require-level software --json \
	"$T/software.pem"
check_eq "json: revocation_checked false" false \
	"$(json_get "$T/v-norevj.out" revocation_checked)"
cs_run "$T/crl" ca crl --dir "$D" --out "$T/crl.pem" --pass-env CSPASS
check_eq "ca crl" 0 "$RC"
verify rev --chain "$T/chain.pem" --crl "$T/crl.pem" --json \
	--require-level software "$T/software.pem"
check_eq "json: revocation_checked true with --crl" true \
	"$(json_get "$T/v-rev.out" revocation_checked)"
verify revt --chain "$T/chain.pem" --crl "$T/crl.pem" \
	--require-level software "$T/software.pem"
check_eq "no revocation notice with --crl" 0 \
	"$(grep -c 'revocation not checked' "$T/v-revt.err")"

# 8. A misspelt level is a usage error that lists the valid names.
verify typo --chain "$T/chain.pem" --require-level hardware-atested \
	"$T/auth.pem"
check_eq "misspelt level: usage error (exit 2)" 2 "$RC"
check_match "lists the valid levels" \
	"unknown level 'hardware-atested'.*software, hardware-enrolled, hardware-attested" \
	"$T/v-typo.err"
verify typoj --chain "$T/chain.pem" --require-level hardware-atested --json \
	"$T/auth.pem"
check_eq "misspelt level, --json: CS_ERR_ARG" CS_ERR_ARG \
	"$(json_get "$T/v-typoj.out" error.code)"

tap_done
