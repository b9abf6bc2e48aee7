#!/usr/bin/env bash
# 8 cards working at the same time through cardsmith-ifd: an RSA-2048
# keygen on every reader at once, with the sim's real latency model
# (4.5 s per RSA-2048 key generation). All succeed with distinct keys,
# and the run takes about one keygen, not eight: pcscd runs the readers in
# parallel only because the driver declares itself thread safe with 8
# simultaneous readers (a driver that serialised them needs >= 36 s).
set -u
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" != --inner ]; then
	cs_need_ifd
	cs_tmpdir
	cs_with_ifd 8 -- bash "$0" --inner
	exit $?
fi
cd "$CS_T" || exit 1
cat vendor/root.pem vendor/intermediate.pem >trust.pem
for k in 1 2 3 4 5 6 7 8; do
	cs_ifd_insert $k --serial $((4000 + k)) --latency real ||
		tap_fail "card in reader $k" "$(tail -3 "$CS_T/sim$k.log")"
done

t0=$(date +%s%N)
pids=()
for k in 1 2 3 4 5 6 7 8; do
	setsid -w "$CS" keygen --reader "cardsmith virtual reader $k" \
		--slot 9c --alg rsa2048 --out pub$k.pem \
		>kg$k.out 2>kg$k.err </dev/null &
	pids[$k]=$!
done
for k in 1 2 3 4 5 6 7 8; do
	rc=0
	wait "${pids[$k]}" || rc=$?
	echo "$rc" >kg$k.rc
done
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# 8 parallel RSA-2048 keygens (real latency): ${ms} ms"
for k in 1 2 3 4 5 6 7 8; do
	LAST=$CS_T/kg$k
	RC=$(cat kg$k.rc)
	check_rc "reader $k: keygen exits 0" 0
done
check_eq "8 public keys written" 8 \
	"$(for k in 1 2 3 4 5 6 7 8; do pub_der pub$k.pem; echo; done |
		grep -c . | tr -d ' ')"
check_eq "8 distinct public keys (no duplicates)" 8 \
	"$(for k in 1 2 3 4 5 6 7 8; do pub_der pub$k.pem; echo; done |
		sort -u | grep -c .)"
if [ "$ms" -lt 24000 ]; then
	tap_ok "readers ran in parallel (${ms} ms < 24000 ms; serial >= 36000)"
else
	tap_fail "readers ran in parallel" "took ${ms} ms"
fi
# Each key sits on its own card: attest it there.
for k in 1 5 8; do
	cs_do at$k --json attest --reader "cardsmith virtual reader $k" \
		--slot 9c --out att$k.pem --verify --trust trust.pem
	check_rc "reader $k: attest 9c --verify" 0
	check_eq "reader $k: attested key = its keygen's key" \
		"$(pub_der pub$k.pem)" "$(cert_pub_der att$k.pem)"
	check_eq "reader $k: statement from card $((4000 + k))" $((4000 + k)) \
		"$(json_get "$LAST.out" serial)"
done
tap_done
