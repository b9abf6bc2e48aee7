#!/usr/bin/env bash
# make demo: a guided tour of cardsmith on a virtual card.
#
# Starts a private pcscd with a virtual reader (never the system pcscd),
# inserts a virtual YubiKey-like card (cardsmith-sim, with a simulated
# manufacturer CA), walks one card through key generation, attestation, an
# on-card CSR, the built-in CA and a gateway-style verification, then
# cleans everything up.
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

card="exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state $work/card.state --vendor $work/vendor --serial 12345678"
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

say "4. generate a P-256 key ON the card in slot 9a (PIV Authentication)"
note "The private key is created inside the card and can never leave it."
run cardsmith keygen --slot 9a --alg p256 --out pub.pem

say "5. ask the card to attest that the key was born there"
note "The card signs a statement about the key with its factory F9 key; the" \
	"chain goes statement <- F9 certificate <- manufacturer root."
run cardsmith attest --slot 9a --out att.pem --f9-out f9.pem --verify --trust vendor/root.pem

say "6. a certificate request signed by the card, with the attestation embedded"
run cardsmith csr --slot 9a --subject "CN=Alice Example,O=Example Corp" \
	--san email:alice@example.com --attest --pin-env DEMO_PIN --out csr.pem
run openssl req -in csr.pem -noout -verify

if ! cardsmith help ca >/dev/null 2>&1; then
	say "the built-in CA is not part of this build yet: stopping here"
	exit 0
fi

say "7. a CA that trusts the simulated manufacturer root for attestation"
export CA_PASS=demo-passphrase-only
run cardsmith ca init --dir ca --pass-env CA_PASS
run cardsmith ca trust add --dir ca vendor/root.pem

say "8. the CA decides the assurance level from the evidence and signs"
note "Attested key == CSR key, attested slot == profile slot, chain to a" \
	"trusted manufacturer root: the certificate gets the hardware-attested" \
	"policy OID, and only then."
run cardsmith ca sign --dir ca --profile piv-auth --csr csr.pem --out cert.pem --pass-env CA_PASS
run openssl x509 -in cert.pem -noout -subject -issuer -ext certificatePolicies

say "9. the certificate goes onto the card next to its key"
run cardsmith cert import --slot 9a --in cert.pem --pin-env DEMO_PIN
run cardsmith inspect --trust vendor/root.pem

say "10. what a gateway checks: chain, explicit policy, revocation"
run cardsmith ca chain --dir ca --out chain.pem
run cardsmith ca crl --dir ca --out crl.pem --pass-env CA_PASS
run cardsmith verify --chain chain.pem --crl crl.pem --require-level hardware-attested cert.pem

say "11. a software key cannot get a hardware certificate"
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

say "done: the private pcscd and the virtual card are gone; nothing was left behind"
