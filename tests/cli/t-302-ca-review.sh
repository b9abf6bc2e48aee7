#!/bin/bash
# Review findings, from the command line: --var never overrides values
# from the evidence, --extra-policy LEVEL=OID is recorded and enforced,
# verify --policy cannot stand in for a --require-level it is not the OID
# of, and ca reconcile leaves fresh reservations of unknown owner alone.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
D=$T/ca
export CSPASS=review-pass-phrase
FPKI=2.16.840.1.101.3.2.1.3.7

cs_run "$T/init" ca init --dir "$D" --pass-env CSPASS --json \
	--profiles "$CS_SRC/profiles" --extra-policy "software=1.2.3.4.5,$FPKI"
check_eq "ca init with LEVEL=OID extra policies" 0 "$RC"
SW=$(json_get "$T/init.out" policy_oids.software)
HW=$(json_get "$T/init.out" policy_oids.hardware-attested)
check_match "ca.cnf records each extra OID's level" \
	"^extra_policies = software=1.2.3.4.5,hardware-attested=$FPKI\$" "$D/ca.cnf"
cs_run "$T/init-bad" ca init --dir "$T/bad" --pass-env CSPASS \
	--extra-policy "gold=1.2.3"
check_eq "unknown level in --extra-policy: usage error (exit 2)" 2 "$RC"
check_match "usage error lists the levels" \
	"unknown level 'gold' \(software, hardware-enrolled or hardware-attested\)" \
	"$T/init-bad.err"
check_eq "nothing created" no "$([ -e "$T/bad" ] && echo yes || echo no)"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/k.pem" -subj "/CN=Review" -out "$T/req.pem" 2>/dev/null

# 1. A template variable from the evidence cannot come from --var.
cat >"$T/serial.cnf" <<'EOF'
[cardsmith]
level = software
max_level = software
subject = CN=card %{card_serial}
[extensions]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
EOF
cs_run "$T/var" ca sign --dir "$D" --profile "$T/serial.cnf" --csr "$T/req.pem" \
	--var card_serial=99999999 --pass-env CSPASS --out "$T/var.pem"
check_eq "--var card_serial refused (exit 1)" 1 "$RC"
check_match "refusal names the variable" "'card_serial' is reserved" "$T/var.err"
check_eq "nothing written" no "$([ -s "$T/var.pem" ] && echo yes || echo no)"

# 2. A software profile cannot put a hardware OID on its certificate.
for oid in "$HW" "$FPKI"; do
	cat >"$T/fixed.cnf" <<EOF
[cardsmith]
level = software
max_level = software
policy_oid = $oid
[extensions]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
EOF
	cs_run "$T/fixed" ca sign --dir "$D" --profile "$T/fixed.cnf" \
		--csr "$T/req.pem" --pass-env CSPASS --out "$T/fixed.pem"
	check_eq "software profile with policy_oid $oid refused (exit 6)" 6 "$RC"
done
sed -i "s/^policy_oid = .*/policy_oid = 1.2.3.4.5/" "$T/fixed.cnf"
cs_run "$T/fixed" ca sign --dir "$D" --profile "$T/fixed.cnf" \
	--csr "$T/req.pem" --pass-env CSPASS --out "$T/fixed.pem"
check_eq "software extra OID on a software certificate" 0 "$RC"

# 3. verify: --policy together with --require-level only when consistent.
cs_run "$T/sw" ca sign --dir "$D" --profile software --csr "$T/req.pem" \
	--pass-env CSPASS --out "$T/sw.pem"
check_eq "software certificate issued" 0 "$RC"
cs_run "$T/chain" ca chain --dir "$D" --out "$T/chain.pem"
cs_run "$T/v1" verify --chain "$T/chain.pem" --policy "$SW" \
	--require-level hardware-attested "$T/sw.pem"
check_eq "--policy SW with --require-level hardware-attested: usage (2)" 2 "$RC"
check_match "usage error says why" "not the hardware-attested OID" "$T/v1.err"
cs_run "$T/v2" verify --chain "$T/chain.pem" --policy "$SW" \
	--require-level software "$T/sw.pem"
check_eq "--policy SW with --require-level software accepted" 0 "$RC"
cs_run "$T/v3" verify --chain "$T/chain.pem" --policy "$SW" "$T/sw.pem"
check_eq "--policy alone still works" 0 "$RC"

# 7. reconcile keeps a fresh reservation whose owner is unknown.
python3 - "$D/registry.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
db.execute("INSERT INTO certs(serial, status, created) VALUES"
           "('7F0000000000000000000000000000B1', 0, ?),"
           "('7F0000000000000000000000000000B2', 0, ?)", (now, now - 3600))
db.commit()
PY
cs_run "$T/rec" ca reconcile --dir "$D" --json
check_eq "reconcile exits 0" 0 "$RC"
check_eq "only the stale reservation voided" 1 "$(json_get "$T/rec.out" pending_voided)"
cs_run "$T/show" ca show --dir "$D" 7F0000000000000000000000000000B1 --json
check_eq "fresh reservation still pending" pending "$(json_get "$T/show.out" status)"
tap_done
