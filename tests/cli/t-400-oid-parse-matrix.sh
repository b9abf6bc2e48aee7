#!/usr/bin/env bash
# Parse matrix: what a CA made with default options issues must parse
# everywhere. Two CAs (default; --hardware-ca), a software leaf and a
# hardware-attested leaf from the virtual card for each; root, issuing,
# hardware issuing and leaf certificates are read by
#   OpenSSL (x509 -text; verify -policy OID -explicit_policy),
#   GnuTLS certtool -i, NSS certutil (import + list),
#   Debian's python3-cryptography (certificatePolicies and every extension),
#   ykman (piv info, certificates export) reading the leaf from slot 9a,
#   Go's crypto/x509 ParseCertificate (a program built here, offline),
# and each must report the policy OIDs the CA recorded.
# Negative controls in the same run show the matrix can fail: a CA with a
# 2.25.<uuid> arc (only with --allow-long-oid-arcs) yields a leaf Go,
# python3-cryptography, GnuTLS, NSS and ykman cannot read, and an arc of
# 2^31 - 1 one that Go reads but Debian 12's python3-cryptography does not
# (why the limit is 2^28).
# A missing tool is a failure, never a skip: the matrix is the point.
set -u
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-cryptography (not a venv's)

if [ "${1:-}" != --inner ]; then
	cs_tmpdir
	for t in openssl certtool certutil go ykman "$PY" \
		"$CS_BUILD/bin/cardsmith-sim" "$CS_BUILD/tests/harness/vreader" \
		setsid; do
		if command -v "$t" >/dev/null; then
			tap_ok "tool available: $t"
		else
			tap_fail "tool available: $t" \
				"install it (scripts/install-deps.sh; make tests)"
		fi
	done
	export CS_MATRIX_OUT=$CS_TMP/tap.inner CS_MATRIX_N=$TAP_N
	cs_with_sim --serial 7654321 -- bash "$0" --inner
	rc=$?
	if [ -s "$CS_MATRIX_OUT" ]; then
		cat "$CS_MATRIX_OUT"
		TAP_N=$(sed -n 's/^\(not \)\{0,1\}ok \([0-9]*\) .*/\2/p' \
			"$CS_MATRIX_OUT" | tail -1)
		TAP_FAILED=$((TAP_FAILED + $(grep -c '^not ok' "$CS_MATRIX_OUT")))
	fi
	[ "$rc" -eq 0 ] || tap_fail "virtual card session" "exit status $rc" \
		"(77: pcscd or vsmartcard-vpcd missing; 125: harness failure)"
	tap_done
fi

cd "$CS_T" || exit 1
exec >"$CS_MATRIX_OUT"
TAP_N=$CS_MATRIX_N
PIN=123456
CSPASS=matrix-ca-pass
export PIN CSPASS
K() { ykman --reader "${CS_READER:-Virtual PCD 00 00}" "$@" </dev/null; }

# --- the parsers -----------------------------------------------------------

mkdir -p go
cat >go/parse.go <<'GO'
// Parse each PEM certificate with crypto/x509; print its policy OIDs.
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func main() {
	rc := 0
	for _, f := range os.Args[1:] {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Printf("%s: error: %v\n", f, err)
			rc = 1
			continue
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			fmt.Printf("%s: error: no PEM block\n", f)
			rc = 1
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			fmt.Printf("%s: error: %v\n", f, err)
			rc = 1
			continue
		}
		fmt.Printf("%s: ok", f)
		for _, p := range c.PolicyIdentifiers {
			fmt.Printf(" %s", p.String())
		}
		fmt.Printf(" (%d extensions)\n", len(c.Extensions))
	}
	os.Exit(rc)
}
GO
# Offline, in private directories: no module download, no shared cache.
RC=0
(cd go && env GOPATH="$CS_T/go/path" GOCACHE="$CS_T/go/cache" \
	GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0 \
	go build -o parse parse.go) >go/build.log 2>&1 || RC=$?
if [ "$RC" = 0 ] && [ -x go/parse ]; then
	tap_ok "Go parse program builds offline ($(go version 2>&1))"
else
	tap_fail "Go parse program builds offline" "$(tail -5 go/build.log)"
fi

cat >parse.py <<'PY'
# Load each PEM certificate; read certificatePolicies and every extension.
import sys
import cryptography
from cryptography import x509

