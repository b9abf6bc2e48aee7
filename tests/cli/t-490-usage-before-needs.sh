#!/bin/bash
# Usage errors come before the card or CA is opened (issue 9): every
# command that takes no argument, or exactly one, reports a missing or
# leftover argument as a usage error (exit 2) even when no reader or CA is
# there. 'reset' used to open the card first, so 'reset --force extra'
# without a reader failed as "no card" (exit 3) instead.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
# No pcscd and no CA: whatever tries to open one fails with another code.
export PCSCLITE_CSOCK_NAME=/nonexistent/cardsmith-test/sock
D=$T/no-ca

cs_run "$T/reset" reset --force extra
check_eq "reset extra: exit 2 before the card" 2 "$RC"
check_match "reset extra: names the argument" \
	"^cardsmith: reset: unexpected argument 'extra'" "$T/reset.err"
cs_run "$T/resetj" reset --force extra --json
check_eq "reset extra --json: exit 2" 2 "$RC"
check_eq "reset extra --json: CS_ERR_ARG" CS_ERR_ARG \
	"$(json_get "$T/resetj.out" error.code)"
cs_run "$T/reset0" reset --force
check_eq "reset without a reader: still exit 3" 3 "$RC"

cs_run "$T/readers" readers extra
check_eq "readers extra: exit 2" 2 "$RC"
check_match "readers extra: names the argument" \
	"readers: unexpected argument 'extra'" "$T/readers.err"

for sub in list reconcile crl chain; do
	cs_run "$T/$sub" ca "$sub" --dir "$D" extra
	check_eq "ca $sub extra: exit 2 before the CA" 2 "$RC"
	check_match "ca $sub extra: names the argument" \
		"ca $sub: unexpected argument 'extra'" "$T/$sub.err"
done
cs_run "$T/tl" ca trust list --dir "$D" extra
check_eq "ca trust list extra: exit 2" 2 "$RC"
cs_run "$T/rv" ca revoke --dir "$D" --serial AB extra
check_eq "ca revoke extra: exit 2" 2 "$RC"
cs_run "$T/init" ca init --dir "$D" extra
check_eq "ca init extra: exit 2, nothing created" 2 "$RC"
if [ -e "$D" ]; then
	tap_fail "ca init extra: no CA directory created"
else
	tap_ok "ca init extra: no CA directory created"
fi
cs_run "$T/sign" ca sign --dir "$D" --profile x --csr y extra
check_eq "ca sign extra: exit 2" 2 "$RC"

# One argument: missing, or one too many.
cs_run "$T/ta0" ca trust add --dir "$D"
check_eq "ca trust add without ROOT.pem: exit 2" 2 "$RC"
check_match "ca trust add: ROOT.pem missing" \
	"^cardsmith: ca trust add: ROOT.pem missing" "$T/ta0.err"
cs_run "$T/ta2" ca trust add --dir "$D" a.pem b.pem
check_eq "ca trust add a b: exit 2" 2 "$RC"
check_match "ca trust add a b: names b" "unexpected argument 'b.pem'" \
	"$T/ta2.err"
cs_run "$T/tr0" ca trust remove --dir "$D" --json
check_eq "ca trust remove without FINGERPRINT: exit 2" 2 "$RC"
check_eq "ca trust remove --json: the message" \
	"ca trust remove: FINGERPRINT or FILE missing (see 'cardsmith ca trust list')" \
	"$(json_get "$T/tr0.out" error.message)"
cs_run "$T/v0" verify
check_eq "verify without CERT: exit 2" 2 "$RC"
check_match "verify: CERT missing" "^cardsmith: verify: CERT missing" \
	"$T/v0.err"
cs_run "$T/v2" verify a.pem b.pem
check_eq "verify a b: exit 2" 2 "$RC"
check_match "verify a b: names b" "unexpected argument 'b.pem'" "$T/v2.err"
cs_run "$T/vh" verify --help
check_eq "verify --help: exit 0" 0 "$RC"
check_match "verify --help: shows its options" "--chain=CA.pem" "$T/vh.out"

tap_done
