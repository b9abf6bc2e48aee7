#!/bin/bash
# csr: a --subject, --san or --digest the request builder would refuse is
# a usage error (exit 2) with the reason, found before any card is looked
# for or a PIN asked for (no pcscd runs here, so reaching the card would
# exit 3).
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP

while IFS='|' read -r desc want args; do
	# shellcheck disable=SC2086
	eval "set -- $args"
	cs_run "$T/u" csr --slot 9a "$@"
	check_eq "$desc: exit 2" 2 "$RC"
	check_match "$desc: the reason" "$want" "$T/u.err"
	check_match "$desc: points at help" "Try 'cardsmith help csr'" "$T/u.err"
done <<'EOF2'
subject without '='|subject: "CN": expected type=value|--subject CN
unknown attribute|unknown attribute type "XX"|--subject XX=y
empty subject|subject: empty|--subject ''
bad IP SAN|SAN "ip:300.1.1.1": not an IPv4 or IPv6 address|--subject CN=x --san ip:300.1.1.1
unknown SAN type|SAN "fax:123": expected email:, dns:, uri:, ip: or upn: prefix|--subject CN=x --san fax:123
SAN without a value|SAN "email:"|--subject CN=x --san email:
second SAN bad|SAN "dns:a b"|--subject CN=x --san dns:ok.example --san 'dns:a b'
bad digest|digest "md5": use sha256, sha384 or sha512|--subject CN=x --digest md5
EOF2

cs_run "$T/j" --json csr --slot 9a --subject CN
check_eq "--json: exit 2" 2 "$RC"
check_eq "--json: CS_ERR_ARG" CS_ERR_ARG "$(json_get "$T/j.out" error.code)"
check_match "--json: message names the subject" 'subject: \\"CN\\"' "$T/j.out"

# Good names get past the check: the next step is the card (exit 3 here).
cs_run "$T/ok" csr --slot 9a --subject "CN=Jane Doe,O=Example" \
	--san email:jane@example.org --san ip:10.0.0.1 --digest sha384
check_eq "valid names reach the card step (exit 3 without pcscd)" 3 "$RC"
tap_done
