#!/usr/bin/env bash
# cardsmith-sim itself: command line, state file (persistence across a
# restart, atomic 0600 file, corrupt/truncated/unknown-version files refused),
# --no-attestation, --firmware/--serial, fault injection. Peer tool:
# yubico-piv-tool (PINs on its command line are unavoidable).
set -u
. "$(dirname "$0")/lib.sh"
command -v yubico-piv-tool >/dev/null || exit 77
SIM="$CS_BUILD/bin/cardsmith-sim"
[ -x "$SIM" ] || exit 77
cs_tmpdir
T=$CS_TMP
export CS_T="$T"
cd "$T" || exit 1

# with_sim SIMARGS SCRIPT: run SCRIPT (bash) against a sim started with SIMARGS
with_sim() {
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		"exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT $1 2>>$T/sim.err" \
		-- bash -c "Y() { yubico-piv-tool -r Virtual \"\$@\"; }; cd $T && $2" >"$T/last.out" 2>&1
}
# expect_exit DESC CODE CMD...
expect_exit() {
	local desc=$1 want=$2 rc=0
	shift 2
	"$@" >"$T/last.out" 2>&1 || rc=$?
	if [ "$rc" = "$want" ]; then
		tap_ok "$desc"
	else
		tap_fail "$desc" "exit $rc, expected $want" "$(tail -3 "$T/last.out")"
	fi
}

expect_exit "init-vendor creates the vendor CA" 0 "$SIM" init-vendor "$T/vendor"
check_match "init-vendor wrote root.pem" 'BEGIN CERTIFICATE' "$T/vendor/root.pem"
expect_exit "init-vendor refuses to overwrite" 1 "$SIM" init-vendor "$T/vendor"
expect_exit "missing --state is a usage error" 2 "$SIM" --vpcd-port 1
expect_exit "bad --fault is a usage error" 2 "$SIM" --vpcd-port 1 --state x --fault nonsense
expect_exit "--vendor with --no-attestation is a usage error" 2 \
	"$SIM" --vpcd-port 1 --state x --vendor v --no-attestation
expect_exit "new card without --vendor is refused" 1 "$SIM" --vpcd-port 1 --state "$T/none.state"
check_match "and says why" 'needs --vendor' "$T/last.out"

SA="--state $T/card.state --vendor $T/vendor"
if with_sim "$SA" 'Y -a generate -s 9a -A ECCP256 -o pub.pem &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout ca.key -subj /CN=ca -out ca.pem 2>/dev/null &&
	openssl x509 -new -subj /CN=persist -force_pubkey pub.pem -CA ca.pem \
		-CAkey ca.key -out c.pem &&
	Y -a import-certificate -s 9a -i c.pem &&
	Y -a change-pin -P 123456 -N 654321 &&
	Y -a read-certificate -s f9 -o f9.pem'; then
	tap_ok "first run: key, certificate and PIN change"
else
	tap_fail "first run: key, certificate and PIN change" "$(tail -5 last.out)"
fi
check_eq "state file mode is 0600" 600 "$(stat -c %a card.state 2>/dev/null)"
check_eq "no temp files left behind" "" "$(ls -A | grep -F 'card.state.tmp' || true)"
cp card.state saved.state

if with_sim "$SA" 'Y -a read-certificate -s 9a -o c2.pem && cmp c.pem c2.pem &&
	Y -a verify-pin -P 654321 -a test-signature -s 9a -i c.pem &&
	Y -a read-certificate -s f9 -o f9b.pem && cmp f9.pem f9b.pem'; then
	tap_ok "after restart: certificate, key, PIN and F9 survive"
else
	tap_fail "after restart: certificate, key, PIN and F9 survive" "$(tail -5 last.out)"
fi

