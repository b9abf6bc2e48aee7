#!/usr/bin/env bash
# cardsmith itself through cardsmith-ifd: 8 readers, cards in all of them;
# `readers` lists them, keygen and attest on reader 5 (by --reader and by
# --serial) reach that card only, the other cards stay untouched.
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 8 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
cat vendor/root.pem vendor/intermediate.pem >trust.pem
for k in 1 2 3 4 5 6 7 8; do
	cs_ifd_insert $k --serial $((3000 + k)) ||
		tap_fail "card in reader $k" "$(tail -3 "$CS_T/sim$k.log")"
done

cs_do rd readers --json
check_rc "readers --json exits 0" 0
check_eq "8 readers" 8 "$(json_get "$LAST.out" readers.#)"
check_eq "8 cards present" 8 "$(python3 -c 'import json,sys
print(sum(r["card_present"] for r in json.load(open(sys.argv[1]))["readers"]))' \
	"$LAST.out" 2>/dev/null)"
cs_do nosel inspect --no-attest
check_eq "no --reader with 8 cards: refused" yes \
	"$([ "$RC" -ne 0 ] && echo yes || echo no)"
check_match "the refusal lists the readers and serials" \
	'several cards match: .*cardsmith virtual reader 5 04 00" \(serial 3005\)' \
	"$LAST.err"

R5="cardsmith virtual reader 5"
cs_do kg keygen --reader "$R5" --slot 9a --alg p256 --out pub9a.pem
check_rc "keygen 9a on reader 5" 0
cs_do at --json attest --reader "$R5" --slot 9a --out att9a.pem \
	--verify --trust trust.pem
check_rc "attest 9a on reader 5 --verify" 0
check_eq "attestation verified" true "$(json_get "$LAST.out" verified)"
check_eq "attested key = generated key" "$(pub_der pub9a.pem)" \
	"$(cert_pub_der att9a.pem)"
check_eq "statement is from card 3005" 3005 "$(json_get "$LAST.out" serial)"

cs_do kg2 keygen --serial 3005 --slot 9c --alg p384 --out pub9c.pem
check_rc "keygen 9c on the card with serial 3005" 0
cs_do in5 --json inspect --reader "$R5" --no-attest
check_eq "reader 5 card: serial 3005" 3005 "$(json_get "$LAST.out" serial)"
check_match "reader 5 card: 9a holds a key" '"slot": "9a"' "$LAST.out"
for k in 4 6; do
	cs_do in$k --json attest --reader "cardsmith virtual reader $k" \
		--slot 9a --out att$k.pem
	check_eq "reader $k card: 9a untouched (attest fails)" yes \
		"$([ "$RC" -ne 0 ] && echo yes || echo no)"
done
tap_done
