#!/bin/sh
# Mint attestation evidence for the CA tests (openssl CLI only) into OUT:
# a private "manufacturer" root, F9 certificates, slot statements and CSRs
# whose keys exist (so issuance can be tested end to end), plus forged
# variants. Keys are fresh on each run; tests assert contents only.
#
#   root.pem            trusted test manufacturer root (EC P-256)
#   unk-root.pem        a root nobody trusts
#   f9.pem              F9 under root, not a CA, fw 5.7.4
#   leaf.key leaf.csr.pem   P-256 key + CSR "CN=Jane Doe"
#   other.key other.csr.pem another P-256 key + CSR
#   stmt-9a.pem         leaf key, slot 9a, serial 12345678, PIN once, touch never
#   stmt-9c.pem         leaf key, slot 9c
#   stmt-pinnever.pem   leaf key, slot 9a, PIN never
#   stmt-other.pem      other key, slot 9a
#   stmt-untrusted.pem + f9-untrusted.pem   chain to unk-root
#   mid.pem f9-mid.pem stmt-mid.pem          root <- mid <- F9 (valid)
#   mid-expired.pem f9-midexp.pem stmt-midexp.pem  mid expired in 2020
#   f9-serial.pem stmt-serial.pem            F9 carrying serial 99999
#   stmt-badsig.der     stmt-9a with a flipped signature byte
#   leaf-badsig.csr.der leaf CSR with a flipped signature byte
#   rsa.key rsa.csr.pem stmt-rsa434.pem      RSA key, fw 4.3.4 (ROCA range)
#   stmt-543.pem        leaf key, fw 5.4.3 (YSA-2024-03 range)
#   csr-embedded.pem    leaf CSR embedding stmt-9a (.3.1) and f9 (.3.2)
set -eu
out=$1
mkdir -p "$out"
cd "$out"
Y=1.3.6.1.4.1.41482.3

cat >ca.cnf <<CNF
[ca]
default_ca = d
[d]
dir = .
database = ./index.txt
new_certs_dir = ./certs
serial = ./serial
default_md = sha256
policy = p
unique_subject = no
email_in_dn = no
copy_extensions = none
[p]
commonName = supplied
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[mid_ext]
basicConstraints = critical,CA:TRUE,pathlen:1
keyUsage = critical,keyCertSign,cRLSign
[f9_ext]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
$Y.3 = DER:05:07:04
[f9_serial]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
$Y.3 = DER:05:07:04
$Y.7 = DER:02:03:01:86:9F
[st_9a]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
$Y.3 = DER:05:07:04
$Y.7 = DER:02:04:00:BC:61:4E
$Y.8 = DER:02:01
$Y.9 = DER:03
[st_pinnever]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
$Y.3 = DER:05:07:04
$Y.7 = DER:02:04:00:BC:61:4E
$Y.8 = DER:01:01
[st_434]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
$Y.3 = DER:04:03:04
$Y.7 = DER:02:04:00:BC:61:4E
$Y.8 = DER:02:01
[st_543]
subjectKeyIdentifier = none
authorityKeyIdentifier = none
$Y.3 = DER:05:04:03
$Y.7 = DER:02:04:00:BC:61:4E
$Y.8 = DER:02:01
CNF

S0=20160101000000Z
S1=20500101000000Z
eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
csr() { openssl req -new -key "$1" -subj "$2" -out "$3" 2>/dev/null; }
# sign CSR CAcert CAkey ext start end out
sign() {
	rm -rf certs index.txt serial
	mkdir certs
	: >index.txt
	openssl rand -hex 8 >serial
	openssl ca -batch -config ca.cnf -notext -preserveDN -in "$1" \
	    -cert "$2" -keyfile "$3" -extensions "$4" -startdate "$5" \
	    -enddate "$6" -out "$7" 2>/dev/null
}
mkroot() { # key cn out
	eckey "$1"
	openssl req -new -x509 -key "$1" -subj "/CN=$2" -days 9000 \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$3" \
	    2>/dev/null
}
flip_last() { # in out: flip the low bit of the last byte
	n=$(wc -c <"$1")
	head -c $((n - 1)) "$1" >"$2"
	b=$(tail -c 1 "$1" | od -An -tu1 | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 1)))" >>"$2"
}

