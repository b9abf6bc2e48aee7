#!/usr/bin/env bash
# CA benchmarks, each next to its peer on the same inputs in the same run:
#
#   issuance: in-process cs_ca_issue (lint + durable SQLite registry,
#             synchronous=FULL) vs `openssl ca -batch` (one process per
#             certificate, its text index), registry/index padded to 1k
#             and 100k rows. Ours runs one-at-a-time (serial pool 1, two
#             commits per certificate), with a serial pool (one commit per
#             certificate) and with group commit (cs_ca_issue_batch, one
#             commit per 64).
#   verify:   in-process cs_verify_cert (chain + explicit policy + CRL) vs
#             `openssl verify` with the same checks (one process per
#             certificate, as a gateway helper would call it) and, for
#             reference, one openssl process verifying all of them.
#
# Usage: bench/ca.sh [BUILD]   (env: CA_BENCH_N, CA_BENCH_PEER_N)
set -euo pipefail
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
B=$build/bin/cardsmith
CB=$build/bench/ca_bench
N=${CA_BENCH_N:-2000}
PN=${CA_BENCH_PEER_N:-200}
VN=${CA_BENCH_VERIFY_N:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CA_PASS=bench-ca-passphrase

for i in $(seq 1 64); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout /dev/null -subj "/CN=bench user $i" -out "$tmp/r$i.csr" \
		2>/dev/null
done
csrs=("$tmp"/r*.csr)

# Peer CA: same key type, an equivalent leaf profile.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$tmp/peer.key" -subj "/CN=peer CA" -days 3650 \
	-out "$tmp/peer.pem" 2>/dev/null
peer_setup() { # dir rows
	mkdir -p "$1/certs"
	cat >"$1/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/certs
serial = \$dir/serial
certificate = $tmp/peer.pem
private_key = $tmp/peer.key
default_md = sha256
default_days = 90
policy = p
unique_subject = no
copy_extensions = none
rand_serial = yes
[p]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = 1.3.6.1.4.1.99999.1.3
CNF
	awk -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
		printf "V\t301231235959Z\t\t7E%030X\tunknown\t/CN=prefill %d\n", i, i }' \
		>"$1/index.txt"
	echo 01 >"$1/serial"
}
peer_issue() { # dir count → per second
	local s e i=0
	s=$(date +%s%N)
	while [ $i -lt "$2" ]; do
		openssl ca -batch -config "$1/ca.cnf" -extensions leaf -notext \
			-in "${csrs[$((i % ${#csrs[@]}))]}" -out "$1/out.pem" \
			2>/dev/null
		i=$((i + 1))
	done
	e=$(date +%s%N)
	python3 -c "print(f'{$2 / (($e - $s) / 1e9):.1f}')"
}
ours() { # dir rows pool batch → per second
	CA_BENCH_POOL=$3 CA_BENCH_BATCH=$4 "$CB" issue "$1" "$CA_PASS" software \
		"$N" "$2" "${csrs[@]}" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["per_sec"])'
}

echo "== CA issuance (lint + durable registry), $N certificates; peer: $PN"
declare -A R
for rows in 1000 100000; do
	"$B" ca init --dir "$tmp/ca$rows" --pass-env CA_PASS \
		--profiles "$top/profiles" -q >/dev/null
	R[one$rows]=$(ours "$tmp/ca$rows" "$rows" 1 1)
	R[pool$rows]=$(ours "$tmp/ca$rows" "$rows" 64 1)
	R[batch$rows]=$(ours "$tmp/ca$rows" "$rows" 64 64)
	peer_setup "$tmp/peer$rows" "$rows"
	pn=$PN
	[ "$rows" -ge 100000 ] && pn=$((PN / 10 > 5 ? PN / 10 : 5))
	R[peer$rows]=$(peer_issue "$tmp/peer$rows" "$pn")
	echo "rows $rows: cardsmith one-at-a-time ${R[one$rows]}/s," \
		"serial pool ${R[pool$rows]}/s, group commit ${R[batch$rows]}/s;" \
		"openssl ca -batch ${R[peer$rows]}/s"
done
python3 - "${R[one1000]}" "${R[pool1000]}" "${R[batch1000]}" "${R[peer1000]}" \
	"${R[one100000]}" "${R[pool100000]}" "${R[batch100000]}" "${R[peer100000]}" <<'PY'
import sys
o1, p1, b1, q1, o2, p2, b2, q2 = map(float, sys.argv[1:])
for name, a, b in (("one-at-a-time", o1, o2), ("serial pool", p1, p2),
                   ("group commit", b1, b2)):
    print(f"{name:14s}: x{a / q1:.1f} peer at 1k rows, x{b / q2:.1f} at 100k; "
          f"100k vs 1k {100 * (b - a) / a:+.1f}%  "
          f"(targets: >= 5x, >= 500/s, >= -10%)")
PY

echo "== relying-party verify (chain + explicit policy + CRL)"
D=$tmp/ca1000
"$B" ca chain --dir "$D" --out "$tmp/chain.pem"
"$B" ca crl --dir "$D" --pass-env CA_PASS --out "$tmp/crl.pem"
for i in 1 2 3 4; do
	"$B" ca sign --dir "$D" --profile software --csr "${csrs[$i]}" \
		--pass-env CA_PASS --out "$tmp/leaf$i.pem" 2>/dev/null
done
oid=$("$B" ca chain --dir "$D" --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["policy_oids"]["software"])')
v=$("$CB" verify "$tmp/chain.pem" "$tmp/crl.pem" software "$VN" "$tmp"/leaf*.pem |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["per_sec"])')
sed -n '/BEGIN/,/END/p' "$D/root.crt.pem" >"$tmp/root.pem"
ovf() {
	openssl verify -CAfile "$tmp/root.pem" -untrusted "$D/issuing.crt.pem" \
		-CRLfile "$tmp/crl.pem" -crl_check -policy "$oid" \
		-explicit_policy -policy_check "$@" >/dev/null
}
s=$(date +%s%N)
for i in $(seq 1 "$PN"); do ovf "$tmp/leaf$(((i % 4) + 1)).pem"; done
e=$(date +%s%N)
pv=$(python3 -c "print(f'{$PN / (($e - $s) / 1e9):.1f}')")
files=()
for i in $(seq 1 "$PN"); do files+=("$tmp/leaf$(((i % 4) + 1)).pem"); done
s=$(date +%s%N)
ovf "${files[@]}"
e=$(date +%s%N)
pb=$(python3 -c "print(f'{$PN / (($e - $s) / 1e9):.1f}')")
echo "cardsmith in-process ${v}/s; openssl verify per process ${pv}/s," \
	"one openssl process for all ${pb}/s"
python3 -c "print(f'ratio x{$v / $pv:.1f} vs per-process openssl verify, x{$v / $pb:.1f} vs one batched process (targets: >= 10x, >= 2000/s)')"
