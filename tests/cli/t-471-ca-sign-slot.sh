#!/bin/bash
# 'ca sign --slot' takes the key slots every other command takes (the one
# slot parser, cs_piv_slot_parse: 9a, 9c, 9d, 9e, 82..95 and their names);
# 9b (the management key), f9 (the attestation key), 80, 81, 96..9f and
# other bytes are usage errors (exit 2) with nothing issued (issue 9).
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=correct-horse-battery

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots "$CS_SRC/share/yubico-piv-roots.pem"
check_eq "ca init" 0 "$RC"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Slot Check" -out "$T/req.pem" 2>/dev/null

for s in 9b 9B 80 81 96 9f f9 attest mgm 0x9a 7f zz ""; do
	cs_run "$T/bad" ca sign --dir "$D" --profile software \
		--csr "$T/req.pem" --slot "$s" --pass-env CSPASS
	check_eq "sign --slot '$s': exit 2" 2 "$RC"
	check_match "sign --slot '$s': says bad --slot" "bad --slot" "$T/bad.err"
	check_empty "sign --slot '$s': no certificate" "$T/bad.out"
done
cs_run "$T/bj" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--slot 9b --pass-env CSPASS --json
check_eq "sign --slot 9b --json: exit 2" 2 "$RC"
check_eq "sign --slot 9b --json: CS_ERR_ARG" CS_ERR_ARG \
	"$(json_get "$T/bj.out" error.code)"
cs_run "$T/list" ca list --dir "$D" --json
check_eq "nothing was issued or reserved" 0 \
	"$(json_get "$T/list.out" certificates.#)"

for s in 9a 9c 9d 9E 82 95 auth sign keymgmt cardauth retired1 retired20; do
	cs_run "$T/ok" ca sign --dir "$D" --profile software \
		--csr "$T/req.pem" --slot "$s" --dry-run --pass-env CSPASS
	check_eq "sign --slot '$s' --dry-run: exit 0" 0 "$RC"
done
tap_done