mkroot root.key "cardsmith Test Manufacturer Root" root.pem
mkroot unk.key "cardsmith Unknown Root" unk-root.pem

mkf9() { # name issuercert issuerkey ext
	eckey "$1.key"
	csr "$1.key" "/CN=Yubico PIV Attestation" "$1.csr"
	sign "$1.csr" "$2" "$3" "$4" $S0 $S1 "$1.pem"
}
mkf9 f9 root.pem root.key f9_ext
mkf9 f9-untrusted unk-root.pem unk.key f9_ext
mkf9 f9-serial root.pem root.key f9_serial

eckey mid.key
csr mid.key "/CN=cardsmith Test Attestation Mid" mid.csr
sign mid.csr root.pem root.key mid_ext $S0 $S1 mid.pem
eckey midexp.key
csr midexp.key "/CN=cardsmith Test Attestation Mid Old" midexp.csr
sign midexp.csr root.pem root.key mid_ext $S0 20200101000000Z mid-expired.pem
mkf9 f9-mid mid.pem mid.key f9_ext
eckey f9-midexp.key
csr f9-midexp.key "/CN=Yubico PIV Attestation Old" f9-midexp.csr
sign f9-midexp.csr mid-expired.pem midexp.key f9_ext $S0 $S1 f9-midexp.pem

eckey leaf.key
eckey other.key
csr leaf.key "/CN=Jane Doe" leaf.csr.pem
csr other.key "/CN=Jane Doe" other.csr.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null
csr rsa.key "/CN=Jane Doe" rsa.csr.pem

# Statement CSRs: the key being attested, named for its slot.
csr leaf.key "/CN=YubiKey PIV Attestation 9a" s9a.csr
csr leaf.key "/CN=YubiKey PIV Attestation 9c" s9c.csr
csr other.key "/CN=YubiKey PIV Attestation 9a" sother.csr
csr rsa.key "/CN=YubiKey PIV Attestation 9a" srsa.csr

sign s9a.csr f9.pem f9.key st_9a $S0 $S1 stmt-9a.pem
sign s9c.csr f9.pem f9.key st_9a $S0 $S1 stmt-9c.pem
sign s9a.csr f9.pem f9.key st_pinnever $S0 $S1 stmt-pinnever.pem
sign sother.csr f9.pem f9.key st_9a $S0 $S1 stmt-other.pem
sign s9a.csr f9-untrusted.pem f9-untrusted.key st_9a $S0 $S1 stmt-untrusted.pem
sign s9a.csr f9-mid.pem f9-mid.key st_9a $S0 $S1 stmt-mid.pem
sign s9a.csr f9-midexp.pem f9-midexp.key st_9a $S0 $S1 stmt-midexp.pem
sign s9a.csr f9-serial.pem f9-serial.key st_9a $S0 $S1 stmt-serial.pem
sign srsa.csr f9.pem f9.key st_434 $S0 $S1 stmt-rsa434.pem
sign s9a.csr f9.pem f9.key st_543 $S0 $S1 stmt-543.pem

openssl x509 -in stmt-9a.pem -outform DER -out stmt-9a.der
flip_last stmt-9a.der stmt-badsig.der
openssl req -in leaf.csr.pem -outform DER -out leaf.csr.der
flip_last leaf.csr.der leaf-badsig.csr.der

# A CSR that embeds the attestation (yubico-piv-tool >= 2.7.2 layout).
s=$(openssl x509 -in stmt-9a.pem -outform DER | od -An -tx1 | tr -d ' \n' | sed 's/../&:/g; s/:$//')
f=$(openssl x509 -in f9.pem -outform DER | od -An -tx1 | tr -d ' \n' | sed 's/../&:/g; s/:$//')
cat >emb.cnf <<CNF
[req]
distinguished_name = dn
req_extensions = ext
prompt = no
[dn]
CN = Jane Doe
[ext]
$Y.1 = DER:$s
$Y.2 = DER:$f
CNF
openssl req -new -key leaf.key -config emb.cnf -out csr-embedded.pem 2>/dev/null
rm -rf certs index.txt* serial* ./*.csr