# Corrupt state files are refused with exit 1 and left untouched.
refused() {
	local desc=$1 file=$2 sum
	sum=$(sha256sum "$file")
	expect_exit "$desc is refused" 1 "$SIM" --vpcd-port 1 --state "$file" --vendor "$T/vendor"
	check_match "$desc: clear message" 'refusing to start' "$T/last.out"
	check_eq "$desc: file not reset" "$sum" "$(sha256sum "$file")"
}
size=$(stat -c %s saved.state)
cp saved.state flipped.state
printf '\xA5' | dd of=flipped.state bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
refused "a state file with a flipped byte" flipped.state
head -c $((size - 9)) saved.state >trunc.state
refused "a truncated state file" trunc.state
cp saved.state version.state
printf '\x00\x63' | dd of=version.state bs=1 seek=6 conv=notrunc 2>/dev/null
refused "an unknown state version" version.state
check_match "unknown version is named" 'unknown format version' "$T/last.out"
: >empty.state
refused "an empty state file" empty.state
echo "not a state file at all" >text.state
refused "a text file" text.state

if with_sim "--state $T/plain.state --no-attestation --serial 4242 --firmware 5.7.2" \
	'Y -a status | grep -q "Serial Number:.*4242" &&
	Y -a version | grep -q "5\.7\.2" &&
	Y -a generate -s 9a -A ECCP256 -o p.pem &&
	! Y -a attest -s 9a && ! Y -a read-certificate -s f9'; then
	tap_ok "--no-attestation --serial --firmware: plain PIV card, no F9"
else
	tap_fail "--no-attestation --serial --firmware: plain PIV card, no F9" "$(tail -5 last.out)"
fi

if with_sim "--state $T/fw574.state --vendor $T/vendor --firmware 5.7.4" \
	'Y -a generate -s 9a -A ECCP256 -o p574.pem && Y -a attest -s 9a -o a574.pem &&
	Y -a read-certificate -s f9 -o f574.pem &&
	openssl verify -CAfile vendor/root.pem -untrusted vendor/intermediate.pem f574.pem &&
	! openssl verify -CAfile vendor/root.pem f574.pem &&
	python3 -c "import sys; from cryptography import x509; L=lambda f: x509.load_pem_x509_certificate(open(f,\"rb\").read()); L(\"a574.pem\").verify_directly_issued_by(L(\"f574.pem\"))"'; then
	tap_ok "fw 5.7.4: F9 issued by the vendor intermediate, statement by F9"
else
	tap_fail "fw 5.7.4: F9 issued by the vendor intermediate, statement by F9" "$(tail -5 last.out)"
fi

if with_sim "--state $T/slow.state --no-attestation --latency real" \
	't0=$(date +%s%N); Y -a generate -s 9a -A RSA2048 -o r.pem &&
	t1=$(date +%s%N); echo "ms=$(( (t1 - t0) / 1000000 ))" &&
	[ $(( (t1 - t0) / 1000000 )) -ge 4000 ]'; then
	tap_ok "--latency real: RSA-2048 generation takes seconds"
else
	tap_fail "--latency real: RSA-2048 generation takes seconds" "$(tail -3 last.out)"
fi

if with_sim "--state $T/fault.state --no-attestation --fault sw=F8:6F00" \
	'! Y -a status >s.out 2>&1 || grep -q "Serial Number:.*No data" s.out'; then
	tap_ok "--fault sw=F8:6F00 breaks GET SERIAL only"
else
	tap_fail "--fault sw=F8:6F00 breaks GET SERIAL only" "$(tail -5 last.out)"
fi
if with_sim "--state $T/fault.state --no-attestation --fault drop-after=6" \
	'Y -a version; Y -a version; sleep 1.5; Y -a version'; then
	tap_ok "--fault drop-after: the card comes back after the drop"
else
	tap_fail "--fault drop-after: the card comes back after the drop" "$(tail -5 last.out)"
fi
if with_sim "--state $T/fault.state --no-attestation --fault remove-after=6" \
	'Y -a version && { Y -a version; sleep 1.5; ! Y -a version; }'; then
	tap_ok "--fault remove-after: the card stays away"
else
	tap_fail "--fault remove-after: the card stays away" "$(tail -5 last.out)"
fi
check_match "removal is logged" 'card removed after 6 APDUs' "$T/sim.err"
tap_done
