#!/bin/bash
# cardsmith verify trusts only --chain (issue 9): certificates that come
# with the client's CERT file, a self-signed root among them, never become
# anchors or intermediates. A leaf of an attacker's root, sent together
# with that root (either order) or with an attacker sub-CA, is not
# verified (exit 5); the same bundle verifies only once the attacker's
# root is in --chain; the CA's own leaf with junk companions still does.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=verify-client-certs-pass

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --profiles "$CS_SRC/profiles"
check_eq "ca init" 0 "$RC"
cs_run "$T/chain" ca chain --dir "$D" --out "$T/chain.pem"
check_eq "ca chain" 0 "$RC"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/sw.key" -subj "/CN=Good Leaf" -out "$T/sw.csr" 2>/dev/null
cs_run "$T/sign" ca sign --dir "$D" --profile software --csr "$T/sw.csr" \
	--out "$T/sw.pem" --pass-env CSPASS
check_eq "a software leaf" 0 "$RC"

# The attacker: a root, a sub-CA and a client-auth leaf under the sub-CA,
# with the CA's own subject names (only keys tell them apart).
ISS=$(openssl x509 -in "$D/issuing.crt.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
ROOT=$(openssl x509 -in "$D/root.crt.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
cat >"$T/ca.ext" <<X
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
X
cat >"$T/leaf.ext" <<X
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
X
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/evil-root.key" -subj "/$(echo "$ROOT" | tr , /)" -days 30 \
	-addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign \
	-out "$T/evil-root.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/evil-iss.key" -subj "/$(echo "$ISS" | tr , /)" \
	-out "$T/evil-iss.csr" 2>/dev/null
openssl x509 -req -in "$T/evil-iss.csr" -CA "$T/evil-root.pem" \
	-CAkey "$T/evil-root.key" -CAcreateserial -days 30 -extfile "$T/ca.ext" \
	-out "$T/evil-iss.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/evil.key" -subj "/CN=Evil Leaf" -out "$T/evil.csr" 2>/dev/null
openssl x509 -req -in "$T/evil.csr" -CA "$T/evil-iss.pem" \
	-CAkey "$T/evil-iss.key" -CAcreateserial -days 30 \
	-extfile "$T/leaf.ext" -out "$T/evil.pem" 2>/dev/null
check_eq "attacker leaf made" 1 "$(grep -c 'BEGIN CERTIFICATE' "$T/evil.pem")"

cat "$T/evil.pem" "$T/evil-iss.pem" "$T/evil-root.pem" >"$T/b1.pem"
cat "$T/evil.pem" "$T/evil-root.pem" "$T/evil-iss.pem" >"$T/b2.pem"
cat "$T/evil.pem" "$T/evil-iss.pem" "$T/chain.pem" "$T/evil-root.pem" >"$T/b3.pem"
for b in b1 b2 b3; do
	cs_run "$T/v-$b" verify --chain "$T/chain.pem" "$T/$b.pem"
	check_eq "attacker leaf with its own root in CERT ($b): exit 5" 5 "$RC"
	cs_run "$T/vj-$b" verify --chain "$T/chain.pem" --json "$T/$b.pem"
	check_eq "attacker leaf ($b) --json: not ok" false \
		"$(json_get "$T/vj-$b.out" ok)"
done
cat "$T/chain.pem" "$T/evil-root.pem" "$T/evil-iss.pem" >"$T/chain-evil.pem"
cs_run "$T/v-trusted" verify --chain "$T/chain-evil.pem" "$T/b1.pem"
check_eq "control: with the attacker CAs in --chain it verifies (exit 0)" \
	0 "$RC"
cat "$T/sw.pem" "$T/evil-root.pem" "$T/evil-iss.pem" >"$T/good.pem"
cs_run "$T/v-good" verify --chain "$T/chain.pem" "$T/good.pem"
check_eq "the CA's leaf with attacker companions still verifies" 0 "$RC"
tap_done
