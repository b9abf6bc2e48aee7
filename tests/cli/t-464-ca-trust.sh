#!/bin/bash
# ca trust list / remove: the CA's attestation trust store (trust/) as a
# table and as JSON (kind, SHA-256 fingerprint, file, validity, subject);
# removal by fingerprint or file name, confirmed or --force, never of the
# last anchor without --force; what is removed no longer anchors
# attestation, and the rest of a shipped file survives untouched.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=correct-horse-battery
sh "$CS_SRC/tests/data/ca/mint.sh" "$T/m" >/dev/null 2>&1 ||
	{ echo "Bail out! mint.sh failed"; exit 1; }
ROOTS=$CS_SRC/share/yubico-piv-roots.pem
cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots "$ROOTS"
check_eq "ca init" 0 "$RC"

# fp FILE: the SHA-256 fingerprint of a PEM certificate as openssl prints it.
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//'; }
sed -n '/BEGIN/,/END/p' "$ROOTS" | awk '/BEGIN/{n++} {print > ("'"$T"'/y" n ".pem")}'
Y1=$(fp "$T/y1.pem")
Y8=$(fp "$T/y8.pem")
MR=$(fp "$T/m/root.pem")

# --- list ---
cs_run "$T/l" ca trust list --dir "$D"
check_eq "list: exit 0" 0 "$RC"
check_match "list: header row" '^KIND +SHA-256 +NOT-BEFORE +NOT-AFTER +FILE +SUBJECT$' "$T/l.out"
check_eq "list: the 8 shipped certificates" 9 "$(wc -l <"$T/l.out")"
check_match "list: the PIV root is an anchor, with its fingerprint and validity" \
	"^anchor +$(echo "$Y1" | tr -d : | cut -c1-16) +2016-03-14 +2052-04-17 +yubico-piv-roots.pem#1 +CN=Yubico PIV Root CA Serial 263751$" "$T/l.out"
check_eq "list: 2 anchors, 5 intermediates, 1 legacy U2F root" "2 5 1" \
	"$(grep -c '^anchor ' "$T/l.out") $(grep -c '^intermediate ' "$T/l.out") $(grep -c '^legacy-anchor ' "$T/l.out")"
cs_run "$T/lj" ca trust list --dir "$D" --json
check_eq "list --json: 8 certificates" 8 "$(json_get "$T/lj.out" certificates.#)"
check_eq "list --json: full fingerprint as openssl prints it" "$Y1" \
	"$(json_get "$T/lj.out" certificates.0.sha256_fingerprint)"
check_eq "list --json: kind, file, index" "anchor yubico-piv-roots.pem 1" \
	"$(json_get "$T/lj.out" certificates.0.kind) $(json_get "$T/lj.out" certificates.0.file) $(json_get "$T/lj.out" certificates.0.index)"
check_eq "list --json: not_after" \
	"$(date -u -d "$(openssl x509 -in "$T/y1.pem" -noout -enddate | sed 's/.*=//')" +%s)" \
	"$(json_get "$T/lj.out" certificates.0.not_after)"
check_eq "list --json: legacy-anchor" legacy-anchor "$(json_get "$T/lj.out" certificates.7.kind)"

# --- an added root is listed, anchors attestation, and goes again ---
cs_run "$T/add" ca trust add --dir "$D" "$T/m/root.pem"
check_eq "trust add the test manufacturer root" 0 "$RC"
cs_run "$T/l2" ca trust list --dir "$D" --json
check_eq "list: 9 after trust add" 9 "$(json_get "$T/l2.out" certificates.#)"
check_eq "list: the added root comes first (file order)" "$MR" \
	"$(json_get "$T/l2.out" certificates.0.sha256_fingerprint)"
check_match "list: in an added-*.pem file" '^added-[0-9a-f]{16}\.pem$' \
	<(json_get "$T/l2.out" certificates.0.file)
ADDED=$(json_get "$T/l2.out" certificates.0.file)
sign_hw() {
	cs_run "$T/$1" ca sign --dir "$D" --profile piv-auth --csr "$T/m/leaf.csr.pem" \
		--attestation "$T/m/stmt-9a.pem" --intermediate "$T/m/f9.pem" \
		--pass-env CSPASS --dry-run
}
sign_hw hw1
check_eq "attested request passes while its root is trusted" 0 "$RC"

cs_run "$T/r0" ca trust remove --dir "$D" "$(echo "$MR" | tr -d : | cut -c1-16)"
check_eq "remove without --force and no terminal: exit 2" 2 "$RC"
check_match "remove without --force: names the certificate and --force" \
	"stop trusting CN=.* for attestation: refusing without confirmation: add --force" "$T/r0.err"
