#!/usr/bin/env bash
# Interop through cardsmith-ifd: t-103's OpenSC 0.23 session (opensc-tool,
# pkcs15-tool, pkcs11-tool with opensc-pkcs11.so: -L, --list-objects,
# signatures with the card's keys), every assertion unchanged, with 8
# readers and the card in reader 1 (t-103 uses `opensc-tool --reader 0`).
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	for t in opensc-tool pkcs15-tool pkcs11-tool yubico-piv-tool; do
		command -v $t >/dev/null || exit 77
	done
	[ -f /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so ] || exit 77
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 8 -- bash "$0" --inner
	exit $?
fi
cs_ifd_insert 1 || {
	echo "Bail out! no card in reader 1: $(tail -3 "$CS_T/sim1.log")"
	exit 1
}
export CS_READER
CS_READER=$(cs_ifd_reader 1)
bash "$CS_SRC/tests/cli/t-103-sim-opensc.sh" --inner
rc=$?
cs_ifd_remove 1 || rc=1
exit $rc
