#!/bin/sh
# Run a command against an isolated pcscd with virtual cards.
#
#   scripts/with-virtual-reader.sh [--ifd N] [--card CMD] [--card2 CMD]
#       [--no-card] [--wait-card] [--] COMMAND [ARGS...]
#
# Starts a private pcscd (its own socket, never the system one) with the
# vsmartcard vpcd driver on free ports, runs the card CMD (a `sh -c` string
# with CS_VPCD_PORT, CS_HARNESS_DIR and PCSCLITE_CSOCK_NAME set; default:
# the tiny test card) in reader "Virtual PCD 00 00" and CMD2 in
# "Virtual PCD 00 01", waits for the cards, then runs COMMAND with
#   PCSCLITE_CSOCK_NAME CS_READER CS_READER2 CS_VPCD_PORT CS_VPCD_PORT2
#   CS_HARNESS_DIR
# exported. Exits with COMMAND's status (125: the harness failed; 77:
# pcscd or vsmartcard-vpcd missing). Everything is torn down on exit, on
# SIGINT/SIGTERM/SIGHUP, and when this process is killed.
#
# --ifd N: N (1..8) readers "cardsmith virtual reader K" of the
# cardsmith-ifd driver (build/lib/libcardsmith-ifd.so) instead of vpcd.
# CMD/CMD2 are the cards of readers 1/2 (CS_IFD_SOCKET is their socket:
# `cardsmith-sim --socket $CS_IFD_SOCKET`), and COMMAND also gets CS_IFD_N,
# CS_IFD_SOCKET_K and CS_READER_K for every reader K.
#
# Example:
#   scripts/with-virtual-reader.sh \
#     --card 'cardsmith-sim --vpcd-port $CS_VPCD_PORT --state $CS_HARNESS_DIR/card.state' \
#     -- sh -c 'opensc-tool --reader "$CS_READER" --atr'
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
CS_BUILD=${CS_BUILD:-$repo/build}
export CS_BUILD
vreader=$CS_BUILD/tests/harness/vreader
if [ ! -x "$vreader" ]; then
	echo "with-virtual-reader.sh: $vreader is missing: run \`make tests\`" \
		"(or set CS_BUILD to your build directory)" >&2
	exit 125
fi
exec "$vreader" "$@"
