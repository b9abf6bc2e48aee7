#!/bin/bash
# -q (errors only) silences the success summaries of the ca commands in
# text mode, before or after the command noun; errors still print, and
# --json documents are never silenced.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=correct-horse-battery
sh "$CS_SRC/tests/data/ca/mint.sh" "$T/m" >/dev/null 2>&1 ||
	{ echo "Bail out! mint.sh failed"; exit 1; }

cs_run "$T/init" -q ca init --dir "$D" --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots "$CS_SRC/share/yubico-piv-roots.pem"
check_eq "-q ca init: exit 0" 0 "$RC"
check_empty "-q ca init: nothing on stdout" "$T/init.out"
check_empty "-q ca init: nothing on stderr" "$T/init.err"
check_eq "-q ca init: the CA exists" yes "$([ -f "$D/ca.cnf" ] && echo yes)"

cs_run "$T/tr" ca trust add --dir "$D" "$T/m/root.pem" -q
check_eq "ca trust add -q: exit 0" 0 "$RC"
check_empty "ca trust add -q: nothing on stdout" "$T/tr.out"
check_empty "ca trust add -q: nothing on stderr" "$T/tr.err"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Quiet" -out "$T/req.pem" 2>/dev/null
cs_run "$T/sign" -q ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--out "$T/c.pem" --pass-env CSPASS --json
check_eq "ca sign -q --json: exit 0" 0 "$RC"
SER=$(json_get "$T/sign.out" serial)

cs_run "$T/rev" -q ca revoke --dir "$D" --serial "$SER"
check_eq "-q ca revoke: exit 0" 0 "$RC"
check_empty "-q ca revoke: nothing on stdout" "$T/rev.out"
check_empty "-q ca revoke: nothing on stderr" "$T/rev.err"

cs_run "$T/rec" ca reconcile --dir "$D" -q
check_eq "ca reconcile -q: exit 0" 0 "$RC"
check_empty "ca reconcile -q: nothing on stdout" "$T/rec.out"

# Without -q the summaries are there (so the checks above mean something).
# Another root each time: a root trusted already says so instead.
cs_run "$T/tr2" ca trust add --dir "$D" "$T/m/unk-root.pem"
check_match "ca trust add without -q: summary" "^trusted 1 certificate from" "$T/tr2.out"
cs_run "$T/init2" ca init --dir "$T/ca2" --pass-env CSPASS \
	--profiles "$CS_SRC/profiles" --roots "$CS_SRC/share/yubico-piv-roots.pem"
check_match "ca init without -q: summary" "^CA created in $T/ca2" "$T/init2.out"

# -q never silences errors or JSON.
cs_run "$T/e" -q ca revoke --dir "$D" --serial "$SER"
check_eq "-q: a failed revoke still exits 1" 1 "$RC"
check_match "-q: the error still prints" "no issued certificate to revoke" "$T/e.err"
cs_run "$T/j" -q ca init --dir "$T/ca3" --pass-env CSPASS --json \
	--profiles "$CS_SRC/profiles" --roots "$CS_SRC/share/yubico-piv-roots.pem"
check_eq "-q --json ca init: the document is printed" true "$(json_get "$T/j.out" ok)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/r3.key" -subj "/CN=Third Root" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -out "$T/r3.pem" 2>/dev/null
cs_run "$T/jr" -q ca trust add --dir "$D" "$T/r3.pem" --json
check_eq "-q --json ca trust add: the document is printed" 1 "$(json_get "$T/jr.out" added)"
tap_done
