#!/bin/sh
# Generate the forged-attestation fixtures of issue 12 (openssl CLI only).
# Run once; the outputs are committed, the private keys thrown away.
#
# A manufacturer shaped like Yubico's PIV PKI up to firmware 5.7.3:
#   root.pem        "cardsmith Test Yubico-shaped Root", CA:TRUE pathlen 1
#                   (as Yubico PIV Root CA Serial 263751, 2018 re-issue)
#   f9.pem          "Yubico PIV Attestation", CA:TRUE pathlen 0, fw 5.4.3
#                   (as most genuine firmware 5 F9 certificates)
#   stmt-9a.pem     genuine-shaped statement: key K in slot 9a, serial
#                   12345678, fw 5.4.3, PIN once / touch never
# The attacker holds only the card (K and its PIN). Because f9.pem is a CA,
# `openssl verify -CAfile root.pem -untrusted f9.pem stmt-9a.pem` says OK:
# the statement validates as a leaf. K then signs ordinary certificates that
# look like statements, issued by stmt-9a.pem's subject, for a SOFTWARE key:
#   forged-9a.stmt.pem  software key, "slot 9a", fw 5.7.4, serial 12345678,
#                       PIN always / touch always
#   forged-9c.stmt.pem  software key, "slot 9c", fw 5.7.4, serial 99999999
#   soft.csr.pem        CSR of the software key (CN=Mallory), no attestation
#   forged.csr.pem      the same key, .3.1 = forged-9a, .3.2 = stmt-9a
#   forged-legacy.csr.pem  the same, statement in the legacy .3.11
#   forged-9c.csr.pem   .3.1 = forged-9c, .3.2 = stmt-9a
#   genuine.csr.pem     CSR of K, .3.1 = stmt-9a, .3.2 = f9 (the control:
#                       this one is genuine and must be accepted)
#   trust-with-f9.pem   root.pem + f9.pem in one bundle (a user's mistake)
# A root that also issues ordinary certificates (a corporate root someone
# trusts as a manufacturer root): an end-entity certificate is no F9.
#   ee.pem              "mallory vpn", clientAuth, key K, issued by root.pem
#   forged-ee.stmt.pem  software key, "slot 9a", issued by ee.pem's subject,
#                       signed with K
#   forged-ee.csr.pem   .3.1 = forged-ee, .3.2 = ee.pem
# The vendor's scheme: Yubico's 2024 root issues only CAs, never an F9.
#   fake-root1.pem      self-signed, named "Yubico Attestation Root 1"
#   fake-root1.f9.pem   an F9 (fw 5.7.4) signed directly by it
#   fake-root1.stmt.pem statement (key K, slot 9a) under that F9
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
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[f9_ext]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
basicConstraints = critical,CA:TRUE,pathlen:0
1.3.6.1.4.1.41482.3.3 = DER:05:04:03
[ee_ext]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[root1_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[f9_574]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
basicConstraints = critical,CA:TRUE,pathlen:0
1.3.6.1.4.1.41482.3.3 = DER:05:07:04
[stmt_9a]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:04:03
1.3.6.1.4.1.41482.3.7 = DER:02:04:00:BC:61:4E
1.3.6.1.4.1.41482.3.8 = DER:02:01
1.3.6.1.4.1.41482.3.9 = DER:01
[forged_9a]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:07:04
1.3.6.1.4.1.41482.3.7 = DER:02:04:00:BC:61:4E
1.3.6.1.4.1.41482.3.8 = DER:03:02
1.3.6.1.4.1.41482.3.9 = DER:01
[forged_9c]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
1.3.6.1.4.1.41482.3.3 = DER:05:07:04
1.3.6.1.4.1.41482.3.7 = DER:02:04:05:F5:E0:FF
1.3.6.1.4.1.41482.3.8 = DER:03:02
1.3.6.1.4.1.41482.3.9 = DER:01
EOF

newca() {
	rm -rf certs index.txt serial
	mkdir certs
	: >index.txt
	echo "$1" >serial
}
# sign CSR CAcert CAkey extsection serial out
S0=20160314000000Z
S1=20520417000000Z
sign() {
	newca "$5"
	openssl ca -batch -config ca.cnf -notext -preserveDN -in "$1" \
	    -cert "$2" -keyfile "$3" -extensions "$4" -startdate $S0 \
	    -enddate $S1 -out "$6" 2>/dev/null
}
rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
csr() { openssl req -new -key "$1" -subj "$2" -out "$3"; }
hex() { openssl x509 -in "$1" -outform der | od -An -v -tx1 | tr -d ' \n'; }

rsakey root.key
csr root.key "/CN=cardsmith Test Yubico-shaped Root" root.csr
newca 01
openssl ca -batch -config ca.cnf -notext -selfsign -in root.csr \
    -keyfile root.key -extensions root_ext -startdate $S0 -enddate $S1 \
    -out root.pem 2>/dev/null

rsakey f9.key
csr f9.key "/CN=Yubico PIV Attestation" f9.csr
sign f9.csr root.pem root.key f9_ext 0A f9.pem

eckey k.key
csr k.key "/CN=YubiKey PIV Attestation 9a" k.csr
sign k.csr f9.pem f9.key stmt_9a 0148790DCE69343CBD08C3CB14ECB960 stmt-9a.pem

# The attacker's software key and the "statements" K signs for it.
eckey soft.key
csr soft.key "/CN=YubiKey PIV Attestation 9a" f9a.csr
csr soft.key "/CN=YubiKey PIV Attestation 9c" f9c.csr
sign f9a.csr stmt-9a.pem k.key forged_9a 0148790DCE69343CBD08C3CB14ECB961 forged-9a.stmt.pem
sign f9c.csr stmt-9a.pem k.key forged_9c 0148790DCE69343CBD08C3CB14ECB962 forged-9c.stmt.pem

csr soft.key "/CN=Mallory" soft.csr.pem
openssl req -new -key soft.key -subj /CN=Mallory \
    -addext "$Y.1=DER:$(hex forged-9a.stmt.pem)" \
    -addext "$Y.2=DER:$(hex stmt-9a.pem)" -out forged.csr.pem
openssl req -new -key soft.key -subj /CN=Mallory \
    -addext "$Y.11=DER:$(hex forged-9a.stmt.pem)" \
    -addext "$Y.2=DER:$(hex stmt-9a.pem)" -out forged-legacy.csr.pem
openssl req -new -key soft.key -subj /CN=Mallory \
    -addext "$Y.1=DER:$(hex forged-9c.stmt.pem)" \
    -addext "$Y.2=DER:$(hex stmt-9a.pem)" -out forged-9c.csr.pem
openssl req -new -key k.key -subj "/CN=Alice Card" \
    -addext "$Y.1=DER:$(hex stmt-9a.pem)" \
    -addext "$Y.2=DER:$(hex f9.pem)" -out genuine.csr.pem

# A corporate-style root's end-entity certificate for K, and K's forgery.
csr k.key "/CN=mallory vpn" ee.csr
sign ee.csr root.pem root.key ee_ext 0B ee.pem
csr soft.key "/CN=YubiKey PIV Attestation 9a" fee.csr
sign fee.csr ee.pem k.key forged_9a 0148790DCE69343CBD08C3CB14ECB963 forged-ee.stmt.pem
openssl req -new -key soft.key -subj /CN=Mallory \
    -addext "$Y.1=DER:$(hex forged-ee.stmt.pem)" \
    -addext "$Y.2=DER:$(hex ee.pem)" -out forged-ee.csr.pem

# A root named like Yubico's 2024 root, signing an F9 directly.
rsakey r1.key
csr r1.key "/CN=Yubico Attestation Root 1" r1.csr
newca 01
openssl ca -batch -config ca.cnf -notext -selfsign -in r1.csr \
    -keyfile r1.key -extensions root1_ext -startdate $S0 -enddate $S1 \
    -out fake-root1.pem 2>/dev/null
rsakey f9r1.key
csr f9r1.key "/CN=YubiKey PIV Attestation" f9r1.csr
sign f9r1.csr fake-root1.pem r1.key f9_574 0C fake-root1.f9.pem
sign k.csr fake-root1.f9.pem f9r1.key stmt_9a 0148790DCE69343CBD08C3CB14ECB964 fake-root1.stmt.pem

# The precondition of the attack, checked while generating.
openssl verify -CAfile root.pem -untrusted f9.pem stmt-9a.pem >/dev/null

cat root.pem f9.pem >trust-with-f9.pem
for f in root.pem f9.pem stmt-9a.pem forged-9a.stmt.pem forged-9c.stmt.pem \
    soft.csr.pem forged.csr.pem forged-legacy.csr.pem forged-9c.csr.pem \
    genuine.csr.pem trust-with-f9.pem ee.pem forged-ee.stmt.pem \
    forged-ee.csr.pem fake-root1.pem fake-root1.f9.pem fake-root1.stmt.pem; do
	cp "$f" "$out/$f"
done
echo "wrote forged-attestation fixtures to $out"
