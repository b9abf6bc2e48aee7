#!/bin/bash
# Error messages name each path and say each thing once: run the common
# error paths of the commands (missing, empty or garbage files, a
# directory that is no CA, wrong passphrase, unknown profile or serial,
# and on the virtual card bad input files) and check that no message
# prints a path twice ("x.pem: x.pem: ...") or repeats a phrase
# ("refused: refused ...").
set -u
. "$(dirname "$0")/lib.sh"

# find_doubles FILE...: print every stderr line (or JSON error message)
# that repeats a path or starts a segment with the previous one.
find_doubles() {
	python3 - "$@" <<'PY'
import json, re, sys
def lines(f):
    text = open(f, errors="replace").read()
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
            return [str(doc["error"].get("message", ""))]
    except ValueError:
        pass
    return text.splitlines()
for f in sys.argv[1:]:
    for line in lines(f):
        msg = line.strip()
        bad = None
        # A fix to copy ("chmod 700 DIR") may repeat the path it names.
        body = re.sub(r"chmod [0-7]{3,4} \S+", "", msg)
        for p in set(re.findall(r"[^\s:'\"(),;]*/[^\s:'\"(),;]+", body)):
            if len(p) > 1 and body.count(p) > 1:
                bad = "path %s twice" % p
        segs = [s.strip().lower() for s in msg.split(": ")]
        for a, b in zip(segs, segs[1:]):
            if a and (b == a or b.startswith(a + " ")):
                bad = "phrase '%s' repeated" % a
        if bad:
            print("%s: %s: %s" % (f.rsplit("/", 1)[-1], bad, msg))
PY
}

# e NAME ARGS...: run cardsmith into $E/NAME.{out,err}; the run must fail.
e() {
	local name=$1
	shift
	RC=0
	"$CS" "$@" >"$E/$name.out" 2>"$E/$name.err" </dev/null || RC=$?
	if [ "$RC" -eq 0 ]; then
		tap_fail "$name fails" "cardsmith $* exited 0"
	fi
	NRUN=$((NRUN + 1))
}

if [ "${1:-}" = --card ]; then
	# Inside cs_with_sim: the card commands' file errors.
	E=$CS_T/err
	NRUN=0
	cd "$CS_T" || exit 1
	export PIN=123456
	printf 'junk\n' >junk.pem
	"$CS" keygen --slot 9a --alg p256 --out pub.pem --force >/dev/null 2>&1
	e keygen-exists keygen --slot 9a --alg p256 --out "$CS_T/pub.pem"
	e keygen-nodir keygen --slot 9a --alg p256 --out "$CS_T/no/pub.pem" --force
	e import-missing cert import --slot 9a --in "$CS_T/missing.pem"
	e import-junk cert import --slot 9a --in "$CS_T/junk.pem"
	e export-empty cert export --slot 9c --out "$CS_T/no/c.pem"
	e csr-pub-missing csr --slot 9a --subject CN=x --pubkey "$CS_T/missing.pem" --pin-env PIN
	e csr-pub-junk csr --slot 9a --subject CN=x --pubkey "$CS_T/junk.pem" --pin-env PIN
	e csr-pinfile csr --slot 9a --subject CN=x --pin-file "$CS_T/missing.pin"
	e csr-out csr --slot 9a --subject CN=x --pin-env PIN --out "$CS_T/no/r.pem"
	e csr-empty-slot csr --slot 9c --subject CN=x --pin-env PIN
	e attest-out attest --slot 9a --out "$CS_T/no/a.pem"
	e attest-empty attest --slot 9e
	e pin-file pin verify --pin-file "$CS_T/missing.pin"
	e inspect-serial inspect --serial 999
	e json-import --json cert import --slot 9a --in "$CS_T/junk.pem"
	echo "$NRUN" >"$CS_T/card-count"
	exit 0
fi

