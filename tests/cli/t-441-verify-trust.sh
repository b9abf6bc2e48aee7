#!/bin/bash
# cardsmith verify: whose level map counts, and which level is reported
# (issue 12 review of the verifier). Reproduces the review with openssl-made
# CA certificates:
#   1a. a foreign root's sub-CA carrying our level map grants no level;
#   1b. a foreign cross-certificate of our software issuing CA's key with a
#       map "hardware-attested = software OID" grants nothing, in either
#       order of --chain;
#   1c. a sub-level name two CAs of --chain define differently is refused;
#   2.  the level printed is one path validation confirmed (a .1.1 leaf of
#       the software issuing CA is "none"; .1.1 + .1.3 passes software);
#   3.  a path not asserting the OID exits 6, a garbage/empty CERT 5 with
#       "not a certificate", a corrupt PEM block in --chain/--crl is named,
#       a DER CRL with bytes after it is refused, and a root CRL revoking
#       the issuing CA is honoured.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=verify-trust-pass-phrase

cs_run "$T/init" ca init --dir "$D" --hardware-ca --pass-env CSPASS --json \
	--profiles "$CS_SRC/profiles"
check_eq "ca init --hardware-ca" 0 "$RC"
ARC=$(json_get "$T/init.out" arc)
HW=$(json_get "$T/init.out" policy_oids.hardware-attested)
EN=$(json_get "$T/init.out" policy_oids.hardware-enrolled)
SW=$(json_get "$T/init.out" policy_oids.software)
cs_run "$T/chain" ca chain --dir "$D" --out "$T/chain.pem"
check_eq "ca chain" 0 "$RC"
for c in root issuing hw-issuing; do
	sed -n '/BEGIN/,/END/p' "$D/$c.crt.pem" >"$T/$c.pem"
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/sw.key" -subj "/CN=Soft Ware" -out "$T/sw.csr" 2>/dev/null
cs_run "$T/sign" ca sign --dir "$D" --profile software --csr "$T/sw.csr" \
	--out "$T/sw.pem" --pass-env CSPASS
check_eq "a software leaf" 0 "$RC"

# leaf NAME CA.pem CA.key POLICIES [PASSIN]: $T/NAME.pem, a client leaf.
leaf() {
	cat >"$T/$1.ext" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid:always
certificatePolicies = $4
EOF
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null
	openssl x509 -req -in "$T/$1.csr" -CA "$2" -CAkey "$3" ${5:+-passin "$5"} \
		-set_serial "0x$(openssl rand -hex 8)" -days 30 \
		-extfile "$T/$1.ext" -out "$T/$1.pem" 2>/dev/null
}
# map SECTION HW-OID EN-OID SW-OID: a level map's config sections.
map() {
	cat <<EOF
[$1]
e1 = SEQUENCE:$1_hw
e2 = SEQUENCE:$1_en
e3 = SEQUENCE:$1_sw
[$1_hw]
n = UTF8:hardware-attested
o = OID:$2
[$1_en]
n = UTF8:hardware-enrolled
o = OID:$3
[$1_sw]
n = UTF8:software
o = OID:$4
EOF
}
CAEXT="basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
certificatePolicies = 2.5.29.32.0"

# A foreign root: anyPolicy, no level map.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/f.key" -subj "/CN=Foreign Root" -days 30 \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" \
	-addext "certificatePolicies=2.5.29.32.0" -out "$T/f.pem" 2>/dev/null

# 1a. Its sub-CA G carries our map verbatim, anyPolicy; a leaf of G
#     asserts our hardware OID.
cat >"$T/g.cnf" <<EOF
[ext]
$CAEXT
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
$ARC.2.1 = ASN1:SEQUENCE:lm
$(map lm "$HW" "$EN" "$SW")
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/g.key" -subj "/CN=Foreign Sub CA" -out "$T/g.csr" 2>/dev/null
openssl x509 -req -in "$T/g.csr" -CA "$T/f.pem" -CAkey "$T/f.key" \
	-set_serial 0x6a01 -days 30 -extfile "$T/g.cnf" -extensions ext \
	-out "$T/g.pem" 2>/dev/null