rc = 0
for f in sys.argv[1:]:
    try:
        c = x509.load_pem_x509_certificate(open(f, "rb").read())
        exts = [e.oid.dotted_string + "=" + type(e.value).__name__
                for e in c.extensions]
        pols = c.extensions.get_extension_for_class(
            x509.CertificatePolicies).value
        print(f + ": ok", " ".join(p.policy_identifier.dotted_string
                                   for p in pols), " ".join(exts))
    except Exception as e:
        print(f + ": error:", type(e).__name__, e)
        rc = 1
sys.exit(rc)
PY
"$PY" -c 'import cryptography, sys; print(cryptography.__version__,
	cryptography.__file__)' >pyver.out 2>&1
check_match "python3-cryptography is Debian's package" \
	'^[0-9.]+ /usr/lib/python3/dist-packages/cryptography/' pyver.out

# has_all DESC FILE OID...: FILE mentions every OID whole (NSS writes
# "OID.1.2...", so a letter and a dot may precede it).
has_all() {
	local desc=$1 file=$2 oid miss=()
	shift 2
	for oid in "$@"; do
		grep -qE "(^|[^0-9.]|[A-Za-z]\.)${oid//./\\.}([^0-9.]|$)" "$file" ||
			miss+=("$oid")
	done
	if [ ${#miss[@]} -eq 0 ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "missing: ${miss[*]}" "$(head -20 "$file")"
	fi
}

# matrix NAME CERT OID...: every parser reads CERT and reports the OIDs.
matrix() {
	local name=$1 cert=$2 o=$CS_T/m-$1 rc
	shift 2
	rc=0
	openssl x509 -in "$cert" -noout -text >"$o.ossl" 2>&1 || rc=$?
	check_eq "$name: openssl x509 -text exits 0" 0 "$rc"
	has_all "$name: openssl reports the policies" "$o.ossl" "$@"

	rc=0
	certtool -i --infile "$cert" >"$o.gnutls" 2>&1 || rc=$?
	check_eq "$name: certtool -i exits 0" 0 "$rc"
	if grep -qi 'error' "$o.gnutls"; then
		tap_fail "$name: certtool reports no error" \
			"$(grep -i error "$o.gnutls" | head -3)"
	else
		tap_ok "$name: certtool reports no error"
	fi
	has_all "$name: certtool reports the policies" "$o.gnutls" "$@"

	rm -rf "$o.nss" && mkdir "$o.nss"
	rc=0
	{ certutil -N -d "sql:$o.nss" --empty-password &&
		certutil -A -d "sql:$o.nss" -n "$name" -t ,, -i "$cert" &&
		certutil -L -d "sql:$o.nss" -n "$name"; } >"$o.nss.out" 2>&1 ||
		rc=$?
	check_eq "$name: certutil imports and lists it" 0 "$rc"
	if grep -q UNSUPPORTED "$o.nss.out"; then
		tap_fail "$name: NSS decodes every OID" \
			"$(grep UNSUPPORTED "$o.nss.out" | head -3)"
	else
		tap_ok "$name: NSS decodes every OID"
	fi
	has_all "$name: NSS reports the policies" "$o.nss.out" "$@"

	rc=0
	"$PY" parse.py "$cert" >"$o.py" 2>&1 || rc=$?
	check_eq "$name: python3-cryptography loads it and its extensions" 0 \
		"$rc"
	has_all "$name: python3-cryptography reports the policies" "$o.py" "$@"

	rc=0
	go/parse "$cert" >"$o.go" 2>&1 || rc=$?
	check_eq "$name: Go crypto/x509 parses it" 0 "$rc"
	has_all "$name: Go reports the policies" "$o.go" "$@"
}

# --- two default CAs and their leaves ---------------------------------------

cs_do initD ca init --dir caD --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots vendor/root.pem --json
check_rc "ca init (default options)" 0
cs_do initH ca init --dir caH --hardware-ca --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots vendor/root.pem --json
check_rc "ca init --hardware-ca" 0
for c in D H; do
	eval "HW_$c=\$(json_get \"\$CS_T/init$c.out\" policy_oids.hardware-attested)"
	eval "EN_$c=\$(json_get \"\$CS_T/init$c.out\" policy_oids.hardware-enrolled)"
	eval "SW_$c=\$(json_get \"\$CS_T/init$c.out\" policy_oids.software)"
	arc=$(json_get "$CS_T/init$c.out" arc)
	check_eq "CA $c: default arc is the GUID arc" ok \
		"$([[ $arc =~ ^1\.2\.840\.113556\.1\.8000\.2554(\.[0-9]{1,8}){7}$ ]] && echo ok)"
	check_eq "CA $c: long arcs not allowed" false \
		"$(json_get "$CS_T/init$c.out" allow_long_oid_arcs)"
done

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout sw.key -subj "/CN=Matrix Software" -out sw.csr 2>/dev/null
cs_do kg keygen --slot 9a --alg p256 --out pub.pem --force
check_rc "keygen 9a on the virtual card" 0
cs_do att attest --slot 9a --out att.pem --f9-out f9.pem
check_rc "attest 9a" 0
cs_do csr csr --slot 9a --subject "CN=Matrix Hardware,O=cardsmith" \
	--pin-env PIN --out hw.csr
check_rc "csr 9a" 0
for c in D H; do
	cs_do sw$c ca sign --dir ca$c --profile software --csr sw.csr \
		--pass-env CSPASS --out $c-sw.pem --json
	check_rc "CA $c: software leaf issued" 0
	cs_do hw$c ca sign --dir ca$c --profile piv-auth --csr hw.csr \
		--attestation att.pem --intermediate f9.pem \
		--attestation-chain vendor/intermediate.pem --pass-env CSPASS \
		--out $c-hw.pem --json
	check_rc "CA $c: hardware-attested leaf issued" 0
	check_eq "CA $c: leaf level" hardware-attested \
		"$(json_get "$LAST.out" level)"
done

matrix D-root caD/root.crt.pem "$HW_D" "$EN_D" "$SW_D"
matrix D-issuing caD/issuing.crt.pem "$HW_D" "$EN_D" "$SW_D"
matrix D-sw D-sw.pem "$SW_D"
matrix D-hw D-hw.pem "$HW_D"
matrix H-root caH/root.crt.pem "$HW_H" "$EN_H" "$SW_H"
matrix H-issuing caH/issuing.crt.pem "$SW_H"
matrix H-hw-issuing caH/hw-issuing.crt.pem "$HW_H" "$EN_H"
matrix H-sw H-sw.pem "$SW_H"
matrix H-hw H-hw.pem "$HW_H"

# OpenSSL path validation with the level OID as explicit policy.
pv() {
	local desc=$1 oid=$2 root=$3 mid=$4 leaf=$5
	if openssl verify -policy "$oid" -explicit_policy -policy_check \
		-CAfile "$root" -untrusted "$mid" "$leaf" >pv.out 2>&1; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "$(cat pv.out)"
	fi
}
pv "D-hw: openssl verify -policy hardware-attested -explicit_policy" \
	"$HW_D" caD/root.crt.pem caD/issuing.crt.pem D-hw.pem
pv "D-sw: openssl verify -policy software -explicit_policy" \
	"$SW_D" caD/root.crt.pem caD/issuing.crt.pem D-sw.pem
pv "H-hw: openssl verify -policy hardware-attested -explicit_policy" \
	"$HW_H" caH/root.crt.pem caH/hw-issuing.crt.pem H-hw.pem
pv "H-sw: openssl verify -policy software -explicit_policy" \
	"$SW_H" caH/root.crt.pem caH/issuing.crt.pem H-sw.pem

# ykman (Debian's python3-cryptography) reading the leaf from the card.
cs_do imp cert import --slot 9a --in H-hw.pem
check_rc "cert import H-hw into slot 9a" 0
RC=0
K piv info >yk-info.out 2>&1 || RC=$?
check_eq "ykman piv info exits 0" 0 "$RC"
check_match "ykman piv info shows the slot 9a certificate" \
	'Subject DN:[[:space:]]+.*CN=Matrix Hardware' yk-info.out
if grep -qi 'failed to parse' yk-info.out; then
	tap_fail "ykman piv info parses every certificate" \
		"$(grep -i 'failed to parse' yk-info.out)"
else
	tap_ok "ykman piv info parses every certificate"
fi
RC=0
K piv certificates export 9a yk-9a.pem >yk-exp.out 2>&1 || RC=$?
check_eq "ykman piv certificates export 9a exits 0" 0 "$RC"
check_eq "ykman exports the issued leaf" \
	"$(openssl x509 -in H-hw.pem -outform DER 2>/dev/null | od -An -tx1)" \
	"$(openssl x509 -in yk-9a.pem -outform DER 2>/dev/null | od -An -tx1)"

# --- negative controls: the matrix can fail --------------------------------

UUID=2.25.329800735698586629295641978511506172918
cs_do initL ca init --dir caL --arc $UUID --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots vendor/root.pem
check_rc "a 2.25.<uuid> arc is refused without --allow-long-oid-arcs" 1
check_match "the refusal names the option" 'allow-long-oid-arcs' "$LAST.err"
check_eq "nothing is created" no "$([ -e caL ] && echo yes || echo no)"
cs_do initL ca init --dir caL --arc $UUID --allow-long-oid-arcs \
	--pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "a 2.25.<uuid> arc with --allow-long-oid-arcs" 0
check_match "ca init warns what breaks: Go" "warning: .*Go's crypto/x509" \
	"$LAST.err"
check_match "ca init warns what breaks: ykman" "ykman" "$LAST.err"
cs_do swL ca sign --dir caL --profile software --csr sw.csr \
	--pass-env CSPASS --out L-sw.pem
check_rc "long-arc CA: software leaf issued" 0
RC=0
go/parse L-sw.pem >L.go 2>&1 || RC=$?
check_eq "control: Go rejects the 2.25 leaf" 1 "$RC"
check_match "control: Go's reason" 'error: x509: ' L.go
RC=0
"$PY" parse.py L-sw.pem >L.py 2>&1 || RC=$?
check_eq "control: python3-cryptography rejects the 2.25 leaf" 1 "$RC"
certtool -i --infile L-sw.pem >L.gnutls 2>&1
check_match "control: certtool cannot decode the 2.25 policy" \
	'[Ee]rror' L.gnutls
mkdir L.nss
{ certutil -N -d sql:L.nss --empty-password &&
	certutil -A -d sql:L.nss -n L -t ,, -i L-sw.pem &&
	certutil -L -d sql:L.nss -n L; } >L.nss.out 2>&1
check_match "control: NSS cannot print the 2.25 policy" UNSUPPORTED \
	L.nss.out
# On the card: the hardware leaf carries the marker extension, whose
# extension ID is under the 2.25 arc.
cs_do hwL ca sign --dir caL --profile piv-auth --csr hw.csr \
	--attestation att.pem --intermediate f9.pem \
	--attestation-chain vendor/intermediate.pem --pass-env CSPASS \
	--out L-hw.pem
check_rc "long-arc CA: hardware-attested leaf issued" 0
cs_do impL cert import --slot 9a --in L-hw.pem
check_rc "control: the 2.25 leaf imported into slot 9a" 0
K piv info >yk-infoL.out 2>&1
check_match "control: ykman piv info fails to parse it" \
	'[Ff]ailed to parse' yk-infoL.out
RC=0
K piv certificates export 9a yk-9aL.pem >yk-expL.out 2>&1 || RC=$?
check_eq "control: ykman cannot export it" 1 \
	"$([ "$RC" -ne 0 ] && echo 1 || echo 0)"

# An arc of 2^31 - 1: Go reads it, Debian 12's python3-cryptography does
# not (four base-128 octets at most), hence the 2^28 limit.
cs_do initM ca init --dir caM --arc 1.3.6.1.4.1.2147483647 \
	--pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "an arc of 2^31 - 1 is refused without --allow-long-oid-arcs" 1
cs_do initM ca init --dir caM --arc 1.3.6.1.4.1.2147483647 \
	--allow-long-oid-arcs --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots vendor/root.pem
check_rc "an arc of 2^31 - 1 with --allow-long-oid-arcs" 0
cs_do swM ca sign --dir caM --profile software --csr sw.csr \
	--pass-env CSPASS --out M-sw.pem
check_rc "2^31 - 1 CA: software leaf issued" 0
RC=0
go/parse M-sw.pem >M.go 2>&1 || RC=$?
check_eq "control: Go parses the 2^31 - 1 leaf" 0 "$RC"
RC=0
"$PY" parse.py M-sw.pem >M.py 2>&1 || RC=$?
check_eq "control: python3-cryptography 38 rejects the 2^31 - 1 leaf" 1 "$RC"
# The outer run prints the plan.
[ "$TAP_FAILED" -eq 0 ]
