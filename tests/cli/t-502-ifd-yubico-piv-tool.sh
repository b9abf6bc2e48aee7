#!/usr/bin/env bash
# Interop through cardsmith-ifd: t-101's yubico-piv-tool 2.2 session, every
# assertion unchanged, against a card in reader 5 of 8 (readers 1-4 and
# 6-8 empty, so `-r Virtual` can only connect to reader 5).
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	command -v yubico-piv-tool >/dev/null || exit 77
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 8 -- bash "$0" --inner
	exit $?
fi
cs_ifd_insert 5 || {
	echo "Bail out! no card in reader 5: $(tail -3 "$CS_T/sim5.log")"
	exit 1
}
export CS_READER
CS_READER=$(cs_ifd_reader 5)
bash "$CS_SRC/tests/cli/t-101-sim-yubico-piv-tool.sh" --inner
rc=$?
cs_ifd_remove 5 || rc=1
exit $rc
