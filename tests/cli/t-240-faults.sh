#!/usr/bin/env bash
# Failures with clear messages: card removed mid-operation (sim --fault
# drop-after=N / remove-after=N) exits 3 and says what happened; an
# attestation against the wrong root, for another key, or truncated, is
# rejected with the reason (exit 5); reader selection errors.
set -u
. "$(dirname "$0")/lib.sh"
cs_need_sim
cs_tmpdir
t=$CS_TMP

# run_in NAME [SIM-ARGS...] -- CARDSMITH-ARGS...: one fresh card session;
# results in $t/NAME.{out,err,rc}.
run_in() {
	local name=$1
	shift
	local sa=()
	while [ "$1" != -- ]; do
		sa+=("$1")
		shift
	done
	shift
	cs_with_sim "${sa[@]}" -- bash -c \
		'cd "$CS_T"; setsid -w "$0" "$@" >"$CS_T/'"$name"'.out" 2>"$CS_T/'"$name"'.err" </dev/null; echo $? >"$CS_T/'"$name"'.rc"' \
		"$CS" "$@" >"$t/$name.harness" 2>&1
	RC=$(cat "$t/$name.rc" 2>/dev/null || echo "none")
}

# keygen sends its GENERATE as the 9th APDU on a fresh 5.4.3 card
# (SELECT, VERSION, SERIAL, METADATA 9A, admin data, METADATA 9B, 2x
# GENERAL AUTHENTICATE): the card goes away just before it.
run_in kg8 --fault drop-after=8 -- keygen --slot 9a --alg p256
check_eq "card pulled before GENERATE: exit 3" 3 "$RC"
check_match "card pulled before GENERATE: says the card was removed" \
	'card (removed|was reset)' "$t/kg8.err"
check_match "card pulled before GENERATE: says what to check" \
	"check with 'cardsmith inspect'" "$t/kg8.err"
run_in kg9 --fault drop-after=9 -- --json keygen --slot 9a --alg rsa2048
check_eq "card pulled during RSA GENERATE's answer: exit 3" 3 "$RC"
check_eq "... JSON error code" CS_ERR_REMOVED "$(json_get "$t/kg9.out" error.code)"
run_in in12 --fault remove-after=12 -- inspect
check_eq "card gone during inspect: exit 3" 3 "$RC"
check_match "card gone during inspect: message" 'inspect: .*card' "$t/in12.err"
run_in pv5 --fault drop-after=5 -- pin verify --pin-env HOME
check_eq "card pulled before VERIFY: exit 3" 3 "$RC"
check_match "card pulled before VERIFY: nothing written" 'nothing was written' "$t/pv5.err"
run_in op2 --fault drop-after=2 -- inspect
check_eq "card pulled while opening: exit 3" 3 "$RC"
run_in sw --fault sw=47:6A80 -- keygen --slot 9a --alg p256
check_eq "card refuses GENERATE (6A80): exit 1" 1 "$RC"
check_match "card refuses GENERATE: status shown" '6A80' "$t/sw.err"

# Card capabilities: 3DES management key without AES; algorithms by firmware.
run_in fw52 --firmware 5.2.7 -- --json mgmt-key set --random --out-key-file fw52.key
check_eq "mgmt-key set --random on 5.2.7 (no AES): exit 0" 0 "$RC"
check_eq "... 3DES" 3des "$(json_get "$t/fw52.out" algorithm)"
run_in rsa3k -- keygen --slot 9a --alg rsa3072
check_eq "rsa3072 on a 5.4.3 card: exit 1" 1 "$RC"
check_match "... says which firmware is needed" 'rsa3072 needs YubiKey firmware 5.7' "$t/rsa3k.err"

# Reader selection.
run_in rd -- inspect --reader no-such-reader
check_eq "--reader matching nothing: exit 3" 3 "$RC"
check_match "--reader matching nothing: message" 'no PIV card found in readers matching no-such-reader' "$t/rd.err"
run_in sn -- inspect --serial 99
check_eq "--serial of another card: exit 3" 3 "$RC"
check_match "--serial of another card: message" 'no PIV card with serial 99' "$t/sn.err"
run_in sn2 -- --json inspect --serial 12345678 --reader 'PCD 00' --no-attest
check_eq "--serial and --reader of the card: exit 0" 0 "$RC"
check_eq "--serial: the right card" 12345678 "$(json_get "$t/sn2.out" serial)"
run_in sn3 -- inspect --serial abc
check_eq "--serial abc: usage error" 2 "$RC"

