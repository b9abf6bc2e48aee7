#!/usr/bin/env bash
# cardsmith enroll and its secrets: without a terminal a prompt that could
# not come fails at once, and a random PUK with nowhere to go is refused
# before the card is touched; --reset without a terminal needs --force;
# secrets never come from argv; the PIN and PUK never reach standard
# output (--json), standard error or the APDU log (-vvv).
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_sim
	cs_tmpdir
	cs_with_sim --serial 5130513 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
export CSPASS=secret-ca-passphrase NEWPIN=271828 NEWPUK=87654321 PIN=123456
sql() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' ca/registry.db "$1"; }
untouched() {
	cs_do chk-$1 inspect --json --no-attest
	check_eq "$1: the PIN is still the factory one" true "$(json_get "$LAST.out" pin.default)"
	check_eq "$1: no key in 9a" null "$(json_get "$LAST.out" slots.0.key)"
	check_eq "$1: no enrollment recorded" 0 "$(sql 'SELECT count(*) FROM enrollments')"
}
E="enroll --dir ca --subject CN=Secrets --email s@example.org --pass-env CSPASS"

cs_do init ca init --dir ca --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots vendor/root.pem
check_rc "ca init" 0

cs_do nt1 $E --new-pin-env NEWPIN
check_rc "no terminal, no --secrets-out, no PUK: usage error (exit 2)" 2
check_match "... names the ways out" 'no terminal to show the random PUK on: give --secrets-out FILE' "$LAST.err"
untouched nt1

cs_do nt2 $E --secrets-out s2.puk
check_rc "no terminal and no new PIN source: exit 2 at once" 2
check_match "... names the new PIN options" 'new-pin' "$LAST.err"
check_eq "... no secrets file" no "$([ -e s2.puk ] && echo yes || echo no)"
untouched nt2

cs_do nt3 $E --new-pin-env NEWPIN --secrets-out s3.puk --reset
check_rc "--reset without a terminal or --force: exit 2" 2
check_match "... names --force" '\-\-force' "$LAST.err"
check_eq "... no secrets file" no "$([ -e s3.puk ] && echo yes || echo no)"
untouched nt3

echo keep >s4.puk
cs_do nt4 $E --new-pin-env NEWPIN --secrets-out s4.puk
check_eq "an existing --secrets-out is refused" 1 "$([ "$RC" -ne 0 ] && echo 1 || echo 0)"
check_eq "... and left as it was" keep "$(cat s4.puk)"
untouched nt4

cs_do nt5 $E --new-pin-env NEWPIN --puk-env NEWPUK --secrets-out s5.puk
check_rc "--secrets-out with a given PUK: usage error" 2

for o in --new-pin --pin --puk --pass; do
	cs_do argv$o $E $o 123456 --secrets-out argv.puk
	check_rc "no secret in argv: $o VALUE is a usage error" 2
done
untouched argv

# A run that works, as loud as it gets: nothing secret in any output.
cs_do ok -vvv --json $E --new-pin-env NEWPIN --puk-env NEWPUK
check_rc "enroll with the PUK given, --json -vvv" 0
check_eq "one JSON document" 0 "$(json_valid "$LAST.out"; echo $?)"
check_eq "three certificates" 3 "$(json_get "$LAST.out" slots.#)"
check_match "the APDU log was on" 'cardsmith: .*(>|<) ' "$LAST.err"
hexsp() { printf '%s' "$1" | od -An -tx1 | tr -s ' ' | sed 's/^ //; s/ $//' | tr a-f A-F; }
hexns() { hexsp "$1" | tr -d ' '; }
for v in "$NEWPIN" "$NEWPUK" "$CSPASS"; do
	for f in "$LAST.out" "$LAST.err"; do
		n=$(grep -ciF -e "$v" -e "$(hexsp "$v")" -e "$(hexns "$v")" "$f")
		check_eq "secret ${#v} chars absent from $(basename "$f")" 0 "$n"
	done
done
check_eq "the secrets-out field is null" null "$(json_get "$LAST.out" secrets_out)"
cs_do insp inspect --json --no-attest
check_eq "PIN changed" false "$(json_get "$LAST.out" pin.default)"
check_eq "PUK changed" false "$(json_get "$LAST.out" puk.default)"
check_eq "management key changed" false "$(json_get "$LAST.out" management_key.default)"
check_eq "management key PIN-protected" true "$(json_get "$LAST.out" management_key.protected)"
export P1=$NEWPUK P2=$NEWPUK
cs_do puk puk change --puk-env P1 --new-puk-env P2
check_rc "the given PUK is the card's PUK" 0
tap_done