check_eq "remove refused: file still there" yes "$([ -f "$D/trust/$ADDED" ] && echo yes)"
cs_run "$T/r1" ca trust remove --dir "$D" --force "$(echo "$MR" | tr -d : | cut -c1-16)"
check_eq "remove --force by 16-digit prefix: exit 0" 0 "$RC"
check_match "remove: says what went" "^removed 1 certificate: CN=" "$T/r1.out"
check_eq "remove: the added file is deleted" no "$([ -e "$D/trust/$ADDED" ] && echo yes || echo no)"
sign_hw hw2
check_eq "attested request refused once its root is removed (exit 5)" 5 "$RC"

# --- by full fingerprint, lower case with colons: the shipped file is rewritten ---
cs_run "$T/r2" ca trust remove --dir "$D" --force --json "$(echo "$Y8" | tr A-F a-f)"
check_eq "remove the U2F root by full fingerprint: exit 0" 0 "$RC"
check_eq "remove --json: removed 1" 1 "$(json_get "$T/r2.out" removed)"
check_eq "remove --json: which one" "$Y8" "$(json_get "$T/r2.out" certificates.0.sha256_fingerprint)"
check_eq "shipped file keeps the other 7 blocks" 7 "$(grep -c 'BEGIN CERTIFICATE' "$D/trust/yubico-piv-roots.pem")"
check_eq "the U2F root's comment lines went with it" 0 "$(grep -c 'U2F Root' "$D/trust/yubico-piv-roots.pem")"
check_match "other certificates' comment lines stay" '^# Yubico Attestation Root 1 ' "$D/trust/yubico-piv-roots.pem"
check_eq "file mode stays 0600" 600 "$(stat -c %a "$D/trust/yubico-piv-roots.pem")"
openssl crl2pkcs7 -nocrl -certfile "$D/trust/yubico-piv-roots.pem" 2>/dev/null |
	openssl pkcs7 -print_certs -noout 2>/dev/null | grep -c '^subject' >"$T/n"
check_eq "openssl still reads the 7 certificates" 7 "$(cat "$T/n")"
cs_run "$T/l3" ca trust list --dir "$D" --json
check_eq "list: 7 left" 7 "$(json_get "$T/l3.out" certificates.#)"

# --- selectors that are wrong ---
cs_run "$T/b1" ca trust remove --dir "$D" --force 63ECE91
check_eq "7-digit prefix: exit 2" 2 "$RC"
cs_run "$T/b2" ca trust remove --dir "$D" --force ../ca.cnf.pem
check_eq "a path, not a trust/ file name: exit 2" 2 "$RC"
cs_run "$T/b3" ca trust remove --dir "$D" --force 0000000000000000
check_eq "unknown fingerprint: exit 1" 1 "$RC"
check_match "unknown fingerprint: says so" "no certificate in the trust store has fingerprint 0000000000000000" "$T/b3.err"
cs_run "$T/b4" ca trust remove --dir "$D" --force nosuch.pem
check_eq "unknown file: exit 1" 1 "$RC"
cs_run "$T/b5" ca trust remove --dir "$D"
check_eq "nothing named: exit 2" 2 "$RC"
cs_run "$T/l4" ca trust list --dir "$D" --json
check_eq "failed removals changed nothing" 7 "$(json_get "$T/l4.out" certificates.#)"

# --- the last anchor ---
cs_run "$T/a1" ca trust remove --dir "$D" --force "$Y1"
check_eq "remove one of two anchors: exit 0" 0 "$RC"
Y2=$(fp "$T/y2.pem")
cs_run "$T/a2" -q ca trust remove --dir "$D" "$Y2"
check_eq "the last anchor without --force: exit 6" 6 "$RC"
check_match "the last anchor: says why and how" \
	"would remove the last trust anchor: no attestation could verify afterwards; add --force" "$T/a2.err"
cs_run "$T/a3" ca trust remove --dir "$D" yubico-piv-roots.pem --force -q
check_eq "the whole shipped file with --force: exit 0" 0 "$RC"
check_empty "-q: no summary" "$T/a3.out"
check_eq "the file is gone" no "$([ -e "$D/trust/yubico-piv-roots.pem" ] && echo yes || echo no)"
cs_run "$T/l5" ca trust list --dir "$D"
check_eq "empty store: list exits 0" 0 "$RC"
check_match "empty store: says what it means" "trust store is empty" "$T/l5.err"

# --- a file that does not decode ---
printf 'junk\n' >"$D/trust/junk.pem"
cs_run "$T/j1" ca trust list --dir "$D"
check_eq "a broken trust file: list exits 1" 1 "$RC"
check_match "a broken trust file: named" "trust/junk.pem: no certificate that decodes" "$T/j1.err"
cs_run "$T/j2" ca trust remove --dir "$D" junk.pem --force
check_eq "a broken trust file can be removed by name" 0 "$RC"
check_eq "and is gone" no "$([ -e "$D/trust/junk.pem" ] && echo yes || echo no)"
tap_done
