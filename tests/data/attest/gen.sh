#!/bin/sh
# Generate the private-root attestation fixtures used by
# tests/unit/test_attest.c (openssl CLI only). Run once; the outputs are
# committed. Keys are fresh each run and thrown away; fixed serial numbers
# and validity dates keep the certificates' contents (not their bytes)
# stable, and test_attest.c asserts contents only.
#
#   gen-root.pem            test root (RSA-2048, CA)
#   gen-9a.{stmt,f9}.pem    P-256 slot 9a, all extensions; F9 not a CA
#   gen-9c.stmt.pem         RSA-2048 slot 9c, same F9
#   gen-9a.pub.der          SPKI of the 9a key; gen-other.pub.der another key
#   gen-expired.stmt.pem    statement valid 2016-2020 only
#   gen-wrongissuer.stmt.pem  signed by the F9 key, issuer name differs
#   gen-badsig.stmt.der     gen-9a statement with one signature byte flipped
#   gen-otherkey.stmt.pem   statement of a different key (same F9)
#   gen-unknown.{stmt,f9}.pem  chain to a root nobody trusts
#   gen-midca.{stmt,f9}.pem, gen-midca.mid.pem     root <- CA mid <- F9
#   gen-midnonca.{stmt,f9}.pem, gen-midnonca.mid.pem root <- non-CA mid <- F9
#   gen-oid1.csr.pem        CSR, statement in .3.1, F9 in .3.2
#   gen-oid11.csr.pem       CSR, statement in legacy .3.11, F9 in .3.2
#   gen-f9cspn.f9.pem, gen-f9cspn.stmt.pem  F9 carrying .3.10 and .3.11
#   gen-nonull.{stmt,f9}.pem F9 signed with sha256WithRSA minus NULL params
#   gen-crit.stmt.pem       carries an unknown critical extension
#   gen-bad-*.stmt.pem      validly signed, one malformed Yubico extension
set -eu
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

Y=1.3.6.1.4.1.41482.3

cat >ca.cnf <<'EOF'
[ca]
default_ca = ca_default
[ca_default]
dir = .
database = ./index.txt
new_certs_dir = ./certs
serial = ./serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[policy_any]
commonName = supplied
[root_ext]
basicConstraints = critical,CA:TRUE,pathlen:3
keyUsage = critical,keyCertSign,cRLSign
[mid_ca]
basicConstraints = critical,CA:TRUE,pathlen:1
[mid_nonca]
basicConstraints = critical,CA:FALSE
[f9_ext]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:07:04
[f9_cspn]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:04:02
1.3.6.1.4.1.41482.3.10 = DER:02:01:07
1.3.6.1.4.1.41482.3.11 = DER:02:01:01
basicConstraints = critical,CA:TRUE,pathlen:0
[stmt_9a]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:07:04
1.3.6.1.4.1.41482.3.7 = DER:02:04:00:BC:61:4E
1.3.6.1.4.1.41482.3.8 = DER:02:03
1.3.6.1.4.1.41482.3.9 = DER:83
[stmt_9c]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:07:04
1.3.6.1.4.1.41482.3.7 = DER:02:04:00:BC:61:4E
1.3.6.1.4.1.41482.3.8 = DER:03:01
1.3.6.1.4.1.41482.3.9 = DER:01
[stmt_min]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:04:02
[stmt_crit]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:07:04
1.3.6.1.4.1.41482.3.99 = critical,DER:00
[bad_fw]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:07
[bad_negserial]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.7 = DER:02:01:FF
[bad_bigserial]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.7 = DER:02:09:01:00:00:00:00:00:00:00:00
[bad_serialtrail]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.7 = DER:02:01:05:00
[bad_serialtag]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.7 = DER:04:01:05
[bad_pol]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.8 = DER:02:03:01
[bad_ff]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.9 = DER:01:01
EOF

newca() {
	rm -rf certs index.txt serial
	mkdir certs
	: >index.txt
	echo "$1" >serial
}

# sign CSR CAcert CAkey extsection start end serial out
sign() {
	newca "$6"
	openssl ca -batch -config ca.cnf -notext -preserveDN -in "$1" \
	    -cert "$2" -keyfile "$3" -extensions "$4" -startdate "$5" \
	    -enddate "$7" -out "$8" 2>/dev/null
}

rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
csr() { openssl req -new -key "$1" -subj "$2" -out "$3"; }

# Roots (self-signed through openssl ca -selfsign).
mkroot() { # key cn out
	rsakey "$1"
	csr "$1" "/CN=$2" "$1.csr"
	newca 01
	openssl ca -batch -config ca.cnf -notext -selfsign -in "$1.csr" \
	    -keyfile "$1" -extensions root_ext -startdate 20160101000000Z \
	    -enddate 99991231235959Z -out "$3" 2>/dev/null
}
mkroot root.key "cardsmith Test Attestation Root" root.pem
mkroot unk.key "cardsmith Unknown Root" unk.pem