# Two cards: no choice without --reader/--serial; each way of choosing.
cat >"$t/two.sh" <<'SH'
cd "$CS_T"
c() { n=$1; shift; setsid -w "$CS" "$@" >"$n.out" 2>"$n.err" </dev/null; echo $? >"$n.rc"; }
c two1 --json inspect --no-attest
c two2 --json inspect --no-attest --serial 22222222
c two3 --json inspect --no-attest --reader "PCD 00 01"
c two4 --json inspect --no-attest --reader "pcd 00 00"
SH
export CS
"$CS_SRC/scripts/with-virtual-reader.sh" \
	--card "exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state \$CS_HARNESS_DIR/a.state --vendor $t/vendor --serial 11111111" \
	--card2 "exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state \$CS_HARNESS_DIR/b.state --vendor $t/vendor --serial 22222222" \
	-- bash "$t/two.sh" >"$t/two.harness" 2>&1
check_eq "two cards, no choice: exit 1" 1 "$(cat "$t/two1.rc" 2>/dev/null)"
check_match "two cards: the error lists both" 'several cards match: .*11111111.*22222222' "$t/two1.out"
check_eq "two cards, --serial 22222222: that card" 22222222 "$(json_get "$t/two2.out" serial)"
check_eq "two cards, --reader 'PCD 00 01': the second" 22222222 "$(json_get "$t/two3.out" serial)"
check_eq "two cards, --reader in another case: the first" 11111111 "$(json_get "$t/two4.out" serial)"

# Attestation failures against a card.
cat >"$t/att.sh" <<'SH'
cd "$CS_T"
c() { setsid -w "$CS" "$@" </dev/null; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout other.key -subj "/CN=Other Root" -out other-root.pem 2>/dev/null
c keygen --slot 9a --alg p256 --out pub9a.pem >/dev/null 2>&1
c keygen --slot 9c --alg p256 --out pub9c.pem >/dev/null 2>&1
c attest --slot 9a --verify --trust other-root.pem >wr.out 2>wr.err; echo $? >wr.rc
c --json attest --slot 9a --verify --trust other-root.pem >wrj.out 2>&1; echo $? >wrj.rc
c attest --slot 9a --out att9a.pem --f9-out f9.pem >/dev/null 2>&1
c attest --slot 9d >empty.out 2>empty.err; echo $? >empty.rc
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout soft.key -subj /CN=soft -out soft.pem 2>/dev/null
yubico-piv-tool -r Virtual -a import-key -s 9d -i soft.key >/dev/null 2>&1
c attest --slot 9d >imp.out 2>imp.err; echo $? >imp.rc
c inspect --json --trust vendor/root.pem >ins.out 2>ins.err; echo $? >ins.rc
SH
export CS
cs_with_sim -- bash "$t/att.sh" >/dev/null 2>&1
check_eq "attest --verify against a wrong root: exit 5" 5 "$(cat "$t/wr.rc")"
check_match "wrong root: the reason" 'does not verify: .*(no trusted manufacturer root|issuer)' "$t/wr.err"
check_eq "wrong root, --json: exit 5" 5 "$(cat "$t/wrj.rc")"
check_eq "wrong root, --json: CS_ERR_VERIFY" CS_ERR_VERIFY "$(json_get "$t/wrj.out" error.code)"
check_eq "attest of an empty slot: exit 1" 1 "$(cat "$t/empty.rc")"
check_match "attest of an empty slot: says so and what to do" \
	"slot 9d is empty: generate a key with 'cardsmith keygen --slot 9d'" "$t/empty.err"
if command -v yubico-piv-tool >/dev/null; then
	check_eq "attest of an imported key: exit 1" 1 "$(cat "$t/imp.rc")"
	check_match "attest of an imported key: says why" 'imported key: only keys generated on the card' "$t/imp.err"
	python3 - "$t/ins.out" >"$t/ins.9d" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = [s for s in d["slots"] if s["slot"] == "9d"][0]
print(s["key"]["origin"], s["attestation"]["status"])
PY
	check_eq "inspect: 9d imported, not attestable" "imported imported" "$(cat "$t/ins.9d")"
else
	tap_skip "attest of an imported key" "yubico-piv-tool missing"
fi
# The 9a statement offline: right key, another key, truncated.
cs_run "$t/ok" attest verify --trust "$t/vendor/root.pem" --in "$t/att9a.pem" \
	--intermediate "$t/f9.pem" --pubkey "$t/pub9a.pem"
check_eq "card statement offline with its key: exit 0" 0 "$RC"
cs_run "$t/mm" --json attest verify --trust "$t/vendor/root.pem" --in "$t/att9a.pem" \
	--intermediate "$t/f9.pem" --pubkey "$t/pub9c.pem"
check_eq "card statement with the 9c key: exit 5" 5 "$RC"
check_match "key mismatch: reason" 'attested key differs from the given key' "$t/mm.out"
openssl x509 -in "$t/att9a.pem" -outform DER | head -c 250 >"$t/att.trunc"
cs_run "$t/tr" attest verify --trust "$t/vendor/root.pem" --in "$t/att.trunc" \
	--intermediate "$t/f9.pem"
check_eq "truncated statement: exit 5" 5 "$RC"
check_match "truncated statement: reason" 'attestation not valid: .*(truncat|malformed|decode|parse|DER|certificate)' "$t/tr.err"
tap_done