check_match "G carries the level map extension" "$ARC\\.2\\.1" \
	<(openssl x509 -in "$T/g.pem" -noout -text 2>/dev/null)
leaf gleaf "$T/g.pem" "$T/g.key" "$HW"
cat "$T/chain.pem" "$T/f.pem" "$T/g.pem" >"$T/bundle-g.pem"
cs_run "$T/v1a" verify --chain "$T/bundle-g.pem" \
	--require-level hardware-attested "$T/gleaf.pem"
check_eq "1a: foreign sub-CA with our map: hardware-attested refused (6)" 6 "$RC"
check_match "1a: the anchor has no level map" \
	"trust anchor CN=Foreign Root carries no cardsmith level map" "$T/v1a.out"
cs_run "$T/v1a2" verify --chain "$T/bundle-g.pem" --json "$T/gleaf.pem"
check_eq "1a: without a level: chain accepted" 0 "$RC"
check_eq "1a: level none" none "$(json_get "$T/v1a2.out" level)"
check_eq "1a: level_verified false" false \
	"$(json_get "$T/v1a2.out" level_verified)"

# 1b. F cross-certifies our software issuing CA's key; its map calls our
#     software OID hardware-attested.
subj=$(openssl x509 -in "$T/issuing.pem" -noout -subject -nameopt RFC2253 |
	sed 's/^subject=//')
ski=$(openssl x509 -in "$T/issuing.pem" -noout -ext subjectKeyIdentifier |
	sed -n '2s/^ *//p')
openssl x509 -in "$T/issuing.pem" -noout -pubkey >"$T/ipub.pem"
cat >"$T/x.cnf" <<EOF
[ext]
$CAEXT
subjectKeyIdentifier = $ski
authorityKeyIdentifier = keyid:always
$ARC.2.1 = ASN1:SEQUENCE:lm
$(map lm "$SW" "$EN" "$SW")
EOF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/x.key" -subj "/$subj" -out "$T/x.csr" 2>/dev/null
openssl x509 -req -in "$T/x.csr" -force_pubkey "$T/ipub.pem" -CA "$T/f.pem" \
	-CAkey "$T/f.key" -set_serial 0x6a02 -days 30 -extfile "$T/x.cnf" \
	-extensions ext -out "$T/x.pem" 2>/dev/null
check_eq "1b: the cross-certificate certifies the issuing CA's key" \
	"$(cat "$T/ipub.pem")" \
	"$(openssl x509 -in "$T/x.pem" -noout -pubkey 2>/dev/null)"
cat "$T/f.pem" "$T/x.pem" "$T/chain.pem" >"$T/bundle-x1.pem"
cat "$T/chain.pem" "$T/f.pem" "$T/x.pem" >"$T/bundle-x2.pem"
for o in 1 2; do
	cs_run "$T/v1b$o" verify --chain "$T/bundle-x$o.pem" \
		--require-level hardware-attested "$T/sw.pem"
	check_eq "1b: order $o: software leaf refused as hardware-attested (6)" \
		6 "$RC"
	cs_run "$T/v1b$o-sw" verify --chain "$T/bundle-x$o.pem" \
		--require-level software "$T/sw.pem"
	check_eq "1b: order $o: accepted as software" 0 "$RC"
	cs_run "$T/v1b$o-j" verify --chain "$T/bundle-x$o.pem" --json "$T/sw.pem"
	check_eq "1b: order $o: reported level software" software \
		"$(json_get "$T/v1b$o-j.out" level)"
done
check_file "1b: the verdict does not depend on the order of --chain" \
	"$T/v1b1-j.out" "$T/v1b2-j.out"

# 1c. Two CAs define "strict" differently (PIN always, PIN once).
cs_run "$T/init2" ca init --dir "$T/ca2" --pass-env CSPASS --json \
	--profiles "$CS_SRC/profiles" --sublevel strict=pin:always
check_eq "CA 2 with strict = PIN always" 0 "$RC"
cs_run "$T/init3" ca init --dir "$T/ca3" --pass-env CSPASS --json \
	--profiles "$CS_SRC/profiles" --sublevel strict=pin:once