cs_tmpdir
T=$CS_TMP
E=$T/err
mkdir -p "$E"
NRUN=0
D=$T/ca
export CSPASS=correct-horse-battery WRONG=not-the-passphrase
"$CS" ca init --dir "$D" --pass-env CSPASS --profiles "$CS_SRC/profiles" \
	--roots "$CS_SRC/share/yubico-piv-roots.pem" >/dev/null 2>&1 ||
	{ echo "Bail out! ca init failed"; exit 1; }
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Msg" -out "$T/req.pem" 2>/dev/null
openssl req -x509 -key "$T/k.pem" -subj "/CN=Msg" -days 1 -out "$T/cert.pem" 2>/dev/null
printf 'junk\n' >"$T/junk.pem"
: >"$T/empty.pem"
mkdir -p "$T/empty-dir" "$T/half"
cp "$D/ca.cnf" "$T/half/"
A=$CS_SRC/tests/data/attest
M=$T/missing.pem

for dir in "$T/nodir" "$T/empty-dir" "$T/half"; do
	n=${dir##*/}
	e "list-$n" ca list --dir "$dir"
	e "show-$n" ca show --dir "$dir" ABCD
	e "revoke-$n" ca revoke --dir "$dir" --serial ABCD
	e "chain-$n" ca chain --dir "$dir"
	e "reconcile-$n" ca reconcile --dir "$dir"
	e "crl-$n" ca crl --dir "$dir" --pass-env CSPASS
	e "trust-$n" ca trust add --dir "$dir" "$T/cert.pem"
	e "sign-$n" ca sign --dir "$dir" --profile software --csr "$T/req.pem" --pass-env CSPASS
	e "json-list-$n" --json ca list --dir "$dir"
done
CARDSMITH_CA_DIR=$T/nodir e env-dir ca list
e sign-csr-missing ca sign --dir "$D" --profile software --csr "$M" --pass-env CSPASS
e sign-csr-empty ca sign --dir "$D" --profile software --csr "$T/empty.pem" --pass-env CSPASS
e sign-csr-junk ca sign --dir "$D" --profile software --csr "$T/junk.pem" --pass-env CSPASS
e sign-csr-cert ca sign --dir "$D" --profile software --csr "$T/cert.pem" --pass-env CSPASS
e sign-profile ca sign --dir "$D" --profile nosuch --csr "$T/req.pem" --pass-env CSPASS
e sign-profile-path ca sign --dir "$D" --profile "$T/nosuch.cnf" --csr "$T/req.pem" --pass-env CSPASS
e sign-profile-junk ca sign --dir "$D" --profile "$T/junk.pem" --csr "$T/req.pem" --pass-env CSPASS
e sign-pass ca sign --dir "$D" --profile software --csr "$T/req.pem" --pass-env WRONG
e sign-pass-unset ca sign --dir "$D" --profile software --csr "$T/req.pem" --pass-env UNSET_CS_VAR
e sign-pass-file ca sign --dir "$D" --profile software --csr "$T/req.pem" --pass-file "$M"
e sign-att-missing ca sign --dir "$D" --profile piv-auth --csr "$T/req.pem" --attestation "$M" --intermediate "$M" --pass-env CSPASS
e sign-att-junk ca sign --dir "$D" --profile piv-auth --csr "$T/req.pem" --attestation "$T/junk.pem" --intermediate "$T/junk.pem" --pass-env CSPASS
e sign-refused ca sign --dir "$D" --profile piv-auth --csr "$T/req.pem" --pass-env CSPASS
e sign-genuine-other-key ca sign --dir "$D" --profile piv-auth --csr "$T/req.pem" \
	--attestation "$A/pivgo-543-9a.stmt.pem" --intermediate "$A/pivgo-543-9a.f9.pem" --pass-env CSPASS
e sign-out ca sign --dir "$D" --profile software --csr "$T/req.pem" --pass-env CSPASS --out "$T/no/c.pem"
e json-sign --json ca sign --dir "$D" --profile nosuch --csr "$T/req.pem" --pass-env CSPASS
e show-unknown ca show --dir "$D" ABCDEF
e revoke-unknown ca revoke --dir "$D" --serial ABCDEF
e crl-pass ca crl --dir "$D" --pass-env WRONG
e crl-out ca crl --dir "$D" --pass-env CSPASS --out "$T/no/crl.pem"
e chain-out ca chain --dir "$D" --out "$T/no/chain.pem"
e init-exists ca init --dir "$D" --pass-env CSPASS
e init-roots ca init --dir "$T/i1" --roots "$M" --pass-env CSPASS
e init-import ca init --dir "$T/i3" --import-key "$M" --import-cert "$M" --pass-env CSPASS
e init-import-junk ca init --dir "$T/i4" --import-key "$T/junk.pem" --import-cert "$T/cert.pem" --pass-env CSPASS
e init-import-cert ca init --dir "$T/i5" --import-key "$T/k.pem" --import-cert "$T/junk.pem" --pass-env CSPASS
e init-nodir ca init --dir "$T/no/such/ca" --pass-env CSPASS
e trust-missing ca trust add --dir "$D" "$M"
e trust-junk ca trust add --dir "$D" "$T/junk.pem"
e trust-empty ca trust add --dir "$D" "$T/empty.pem"
e verify-chain-missing verify --chain "$M" "$T/cert.pem"
e verify-chain-junk verify --chain "$T/junk.pem" "$T/cert.pem"
e verify-cert-missing verify --chain "$T/cert.pem" "$M"
e verify-crl-junk verify --chain "$T/cert.pem" --crl "$T/junk.pem" "$T/cert.pem"
e verify-level verify --chain "$T/cert.pem" --require-level nosuch "$T/cert.pem"
e att-missing attest verify --in "$M" --intermediate "$M"
e att-junk attest verify --in "$T/junk.pem" --intermediate "$T/junk.pem"
e att-trust-missing attest verify --in "$A/pivgo-543-9a.stmt.pem" --intermediate "$A/pivgo-543-9a.f9.pem" --trust "$M"
e att-trust-junk attest verify --in "$A/pivgo-543-9a.stmt.pem" --intermediate "$A/pivgo-543-9a.f9.pem" --trust "$T/junk.pem"
CARDSMITH_TRUST=$M e att-env-trust attest verify --in "$A/pivgo-543-9a.stmt.pem" --intermediate "$A/pivgo-543-9a.f9.pem"
e att-csr-missing attest verify --csr "$M"
e att-csr-junk attest verify --csr "$T/junk.pem"
e att-csr-cert attest verify --csr "$T/cert.pem"
e att-csr-plain attest verify --csr "$T/req.pem"
e att-pubkey attest verify --in "$A/pivgo-543-9a.stmt.pem" --intermediate "$A/pivgo-543-9a.f9.pem" --pubkey "$T/junk.pem"
e json-att --json attest verify --csr "$T/junk.pem"
e help-unknown help nosuch
e unknown-sub ca frob

if [ -x "$CS_BUILD/bin/cardsmith-sim" ] && [ -x "$CS_BUILD/tests/harness/vreader" ] &&
	command -v setsid >/dev/null; then
	cs_with_sim -- bash "$0" --card
	src=$?
	if [ "$src" -eq 0 ]; then
		check_eq "card error paths ran" 15 "$(cat "$T/card-count")"
	elif [ "$src" -eq 77 ]; then
		tap_skip "card error paths" "no pcscd/vpcd"
	else
		tap_fail "card error paths" "harness exit $src"
	fi
else
	tap_skip "card error paths" "no simulator or harness"
fi

# Every run left a message (none failed silently), and none says a thing twice.
quiet=""
for f in "$E"/*.err; do
	b=${f%.err}
	[ -s "$f" ] || [ -s "$b.out" ] || quiet="$quiet ${b##*/}"
done
check_eq "every failing run says why" "" "$quiet"
check_eq "error paths exercised" yes "$([ "$(ls "$E"/*.err | wc -l)" -ge 80 ] && echo yes)"
d=$(find_doubles "$E"/*.err "$E"/json-*.out)
if [ -z "$d" ]; then
	tap_ok "no message prints a path twice or repeats a phrase"
else
	tap_fail "no message prints a path twice or repeats a phrase" "$d"
fi
# The detector itself catches both shapes (it cannot pass vacuously).
printf 'cardsmith: /a/b.pem: /a/b.pem: not found\n' >"$T/probe1"
printf 'cardsmith: ca sign: refused: refused by policy\n' >"$T/probe2"
check_eq "detector flags a doubled path and a doubled phrase" 2 \
	"$(find_doubles "$T/probe1" "$T/probe2" | wc -l)"
tap_done
