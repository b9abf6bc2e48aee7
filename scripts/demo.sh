#!/usr/bin/env bash
# make demo: a guided tour of cardsmith on a virtual card.
#
# Starts a private pcscd with a virtual reader (never the system pcscd),
# inserts a virtual YubiKey-like card (cardsmith-sim, with a simulated
# manufacturer CA), walks one card through key generation, attestation, an
# one-command enrollment against the built-in CA (keys generated and
# attested on the card, certificates imported and read back), a
# gateway-style verification, then cleans everything up.
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export CS_BUILD="$build" CS_SRC="$top" PATH="$build/bin:$PATH"

work=$(mktemp -d "${TMPDIR:-/tmp}/cardsmith-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
export DEMO="$work"

# Helpers shared with the inner shell that runs inside the harness.
if [ -t 1 ]; then export DEMO_BOLD=1; else export DEMO_BOLD=0; fi
cat >"$work/tour.sh" <<'TOUR'
if [ "$DEMO_BOLD" = 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B= N=; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$@"; }
run() { printf '$ %s\n' "$*"; "$@"; }
TOUR
. "$work/tour.sh"

say "cardsmith $(cardsmith --version | awk '{print $2}'): a tour on a virtual card"
note "A private pcscd is started with the vsmartcard virtual reader driver and a" \
	"virtual PIV card (cardsmith-sim) is inserted. Real tools cannot tell it from" \
	"a YubiKey 5; its attestation chains to a *simulated* manufacturer root that" \
	"only this demo trusts (real cards chain to Yubico's roots, shipped with" \
	"cardsmith). Work directory: $work"

say "1. the simulated manufacturer (what Yubico is for real cards)"
run cardsmith-sim init-vendor "$work/vendor"

card="exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state $work/card.state --vendor $work/vendor --serial 10000001"
"$top/scripts/with-virtual-reader.sh" --card "$card" -- bash -euo pipefail -c '
. "$DEMO/tour.sh"
cd "$DEMO"
# The demo card still has the factory PIN. Secrets never go on the command
# line (any user can read argv with ps): cardsmith reads them from a
# prompt, a file descriptor, a 0600 file or a named environment variable.
export DEMO_PIN=123456

say "2. which readers and cards does PC/SC see?"
run cardsmith readers

say "3. what is on the card? (what a helpdesk asks first)"
run cardsmith inspect --trust vendor/root.pem

if ! cardsmith help enroll >/dev/null 2>&1; then
	say "enrollment is not part of this build yet: stopping here"
	exit 0
fi

say "4. the issuance officer sets up a CA that trusts the manufacturer root"
note "Attestation chains to the (here: simulated) manufacturer root; only a" \
	"key the card proves it generated gets the hardware-attested policy OID."
export CA_PASS=demo-passphrase-only
run cardsmith ca init --dir ca --pass-env CA_PASS
run cardsmith ca trust add --dir ca vendor/root.pem

say "5. the cardholder arrives: enroll the card in one command"
note "Profile set \"default\": 9a PIV authentication, 9c digital signature," \
	"9d key management, P-256. Per slot the card generates the key, attests" \
	"it, signs a CSR carrying the attestation; the CA issues, the certificate" \
	"goes back onto the card and is read back. The cardholder would type the" \
	"new PIN twice at the station; scripted here from an environment variable." \
	"The random PUK goes to a 0600 file for the envelope, never to stdout."
export NEW_PIN=40921733
run cardsmith enroll --dir ca --subject "CN=Alice Example" \
	--email alice@example.com --new-pin-env NEW_PIN --pass-env CA_PASS \
	--secrets-out alice.secrets
run ls -l alice.secrets

say "6. what is on the card now"
note "No factory PIN, PUK or management key any more: the management key is" \
	"random and stored on the card behind the PIN (as ykman does it)."
run cardsmith inspect --trust vendor/root.pem

say "7. enrolling the same card again changes nothing"
export NEW_PIN=40921733 CA_PASS=demo-passphrase-only
run cardsmith enroll --dir ca --subject "CN=Alice Example" \
	--email alice@example.com --new-pin-env NEW_PIN --pass-env CA_PASS \
	--secrets-out alice-again.secrets
run cardsmith ca list --dir ca

say "8. what a gateway checks: chain, explicit policy, revocation"
run cardsmith cert export --slot 9a --out cert.pem
run openssl x509 -in cert.pem -noout -subject -issuer -ext certificatePolicies
run cardsmith ca chain --dir ca --out chain.pem
run cardsmith ca crl --dir ca --out crl.pem --pass-env CA_PASS
run cardsmith verify --chain chain.pem --crl crl.pem --require-level hardware-attested cert.pem

say "9. a software key cannot get a hardware certificate"
run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout soft.key -subj "/CN=Mallory" -out soft.csr 2>/dev/null
set +e
run cardsmith ca sign --dir ca --profile piv-auth --csr soft.csr --out soft.pem --pass-env CA_PASS
echo "   exit status: $? (6 = refused by CA policy)"
set -e
run cardsmith ca sign --dir ca --profile software --csr soft.csr --out soft.pem --pass-env CA_PASS
set +e
run cardsmith verify --chain chain.pem --crl crl.pem --require-level hardware-attested soft.pem
echo "   exit status: $? (the gateway refuses it)"
set -e
'

if ! cardsmith help batch >/dev/null 2>&1; then
	say "done: the private pcscd and the virtual card are gone; nothing was left behind"
	exit 0
fi

export CA_PASS=demo-passphrase-only
"$top/scripts/with-virtual-reader.sh" --ifd 4 --no-card -- bash -euo pipefail -c '
. "$DEMO/tour.sh"
cd "$DEMO"

say "10. batch provisioning: a roster of 6 people, 4 readers, cards arriving one by one"
note "Four virtual readers (the cardsmith-ifd pcsc-lite driver) in one pcscd." \
	"The batch waits for cards (SCardGetStatusChange), binds each new card to" \
	"the next roster row in the registry before touching it, enrolls up to" \
	"four cards at once and writes one JSON line per card. The PINs and PUKs" \
	"for the envelopes go only to the 0600 secrets file. (Rows e1003 and e1006" \
	"name the serial of the card they must get.)"
run cat "$CS_SRC/profiles/roster-example.csv"
printf "$ %s\n" "cardsmith batch --dir ca roster-example.csv --out results.jsonl --secrets-out batch.secrets --readers all --pass-env CA_PASS &"
cardsmith batch --dir ca "$CS_SRC/profiles/roster-example.csv" \
	--out results.jsonl --secrets-out batch.secrets --readers all \
	--pass-env CA_PASS --timeout 60 </dev/null 2>batch.err &
bpid=$!
# The officer inserts the cards one after another as readers free up.
serials="40000001 12345678 40000003 23456789 40000005 40000006"
declare -A inr pid
next=0
set -- $serials
while :; do
	for k in 1 2 3 4; do
		if [ -n "${inr[$k]:-}" ] &&
			grep -q "\"card_serial\":${inr[$k]}[,}]" results.jsonl 2>/dev/null; then
			kill "${pid[$k]}" 2>/dev/null || true
			wait "${pid[$k]}" 2>/dev/null || true
			unset "inr[$k]"
		fi
		if [ -z "${inr[$k]:-}" ] && [ $# -gt 0 ]; then
			sock=CS_IFD_SOCKET_$k
			note "insert card $1 into reader $k"
			cardsmith-sim --socket "${!sock}" --state "batch-card$1.state" \
				--vendor vendor --serial "$1" </dev/null >>sims.log 2>&1 &
			pid[$k]=$! inr[$k]=$1
			shift
		fi
	done
	kill -0 "$bpid" 2>/dev/null || break
	sleep 0.2
done
wait "$bpid" && rc=0 || rc=$?
for k in "${!pid[@]}"; do kill "${pid[$k]}" 2>/dev/null || true; done
grep -v "^cardsmith: reader" batch.err | sed "s/^/   /" || true
echo "   exit status: $rc"
run cat results.jsonl
run ls -l batch.secrets
say "11. every row has its card; the registry knows each certificate"
run cardsmith ca list --dir ca
' | sed -e '/"certs"/!b' -e 's/^/   /' || exit 1

say "done: the private pcscds and the virtual cards are gone; nothing was left behind"
