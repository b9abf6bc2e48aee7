#!/bin/bash
# Long OID arcs at the CLI: ca init refuses a 2.25.<uuid> arc (and long
# extra policies / sub-level OIDs) unless --allow-long-oid-arcs, which is
# recorded in ca.cnf and warns what breaks; a CA directory from before the
# option (long arc, no allow_long_oid_arcs in ca.cnf) keeps issuing and
# every ca command on it warns once, -q silences that, and
# allow_long_oid_arcs = yes acknowledges it.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
export CSPASS=correct-horse-battery
UUID=2.25.329800735698586629295641978511506172918
INIT=(--pass-env CSPASS --profiles "$CS_SRC/profiles"
	--roots "$CS_SRC/share/yubico-piv-roots.pem")

cs_run "$T/def" ca init --dir "$T/def" "${INIT[@]}" --json
check_eq "default ca init exits 0" 0 "$RC"
check_eq "default: long arcs not allowed (json)" false \
	"$(json_get "$T/def.out" allow_long_oid_arcs)"
check_empty "default: no warning" "$T/def.err"
check_match "default: ca.cnf says no" '^allow_long_oid_arcs = no$' \
	"$T/def/ca.cnf"

cs_run "$T/u" ca init --dir "$T/u" --arc $UUID "${INIT[@]}"
check_eq "2.25 arc refused (exit 1)" 1 "$RC"
check_match "refusal names the OID and the reason" \
	"OID $UUID \\(policy arc\\) has an arc of 2\\^28 or more" "$T/u.err"
check_match "refusal says what breaks and the way out" \
	"Go's crypto/x509 .*--arc.*--allow-long-oid-arcs" "$T/u.err"
check_eq "refused: no directory" no "$([ -e "$T/u" ] && echo yes || echo no)"

cs_run "$T/e" ca init --dir "$T/e" --extra-policy software=1.2.3.4294967296 \
	"${INIT[@]}"
check_eq "long extra policy refused (exit 1)" 1 "$RC"
check_match "names the extra policy" \
	'OID 1\.2\.3\.4294967296 \(extra policy\)' "$T/e.err"
cs_run "$T/s" ca init --dir "$T/s" \
	--sublevel strict=pin:always,oid:1.3.6.1.4.1.99999.2147483648 \
	"${INIT[@]}"
check_eq "long sub-level OID refused (exit 1)" 1 "$RC"
check_match "names the sub-level OID" \
	'OID 1\.3\.6\.1\.4\.1\.99999\.2147483648 \(sub-level\)' "$T/s.err"

cs_run "$T/l" ca init --dir "$T/l" --arc $UUID --allow-long-oid-arcs \
	"${INIT[@]}" --json
check_eq "2.25 arc with --allow-long-oid-arcs" 0 "$RC"
check_eq "json: allowed" true "$(json_get "$T/l.out" allow_long_oid_arcs)"
check_eq "json: the arc as given" "$UUID" "$(json_get "$T/l.out" arc)"
check_match "warning names Go and its gateways" \
	"warning: .*Go's crypto/x509 \\(Traefik, Caddy" "$T/l.err"
check_match "warning names Debian 12's python3-cryptography / ykman" \
	"python3-cryptography 38 \\('ykman piv info' fails\\)" "$T/l.err"
check_match "recorded in ca.cnf" '^allow_long_oid_arcs = yes$' "$T/l/ca.cnf"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k" -subj "/CN=Arc User" -out "$T/c.csr" 2>/dev/null
cs_run "$T/sl" ca sign --dir "$T/l" --profile software --csr "$T/c.csr" \
	--pass-env CSPASS --out "$T/l.pem"
check_eq "allowed CA issues" 0 "$RC"
check_eq "allowed CA: no warning on use" 0 \
	"$(grep -c 'warning:' "$T/sl.err")"

# A CA directory from before the option: no allow_long_oid_arcs line.
sed -i '/allow_long_oid_arcs/d' "$T/l/ca.cnf"
cs_run "$T/ol" ca list --dir "$T/l"
check_eq "legacy CA: ca list works" 0 "$RC"
check_eq "legacy CA: warned exactly once" 1 \
	"$(grep -c 'warning:' "$T/ol.err")"
check_match "legacy warning: what breaks and how to move" \
	"Go's crypto/x509.*move to a new CA \\('cardsmith ca init'" "$T/ol.err"
cs_run "$T/os" ca sign --dir "$T/l" --profile software --csr "$T/c.csr" \
	--pass-env CSPASS --out "$T/l2.pem" --json
check_eq "legacy CA: still issues" 0 "$RC"
check_eq "legacy CA: the leaf keeps the old arc" "$UUID.1.3" \
	"$(json_get "$T/os.out" policy_oid)"
check_eq "legacy CA: one warning for the signing command" 1 \
	"$(grep -c 'warning:' "$T/os.err")"
cs_run "$T/oq" -q ca list --dir "$T/l"
check_empty "legacy CA: -q silences the warning" "$T/oq.err"
sed -i 's/^\[ca\]$/[ca]\nallow_long_oid_arcs = yes/' "$T/l/ca.cnf"
cs_run "$T/oa" ca list --dir "$T/l"
check_eq "acknowledged: ca list works" 0 "$RC"
check_empty "acknowledged (allow_long_oid_arcs = yes): no warning" "$T/oa.err"
sed -i 's/^allow_long_oid_arcs = yes$/allow_long_oid_arcs = perhaps/' \
	"$T/l/ca.cnf"
cs_run "$T/ob" ca list --dir "$T/l"
check_eq "a bad allow_long_oid_arcs value is refused" 1 "$RC"
check_match "and named" 'allow_long_oid_arcs must be yes or no' "$T/ob.err"

# The default CA's leaf and a profile with a long policy_oid.
cat >"$T/longpol.cnf" <<'EOF'
[cardsmith]
level = software
max_level = software
[extensions]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, 1.3.6.1.4.1.311.2147483648
EOF
cs_run "$T/lp" ca sign --dir "$T/def" --profile "$T/longpol.cnf" \
	--csr "$T/c.csr" --pass-env CSPASS --out "$T/lp.pem"
check_eq "a long OID in a profile's extensions: refused (exit 6)" 6 "$RC"
check_match "the lint names it" \
	'lint: .*OID 1\.3\.6\.1\.4\.1\.311\.2147483648 has an arc of 2\^28' \
	"$T/lp.err"
check_eq "nothing written" no "$([ -e "$T/lp.pem" ] && echo yes || echo no)"

cs_run "$T/h" help ca init
check_match "help: --arc is the production path" \
	"--arc: in production your organisation's own arc" "$T/h.out"
check_match "help: the default GUID arc" \
	'1\.2\.840\.113556\.1\.8000\.2554\.A\.B\.C\.D\.E\.F\.G' "$T/h.out"
check_match "help: --allow-long-oid-arcs" '--allow-long-oid-arcs' "$T/h.out"
tap_done