# F9 (RSA-2048 like Yubico's), not a CA, with .3.3 firmware.
rsakey f9.key
csr f9.key "/CN=Yubico PIV Attestation" f9.csr
sign f9.csr root.pem root.key f9_ext 20160314000000Z 0A 20520417000000Z f9.pem
# Same key, another name: for the wrong-issuer statement.
csr f9.key "/CN=Other PIV Attestation" f9o.csr
sign f9o.csr root.pem root.key f9_ext 20160314000000Z 0B 20520417000000Z f9o.pem

S0=20160314000000Z
S1=20520417000000Z
eckey k9a.key
rsakey k9c.key
eckey kother.key
csr k9a.key "/CN=YubiKey PIV Attestation 9a" s9a.csr
csr k9c.key "/CN=YubiKey PIV Attestation 9c" s9c.csr
csr kother.key "/CN=YubiKey PIV Attestation 9a" sother.csr
sign s9a.csr f9.pem f9.key stmt_9a $S0 0148790DCE69343CBD08C3CB14ECB950 $S1 s9a.pem
sign s9c.csr f9.pem f9.key stmt_9c $S0 0148790DCE69343CBD08C3CB14ECB951 $S1 s9c.pem
sign s9a.csr f9.pem f9.key stmt_9a 20160314000000Z 0148790DCE69343CBD08C3CB14ECB952 20200101000000Z sexp.pem
sign s9a.csr f9o.pem f9.key stmt_9a $S0 0148790DCE69343CBD08C3CB14ECB953 $S1 swi.pem
sign sother.csr f9.pem f9.key stmt_9a $S0 0148790DCE69343CBD08C3CB14ECB954 $S1 sother.pem

# Unknown root chain.
rsakey f9u.key
csr f9u.key "/CN=Yubico PIV Attestation" f9u.csr
sign f9u.csr unk.pem unk.key f9_ext $S0 0C $S1 f9u.pem
sign s9a.csr f9u.pem f9u.key stmt_9a $S0 0148790DCE69343CBD08C3CB14ECB955 $S1 su.pem

# root <- mid (CA or not) <- F9 (CA:TRUE here, like 5.7.4) <- statement.
for kind in ca nonca; do
	rsakey mid$kind.key
	csr mid$kind.key "/CN=cardsmith Test Mid $kind" mid$kind.csr
	if [ $kind = ca ]; then ser=20; else ser=21; fi
	sign mid$kind.csr root.pem root.key mid_$kind $S0 $ser $S1 mid$kind.pem
	rsakey f9$kind.key
	csr f9$kind.key "/CN=YubiKey PIV Attestation" f9$kind.csr
	sign f9$kind.csr mid$kind.pem mid$kind.key f9_cspn $S0 30 $S1 f9$kind.pem
	sign s9a.csr f9$kind.pem f9$kind.key stmt_9a $S0 \
	    0148790DCE69343CBD08C3CB14ECB956 $S1 s$kind.pem
done

# F9 with FIPS and CSPN flags directly under the root, minimal statement.
rsakey f9c.key
csr f9c.key "/CN=Yubico PIV Attestation" f9c.csr
sign f9c.csr root.pem root.key f9_cspn $S0 0D $S1 f9c.pem
sign s9c.csr f9c.pem f9c.key stmt_min $S0 0148790DCE69343CBD08C3CB14ECB957 $S1 smin.pem

# F9 whose RSA AlgorithmIdentifier omits the NULL parameter (seen on some
# fw 5.7.4 F9 certificates), in the TBS and the outer certificate alike.
# Built with asn1parse -genconf: [tbs] is encoded twice, identically.
rsakey f9n.key
rsapub=$(openssl rsa -in f9n.key -RSAPublicKey_out -outform der 2>/dev/null |
    od -An -v -tx1 | tr -d ' \n')