check_eq "CA 3 with strict = PIN once" 0 "$RC"
S3=$(json_get "$T/init3.out" policy_oids.strict)
cs_run "$T/c2" ca chain --dir "$T/ca2" --out "$T/chain2.pem"
cs_run "$T/c3" ca chain --dir "$T/ca3" --out "$T/chain3.pem"
sed -n '/BEGIN/,/END/p' "$T/ca3/issuing.crt.pem" >"$T/issuing3.pem"
leaf s3 "$T/issuing3.pem" "$T/ca3/issuing.key.pem" "$S3" env:CSPASS
cs_run "$T/v1c0" verify --chain "$T/chain3.pem" --require-level strict \
	"$T/s3.pem"
check_eq "1c: CA 3's strict leaf meets strict under CA 3 alone" 0 "$RC"
cat "$T/chain2.pem" "$T/chain3.pem" >"$T/bundle-s.pem"
cs_run "$T/v1c" verify --chain "$T/bundle-s.pem" --require-level strict \
	"$T/s3.pem"
check_eq "1c: strict defined twice in --chain: usage error (2)" 2 "$RC"
check_match "1c: says the name means two things" \
	"sub-level strict means two things in the CA chain" "$T/v1c.err"

# 2. .1.1 signed by the software issuing CA (which asserts only .1.3).
leaf l1 "$T/issuing.pem" "$D/issuing.key.pem" "$HW" env:CSPASS
leaf l13 "$T/issuing.pem" "$D/issuing.key.pem" "$HW,$SW" env:CSPASS
ov() { # OID CERT: openssl's explicit-policy verdict
	openssl verify -CAfile "$T/root.pem" -untrusted "$T/issuing.pem" \
		-policy "$1" -explicit_policy -policy_check "$2" >/dev/null 2>&1 &&
		echo ok || echo fail
}
check_eq "2: openssl refuses .1.1 for that leaf" fail "$(ov "$HW" "$T/l1.pem")"
cs_run "$T/v2" verify --chain "$T/chain.pem" "$T/l1.pem"
check_eq "2: without a level: accepted (valid chain)" 0 "$RC"
check_match "2: but no level verified" \
	"^accepted: none; not verified: hardware-attested \\(policy $HW\\) is not valid for the path" \
	"$T/v2.out"
cs_run "$T/v2j" verify --chain "$T/chain.pem" --json "$T/l1.pem"
check_eq "2: json level none" none "$(json_get "$T/v2j.out" level)"
check_eq "2: json level_verified false" false \
	"$(json_get "$T/v2j.out" level_verified)"
check_eq "2: json policy_oid null" null "$(json_get "$T/v2j.out" policy_oid)"
cs_run "$T/v2h" verify --chain "$T/chain.pem" \
	--require-level hardware-attested "$T/l1.pem"
check_eq "3: CA path not asserting the level's OID: policy failure (6)" 6 "$RC"
check_eq "2: openssl accepts .1.3 for the .1.1+.1.3 leaf" ok \
	"$(ov "$SW" "$T/l13.pem")"
cs_run "$T/v2s" verify --chain "$T/chain.pem" --require-level software \
	--json "$T/l13.pem"
check_eq "2: .1.1+.1.3 leaf meets software" 0 "$RC"
check_eq "2: and is reported as software" software \
	"$(json_get "$T/v2s.out" level)"
cs_run "$T/v2p" verify --chain "$T/chain.pem" --policy "$SW" --json \
	"$T/l13.pem"
check_eq "2: --policy alone reports the validated level" software \
	"$(json_get "$T/v2p.out" level)"

# 3. Inputs.
printf 'garbage\n' >"$T/junk.pem"
: >"$T/empty.pem"
for f in junk empty; do
	cs_run "$T/v3$f" verify --chain "$T/chain.pem" "$T/$f.pem"
	check_eq "3: $f CERT: exit 5" 5 "$RC"
	check_match "3: $f CERT: not a certificate" \
		"$T/$f.pem: not a certificate" "$T/v3$f.out"
done
cs_run "$T/v3csr" verify --chain "$T/chain.pem" "$T/sw.csr"
check_eq "3: a request as CERT: exit 5" 5 "$RC"
check_match "3: says it is a request" "is a certificate request, not a certificate" \
	"$T/v3csr.out"
