#!/bin/bash
# ca list: a text table with a header row and card serial and slot
# columns; filters --card, --profile, --level (level or sub-level) that
# combine with --status and --expiring, in text and JSON; misspelt filter
# values are usage errors; the JSON schema is unchanged.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=correct-horse-battery
sh "$CS_SRC/tests/data/ca/mint.sh" "$T/m" >/dev/null 2>&1 ||
	{ echo "Bail out! mint.sh failed"; exit 1; }
cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots "$T/m/root.pem" --sublevel strict=pin:always,touch:always
check_eq "ca init" 0 "$RC"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Soft One" -out "$T/sw.csr" 2>/dev/null
for i in 1 2; do
	cs_run "$T/sw$i" ca sign --dir "$D" --profile software --csr "$T/sw.csr" \
		--pass-env CSPASS --out "$T/sw$i.pem" --json
	check_eq "software certificate $i" 0 "$RC"
done
SW1=$(json_get "$T/sw1.out" serial)
cs_run "$T/hw" ca sign --dir "$D" --profile piv-auth --csr "$T/m/leaf.csr.pem" \
	--attestation "$T/m/stmt-9a.pem" --intermediate "$T/m/f9.pem" \
	--pass-env CSPASS --out "$T/hw.pem" --json
check_eq "attested certificate (card 12345678, slot 9a)" 0 "$RC"
HW=$(json_get "$T/hw.out" serial)

# rows FILE: data rows of a text listing (the header excluded).
rows() { tail -n +2 "$1" | grep -c .; }

cs_run "$T/l" ca list --dir "$D"
check_eq "list: exit 0" 0 "$RC"
check_match "list: header row first" \
	'^SERIAL +STATUS +LEVEL +EXPIRES +CARD +SLOT +PROFILE +SUBJECT$' <(head -1 "$T/l.out")
check_eq "list: one header, three rows" "1 3" "$(grep -c '^SERIAL ' "$T/l.out") $(rows "$T/l.out")"
check_match "list: the attested row shows card serial and slot" \
	"^$HW +delivered +hardware-attested +[0-9-]{10} +12345678 +9a +piv-auth +CN=Jane Doe" "$T/l.out"
check_match "list: a software row shows - for card and slot" \
	"^$SW1 +delivered +software +[0-9-]{10} +- +- +software +CN=Soft One" "$T/l.out"

cs_run "$T/c" ca list --dir "$D" --card 12345678
check_eq "--card: only that card's row" 1 "$(rows "$T/c.out")"
check_match "--card: it is the attested one" "^$HW " "$T/c.out"
cs_run "$T/p" ca list --dir "$D" --profile software
check_eq "--profile software: two rows" 2 "$(rows "$T/p.out")"
cs_run "$T/lv" ca list --dir "$D" --level hardware-attested
check_eq "--level hardware-attested: one row" 1 "$(rows "$T/lv.out")"
cs_run "$T/lv2" ca list --dir "$D" --level software --json
check_eq "--level software --json: two" 2 "$(json_get "$T/lv2.out" certificates.#)"
cs_run "$T/sl" ca list --dir "$D" --level strict --json
check_eq "--level with a sub-level name: accepted" 0 "$RC"
check_eq "--level strict: none issued at it" 0 "$(json_get "$T/sl.out" certificates.#)"
cs_run "$T/n" ca list --dir "$D" --card 99999999
check_eq "--card without rows: exit 0" 0 "$RC"
check_empty "--card without rows: no table" "$T/n.out"
check_match "--card without rows: says so" "no certificate in the registry matches" "$T/n.err"

cs_run "$T/rv" ca revoke --dir "$D" --serial "$SW1" -q
check_eq "revoke one software certificate" 0 "$RC"
cs_run "$T/cmb" ca list --dir "$D" --profile software --status delivered --json
check_eq "--profile + --status combine" 1 "$(json_get "$T/cmb.out" certificates.#)"
cs_run "$T/cmb2" ca list --dir "$D" --card 12345678 --expiring 3650 --level hardware-attested --json
check_eq "--card + --expiring + --level combine" "$HW" "$(json_get "$T/cmb2.out" certificates.0.serial)"

# JSON schema: the same keys as before (append-only).
check_eq "JSON row keys unchanged" \
	"card_serial firmware level not_after not_before profile revoked_at serial slot status subject sublevel" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["certificates"][0])))' "$T/cmb2.out")"
check_eq "JSON card_serial and slot" "12345678 9a" \
	"$(json_get "$T/cmb2.out" certificates.0.card_serial) $(json_get "$T/cmb2.out" certificates.0.slot)"

# Usage errors.
cs_run "$T/u1" ca list --dir "$D" --level hardware
check_eq "misspelt --level: exit 2" 2 "$RC"
check_match "misspelt --level: lists the names" \
	"unknown --level 'hardware' \(one of: software, hardware-enrolled, hardware-attested, strict\)" "$T/u1.err"
cs_run "$T/u2" ca list --dir "$D" --card 12ab
check_eq "--card not a number: exit 2" 2 "$RC"
cs_run "$T/u3" ca list --dir "$D" --expiring -3
check_eq "--expiring negative: exit 2" 2 "$RC"
cs_run "$T/u4" ca list --dir "$D" --status gone
check_eq "unknown --status: exit 2" 2 "$RC"
check_match "unknown --status: lists the names" "one of: pending, issued, delivered, revoked, void" "$T/u4.err"

# ca show uses the same table.
cs_run "$T/sh" ca show --dir "$D" "$HW"
check_match "ca show: header" '^SERIAL +STATUS' <(head -1 "$T/sh.out")
check_match "ca show: the row with card and slot" "^$HW .* 12345678 +9a " "$T/sh.out"
tap_done
