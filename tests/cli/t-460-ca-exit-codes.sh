#!/bin/bash
# Exit codes of the CA commands for bad command-line input (issue 12):
# a --serial that is not hex or too long and a malformed or reserved --var
# are usage errors (2) with the reason; a --csr that is no request is
# invalid evidence (5) in both 'ca sign' and 'attest verify', and a
# certificate given as --csr is named as such.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=correct-horse-battery

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots "$CS_SRC/share/yubico-piv-roots.pem"
check_eq "ca init" 0 "$RC"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Exit Codes" -out "$T/req.pem" 2>/dev/null
openssl req -x509 -key "$T/k.pem" -subj "/CN=Not A Request" -days 1 \
	-out "$T/cert.pem" 2>/dev/null
openssl x509 -in "$T/cert.pem" -outform DER -out "$T/cert.der"
printf 'this is not a request\n' >"$T/junk.csr"

# --- serials ---
cs_run "$T/r1" ca revoke --dir "$D" --serial zz
check_eq "revoke --serial zz: exit 2" 2 "$RC"
check_match "revoke --serial zz: says not hex" "--serial 'zz' is not hex" "$T/r1.err"
cs_run "$T/r2" ca revoke --dir "$D" --serial "$(printf 'A%.0s' $(seq 60))"
check_eq "revoke --serial of 60 digits: exit 2" 2 "$RC"
check_match "revoke --serial of 60 digits: says too long" "too long \(at most 47 hex digits\)" "$T/r2.err"
cs_run "$T/r3" ca revoke --dir "$D" --serial ""
check_eq "revoke --serial '': exit 2" 2 "$RC"
cs_run "$T/r4" ca revoke --dir "$D" --serial 0x4F --json
check_eq "revoke --serial 0x4F --json: exit 2" 2 "$RC"
check_eq "revoke --serial 0x4F --json: CS_ERR_ARG" CS_ERR_ARG "$(json_get "$T/r4.out" error.code)"
cs_run "$T/r5" ca revoke --dir "$D" --serial ABCDEF
check_eq "revoke of a well-formed unknown serial: still exit 1" 1 "$RC"
cs_run "$T/s1" ca show --dir "$D" 'G1'
check_eq "show G1: exit 2" 2 "$RC"
check_match "show G1: says not hex" "SERIAL 'G1' is not hex" "$T/s1.err"

# --- --var ---
cs_run "$T/v1" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--var nothing --pass-env CSPASS
check_eq "sign --var without '=': exit 2" 2 "$RC"
check_match "sign --var without '=': says how" "--var 'nothing': write NAME=VALUE" "$T/v1.err"
cs_run "$T/v2" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--var 'team=a,b' --var nothing --pass-env CSPASS
check_eq "sign: the second --var is malformed: exit 2" 2 "$RC"
check_match "sign: names the malformed one" "--var 'nothing'" "$T/v2.err"
cs_run "$T/v3" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--var =x --pass-env CSPASS --json
check_eq "sign --var =x --json: exit 2" 2 "$RC"
check_eq "sign --var =x --json: CS_ERR_ARG" CS_ERR_ARG "$(json_get "$T/v3.out" error.code)"

# --- garbage and certificates as --csr: exit 5 in both commands ---
for f in junk.csr cert.pem cert.der; do
	cs_run "$T/g" ca sign --dir "$D" --profile software --csr "$T/$f" \
		--pass-env CSPASS
	sign_rc=$RC
	cp "$T/g.err" "$T/g-sign-$f.err"
	cs_run "$T/g" attest verify --csr "$T/$f"
	check_eq "$f as --csr: ca sign and attest verify agree (5 5)" "5 5" "$sign_rc $RC"
	cp "$T/g.err" "$T/g-att-$f.err"
done
check_match "ca sign: junk is not a request" "ca sign: $T/junk.csr: not a certificate request" "$T/g-sign-junk.csr.err"
for f in cert.pem cert.der; do
	check_match "ca sign: $f is named a certificate" \
		"$T/$f is a certificate, not a certificate request" "$T/g-sign-$f.err"
	check_match "attest verify: $f is named a certificate" \
		"$T/$f is a certificate, not a certificate request" "$T/g-att-$f.err"
done
cs_run "$T/gj" ca sign --dir "$D" --profile software --csr "$T/junk.csr" \
	--pass-env CSPASS --json
check_eq "ca sign junk --json: CS_ERR_VERIFY" CS_ERR_VERIFY "$(json_get "$T/gj.out" error.code)"
# Nothing was reserved or issued for the refused inputs.
cs_run "$T/list" ca list --dir "$D" --json
check_eq "registry still empty" 0 "$(json_get "$T/list.out" certificates.#)"
# A real request (PEM, DER, legacy NEW CERTIFICATE REQUEST label) still signs.
openssl req -in "$T/req.pem" -outform DER -out "$T/req.der"
sed 's/CERTIFICATE REQUEST/NEW CERTIFICATE REQUEST/' "$T/req.pem" >"$T/req-new.pem"
for f in req.pem req.der req-new.pem; do
	cs_run "$T/ok" ca sign --dir "$D" --profile software --csr "$T/$f" \
		--pass-env CSPASS --dry-run
	check_eq "a genuine request ($f) is still accepted" 0 "$RC"
done
# The documented behaviour.
cs_run "$T/h" ca sign --help
check_match "ca sign --help documents exit 5 for a file that is no request" \
	"not a certificate request.*5|5.*not a certificate request" "$T/h.out"
tap_done
