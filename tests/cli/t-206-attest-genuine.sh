#!/usr/bin/env bash
# cardsmith attest verify against every genuine published YubiKey PIV
# attestation in tests/data/attest (manifest: genuine.tsv, provenance:
# SOURCES.md). Offline, no card, the shipped Yubico roots. Each row must
# verify (exit 0, "valid": true) and every reported field must equal the
# manifest, which was derived from the certificates independently of
# cardsmith: this fails as soon as a genuine attestation stops verifying or a
# field it reports changes. Also: the manifest covers every genuine file, the
# legacy U2F-rooted rows need --allow-u2f-root, and the one genuine statement
# published inside a CSR for another key is refused for that key.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
t=$CS_TMP
D="$CS_SRC/tests/data/attest"
M="$D/genuine.tsv"
export PCSCLITE_CSOCK_NAME=/nonexistent/cardsmith-test/sock
unset CARDSMITH_TRUST

# fields FILE: the manifest's columns 4.. from cardsmith's JSON, one line,
# tab-separated, JSON null as "null", booleans as true/false; the root as its
# CN. Also checks "ok"/"valid" and prints "<invalid>" for anything else.
fields() {
	python3 - "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print("<invalid>"); sys.exit(0)
def g(k):
    v = d.get(k, "<missing>")
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
root = d.get("root")
root = root[3:] if isinstance(root, str) and root.startswith("CN=") else str(root)
print("\t".join([g("ok"), g("valid"), g("key_matches"), g("trust"), g("serial"),
    g("firmware"), g("slot"), g("pin_policy"), g("touch_policy"),
    g("form_factor"), g("fips"), g("cspn"), g("key_algorithm"), root]))
PY
}

shipped=$(realpath "$CS_SRC/share/yubico-piv-roots.pem")
rows=0
u2f_rows=0
declare -A listed=()
while IFS=$'\t' read -r kind input f9 serial fw slot pin touch ff fips cspn \
	key root u2f; do
	case "$kind" in '' | '#'*) continue ;; esac
	rows=$((rows + 1))
	listed[$input]=1
	[ "$f9" = - ] || listed[$f9]=1
	n=${input%.pem}
	extra=()
	if [ "$u2f" = yes ]; then
		extra=(--allow-u2f-root)
		u2f_rows=$((u2f_rows + 1))
	fi
	if [ "$kind" = pair ]; then
		args=(--in "$D/$input" --intermediate "$D/$f9")
		want_km=null
	else
		args=(--csr "$D/$input")
		want_km=true
	fi
	cs_run "$t/$n" --json attest verify "${extra[@]}" "${args[@]}"
	check_eq "$n: valid against the shipped roots (exit 0)" 0 "$RC"
	IFS=$'\t' read -r ok valid km trust g_serial g_fw g_slot g_pin g_touch \
		g_ff g_fips g_cspn g_key g_root <<<"$(fields "$t/$n.out")"
	check_eq "$n: ok" true "$ok"
	check_eq "$n: valid" true "$valid"
	check_eq "$n: key_matches" "$want_km" "$km"
	check_eq "$n: verified with the shipped roots" "$shipped" \
		"$(realpath "$trust" 2>/dev/null)"
	check_eq "$n: serial" "$serial" "$g_serial"
	check_eq "$n: firmware" "$fw" "$g_fw"
	check_eq "$n: slot" "$slot" "$g_slot"
	check_eq "$n: PIN policy" "$pin" "$g_pin"
	check_eq "$n: touch policy" "$touch" "$g_touch"
	check_eq "$n: form factor" "$ff" "$g_ff"
	check_eq "$n: FIPS" "$fips" "$g_fips"
	check_eq "$n: CSPN" "$cspn" "$g_cspn"
	check_eq "$n: key algorithm" "$key" "$g_key"
	check_eq "$n: root" "$root" "$g_root"
	if [ "$u2f" = yes ]; then
		cs_run "$t/$n.nou2f" attest verify "${args[@]}"
		check_eq "$n: refused without --allow-u2f-root (exit 5)" 5 "$RC"
	fi
done <"$M"

# The corpus the acceptance criteria count on: at least 28 genuine
# attestations, and the legacy U2F case among them.
check_eq "manifest lists at least 28 genuine attestations" yes \
	"$([ "$rows" -ge 28 ] && echo yes || echo "no ($rows)")"
check_eq "manifest has a U2F-rooted row" yes \
	"$([ "$u2f_rows" -ge 1 ] && echo yes || echo no)"

# Every genuine file here is in the manifest (generated gen-* fixtures and the
# two documented exceptions aside), so a new sample cannot go untested.
unlisted=""
for f in "$D"/*.pem; do
	b=${f##*/}
	case "$b" in
	gen-*) continue ;;
	# Only an F9 certificate, no statement (t-200 checks the refusal).
	psyk-543-9a-f9only.csr.pem) continue ;;
	# Genuine attestation for another key (checked below).
	tmc-571-9a-wrongkey.csr.pem) continue ;;
	esac
	[ -n "${listed[$b]+x}" ] || unlisted="$unlisted $b"
done
check_eq "every genuine file is in genuine.tsv" "" "$unlisted"
missing=""
for b in "${!listed[@]}"; do
	[ -f "$D/$b" ] || missing="$missing $b"
done
check_eq "every file genuine.tsv names exists" "" "$missing"

# TameMyCerts publishes this CSR as "wrong public key": its embedded
# statement and F9 are genuine (the pair tmc-571-9a above), the request's key
# is another one, so the CSR must be refused with the reason.
cs_run "$t/wk" --json attest verify --csr "$D/tmc-571-9a-wrongkey.csr.pem"
check_eq "genuine attestation in a CSR for another key: exit 5" 5 "$RC"
check_eq "genuine attestation in a CSR for another key: CS_ERR_VERIFY" \
	CS_ERR_VERIFY "$(json_get "$t/wk.out" error.code)"
check_match "genuine attestation in a CSR for another key: reason" \
	'attested key differs' "$t/wk.out"
tap_done