lines=$(wc -l <"$T/chain.pem")
{ cat "$T/chain.pem"; printf -- '-----BEGIN CERTIFICATE-----\nMIIB!!\n-----END CERTIFICATE-----\n'; } \
	>"$T/chain-bad.pem"
cs_run "$T/v3c" verify --chain "$T/chain-bad.pem" "$T/sw.pem"
check_eq "3: corrupt PEM block in --chain: error (1)" 1 "$RC"
check_match "3: the block is named" \
	"--chain $T/chain-bad.pem: CA chain: PEM block 4 \\(line $((lines + 1))\\) is corrupt" \
	"$T/v3c.err"
cs_run "$T/crl" ca crl --dir "$D" --pass-env CSPASS --out "$T/crl.pem"
check_eq "ca crl" 0 "$RC"
{ cat "$T/crl.pem"; printf -- '-----BEGIN X509 CRL-----\n%%%%\n-----END X509 CRL-----\n'; } \
	>"$T/crl-bad.pem"
cs_run "$T/v3r" verify --chain "$T/chain.pem" --crl "$T/crl-bad.pem" "$T/sw.pem"
check_eq "3: corrupt PEM block in --crl: error (1)" 1 "$RC"
check_match "3: the CRL block is named" "CRL: PEM block 3 \\(line [0-9]+\\) is corrupt" \
	"$T/v3r.err"
# The software issuing CA's CRL as DER, then with a byte after it.
awk -v d="$T" '/BEGIN X509 CRL/ { n++ } { print > (d "/crl" n ".pem") }' "$T/crl.pem"
for n in 1 2; do
	if openssl crl -in "$T/crl$n.pem" -noout -issuer 2>/dev/null |
		grep -q "CN *= *cardsmith Issuing CA"; then
		openssl crl -in "$T/crl$n.pem" -outform DER -out "$T/crl.der"
	fi
done
cs_run "$T/v3d" verify --chain "$T/chain.pem" --crl "$T/crl.der" "$T/sw.pem"
check_eq "3: DER CRL: accepted" 0 "$RC"
{ cat "$T/crl.der"; printf 'x'; } >"$T/crl-trail.der"
cs_run "$T/v3t" verify --chain "$T/chain.pem" --crl "$T/crl-trail.der" "$T/sw.pem"
check_eq "3: DER CRL with a byte after it: refused (1)" 1 "$RC"
check_match "3: says so" "bytes after it" "$T/v3t.err"

# 3. A CRL of the root revoking the software issuing CA (openssl ca).
mkdir -p "$T/rca"
: >"$T/rca/index.txt"
echo 01 >"$T/rca/crlnumber"
cat >"$T/rca.cnf" <<EOF
[ca]
default_ca = r
[r]
dir = $T/rca
database = $T/rca/index.txt
crlnumber = $T/rca/crlnumber
certificate = $T/root.pem
private_key = $D/root.key.pem
default_md = sha256
default_crl_days = 7
EOF
openssl ca -config "$T/rca.cnf" -gencrl -passin env:CSPASS \
	-out "$T/root0.crl" 2>/dev/null
openssl ca -config "$T/rca.cnf" -revoke "$T/issuing.pem" -passin env:CSPASS \
	2>/dev/null
openssl ca -config "$T/rca.cnf" -gencrl -passin env:CSPASS \
	-out "$T/root1.crl" 2>/dev/null
cat "$T/crl.pem" "$T/root0.crl" >"$T/crls0.pem"
cat "$T/crl.pem" "$T/root1.crl" >"$T/crls1.pem"
cs_run "$T/v3n" verify --chain "$T/chain.pem" --crl "$T/crl.pem" "$T/sw.pem"
check_eq "3: the CA's own CRLs: accepted (they cover leaves only)" 0 "$RC"
cs_run "$T/v3n0" verify --chain "$T/chain.pem" --crl "$T/crls0.pem" "$T/sw.pem"
check_eq "3: with a root CRL revoking nothing: accepted" 0 "$RC"
cs_run "$T/v3n1" verify --chain "$T/chain.pem" --crl "$T/crls1.pem" "$T/sw.pem"
check_eq "3: root CRL revokes the issuing CA: refused (5)" 5 "$RC"
check_match "3: says revoked" "revoked" "$T/v3n1.out"

tap_done