cat >tbs.cnf <<EOF2
asn1 = SEQUENCE:cert
[cert]
tbs = SEQUENCE:tbs
alg = SEQUENCE:alg
sig = FORMAT:HEX,BITSTRING:@SIG@
[tbs]
ver = EXPLICIT:0,INTEGER:2
serial = INTEGER:0x0E
alg = SEQUENCE:alg
issuer = SEQUENCE:rootname
validity = SEQUENCE:validity
subject = SEQUENCE:f9name
spki = SEQUENCE:spki
ext = EXPLICIT:3,SEQUENCE:exts
[alg]
oid = OID:sha256WithRSAEncryption
[rootname]
rdn = SET:rootrdn
[rootrdn]
atv = SEQUENCE:rootcn
[rootcn]
type = OID:commonName
value = UTF8:cardsmith Test Attestation Root
[f9name]
rdn = SET:f9rdn
[f9rdn]
atv = SEQUENCE:f9cn
[f9cn]
type = OID:commonName
value = UTF8:YubiKey PIV Attestation
[validity]
nb = UTCTIME:241201000000Z
na = GENTIME:99991231235959Z
[spki]
alg = SEQUENCE:rsaalg
key = FORMAT:HEX,BITSTRING:$rsapub
[rsaalg]
oid = OID:rsaEncryption
null = NULL
[exts]
fw = SEQUENCE:fwext
bc = SEQUENCE:bcext
[fwext]
oid = OID:1.3.6.1.4.1.41482.3.3
val = FORMAT:HEX,OCTETSTRING:050704
[bcext]
oid = OID:basicConstraints
crit = BOOLEAN:TRUE
val = OCTWRAP,SEQUENCE:bc
[bc]
ca = BOOLEAN:TRUE
pathlen = INTEGER:0
EOF2
sed 's/^asn1 = SEQUENCE:cert/asn1 = SEQUENCE:tbs/' tbs.cnf >tbsonly.cnf
openssl asn1parse -genconf tbsonly.cnf -noout -out tbs.der
openssl dgst -sha256 -sign root.key -out tbs.sig tbs.der
sig=$(od -An -v -tx1 <tbs.sig | tr -d ' \n')
sed "s/@SIG@/$sig/" tbs.cnf >cert.cnf
openssl asn1parse -genconf cert.cnf -noout -out f9n.der
openssl x509 -inform der -in f9n.der -out f9n.pem
sign s9a.csr f9n.pem f9n.key stmt_9a $S0 0148790DCE69343CBD08C3CB14ECB958 \
    99991231235959Z snonull.pem

# A statement with an unknown critical extension.
sign s9a.csr f9.pem f9.key stmt_crit $S0 0148790DCE69343CBD08C3CB14ECB959 $S1 scrit.pem

# Signed statements with malformed Yubico extensions.
i=60
for b in fw negserial bigserial serialtrail serialtag pol ff; do
	sign s9a.csr f9.pem f9.key bad_$b $S0 0148790DCE69343CBD08C3CB14ECB9$i $S1 \
	    sbad_$b.pem
	i=$((i + 1))
done

# Tampered signature: flip the last byte of the DER statement.
openssl x509 -in s9a.pem -outform der -out s9a.der
n=$(wc -c <s9a.der)
head -c $((n - 1)) s9a.der >bad.der
last=$(tail -c 1 s9a.der | od -An -tu1 | tr -d ' ')
printf "\\$(printf %03o $(((last ^ 1) & 255)))" >>bad.der

# Public keys.
openssl pkey -in k9a.key -pubout -outform der -out 9a.pub.der
openssl pkey -in kother.key -pubout -outform der -out other.pub.der

# CSRs with the attestation embedded (yubico-piv-tool style).
hex() { openssl x509 -in "$1" -outform der | od -An -v -tx1 | tr -d ' \n'; }
openssl req -new -key k9a.key -subj "/CN=cardsmith CSR oid1" \
    -addext "$Y.1=DER:$(hex s9a.pem)" -addext "$Y.2=DER:$(hex f9.pem)" \
    -out oid1.csr
openssl req -new -key k9a.key -subj "/CN=cardsmith CSR oid11" \
    -addext "$Y.11=DER:$(hex s9a.pem)" -addext "$Y.2=DER:$(hex f9.pem)" \
    -out oid11.csr

cp root.pem "$out/gen-root.pem"
cp s9a.pem "$out/gen-9a.stmt.pem"
cp f9.pem "$out/gen-9a.f9.pem"
cp s9c.pem "$out/gen-9c.stmt.pem"
cp 9a.pub.der "$out/gen-9a.pub.der"
cp other.pub.der "$out/gen-other.pub.der"
cp sexp.pem "$out/gen-expired.stmt.pem"
cp swi.pem "$out/gen-wrongissuer.stmt.pem"
cp bad.der "$out/gen-badsig.stmt.der"
cp sother.pem "$out/gen-otherkey.stmt.pem"
cp su.pem "$out/gen-unknown.stmt.pem"
cp f9u.pem "$out/gen-unknown.f9.pem"
for kind in ca nonca; do
	cp s$kind.pem "$out/gen-mid$kind.stmt.pem"
	cp f9$kind.pem "$out/gen-mid$kind.f9.pem"
	cp mid$kind.pem "$out/gen-mid$kind.mid.pem"
done
cp f9c.pem "$out/gen-f9cspn.f9.pem"
cp smin.pem "$out/gen-f9cspn.stmt.pem"
for b in fw negserial bigserial serialtrail serialtag pol ff; do
	cp sbad_$b.pem "$out/gen-bad-$b.stmt.pem"
done
cp f9n.pem "$out/gen-nonull.f9.pem"
cp snonull.pem "$out/gen-nonull.stmt.pem"
cp scrit.pem "$out/gen-crit.stmt.pem"
cp oid1.csr "$out/gen-oid1.csr.pem"
cp oid11.csr "$out/gen-oid11.csr.pem"
echo "gen.sh: fixtures written to $out"
