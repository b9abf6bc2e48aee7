#!/usr/bin/env bash
# Interop through cardsmith-ifd: t-102's ykman 4.0.9 session, every
# assertion unchanged, against reader 6 of 8 while all 8 readers hold a
# card (ykman picks its card by reader name: --reader "$CS_READER").
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	command -v ykman >/dev/null || exit 77
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 8 -- bash "$0" --inner
	exit $?
fi
for k in 1 2 3 4 5 6 7 8; do
	# reader 6 keeps t-102's default serial; the others differ
	args=()
	[ $k -ne 6 ] && args=(--serial $((2000 + k)))
	cs_ifd_insert $k "${args[@]}" || {
		echo "Bail out! no card in reader $k: $(tail -3 "$CS_T/sim$k.log")"
		exit 1
	}
done
export CS_READER
CS_READER=$(cs_ifd_reader 6)
bash "$CS_SRC/tests/cli/t-102-sim-ykman.sh" --inner
rc=$?
cs_ifd_remove 6 || rc=1
exit $rc
