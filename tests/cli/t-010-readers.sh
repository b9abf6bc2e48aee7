#!/usr/bin/env bash
# cardsmith readers against a private pcscd with two vpcd readers: a card
# with a YubiKey 5 ATR in "Virtual PCD 00 00", nothing in "Virtual PCD 00 01".
. "$(dirname "$0")/lib.sh"
vr="$CS_SRC/scripts/with-virtual-reader.sh"
if [ ! -x "$vr" ]; then
	echo "# SKIP $vr is missing"
	exit 77
fi
cs_tmpdir
t=$CS_TMP
# Card names come from the real pcsc-tools list.
unset CARDSMITH_SMARTCARD_LIST
atr=3BFD1300008131FE158073C021C057597562694B657940
atr_spaced="3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40"
yk="Yubico YubiKey 5 NFC (PKI)"

# One pcscd session for all runs; each run leaves OUT, ERR and RC files.
cat >"$t/runs.sh" <<'SH'
#!/usr/bin/env bash
t=$1
run() {
	local n=$1
	shift
	"$CS" "$@" >"$t/$n.out" 2>"$t/$n.err" </dev/null
	echo $? >"$t/$n.rc"
}
run json readers --json
run text readers
run f01 readers --json --reader "pcd 00 01"
run fnone readers --reader no-such-reader
SH
RC=0
CS="$CS" "$vr" -- bash "$t/runs.sh" "$t" >"$t/vr.out" 2>"$t/vr.err" || RC=$?
if [ "$RC" = 77 ]; then
	echo "# SKIP pcscd or vsmartcard-vpcd not installed"
	exit 77
fi
check_eq "with-virtual-reader.sh session succeeds" 0 "$RC"
[ "$RC" = 0 ] || tap_fail "virtual reader log" "$(tail -20 "$t/vr.err")"

check_eq "readers --json exits 0" 0 "$(cat "$t/json.rc" 2>/dev/null)"
check_eq "readers --json: ok" true "$(json_get "$t/json.out" ok)"
check_eq "readers --json: two readers" 2 "$(json_get "$t/json.out" readers.#)"
r0=$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print([r["name"] for r in d["readers"]].index("Virtual PCD 00 00"))' \
	"$t/json.out" 2>/dev/null || echo 9)
r1=$((1 - r0))
check_eq "readers --json: Virtual PCD 00 00 listed" "Virtual PCD 00 00" \
	"$(json_get "$t/json.out" "readers.$r0.name")"
check_eq "readers --json: Virtual PCD 00 01 listed" "Virtual PCD 00 01" \
	"$(json_get "$t/json.out" "readers.$r1.name")"
check_eq "00 00: card_present" true \
	"$(json_get "$t/json.out" "readers.$r0.card_present")"
check_eq "00 00: atr" "$atr" "$(json_get "$t/json.out" "readers.$r0.atr")"
check_eq "00 00: card_name from smartcard_list.txt" "$yk" \
	"$(json_get "$t/json.out" "readers.$r0.card_name")"
check_eq "00 00: in_use" false \
	"$(json_get "$t/json.out" "readers.$r0.in_use")"
check_eq "00 01: no card" false \
	"$(json_get "$t/json.out" "readers.$r1.card_present")"
check_eq "00 01: atr null" null "$(json_get "$t/json.out" "readers.$r1.atr")"
check_eq "00 01: card_name null" null \
	"$(json_get "$t/json.out" "readers.$r1.card_name")"

check_eq "readers (text) exits 0" 0 "$(cat "$t/text.rc" 2>/dev/null)"
printf '%s\n' "Virtual PCD 00 00: card present; ATR $atr_spaced; $yk" \
	"Virtual PCD 00 01: no card" >"$t/text.exp"
sort "$t/text.out" >"$t/text.sorted"
check_file "readers (text) output" "$t/text.exp" "$t/text.sorted"
check_empty "readers (text): nothing on stderr" "$t/text.err"

check_eq "--reader filter exits 0" 0 "$(cat "$t/f01.rc" 2>/dev/null)"
check_eq "--reader filter: one reader" 1 "$(json_get "$t/f01.out" readers.#)"
check_eq "--reader filter: case-insensitive substring" "Virtual PCD 00 01" \
	"$(json_get "$t/f01.out" readers.0.name)"
check_eq "--reader matching nothing exits 3" 3 \
	"$(cat "$t/fnone.rc" 2>/dev/null)"
check_match "--reader matching nothing: message" \
	"^cardsmith: no reader name contains 'no-such-reader'" "$t/fnone.err"

tap_done
