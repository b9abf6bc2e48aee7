# Shared helpers for tests/cli/t-*.sh (sourced, not run).
#
#   . "$(dirname "$0")/lib.sh"
#   tmp=$(cs_tmpdir)            # removed on exit
#   cs_run "$tmp/x" readers --json   # stdout -> $tmp/x.out, stderr ->
#                                    # $tmp/x.err, exit status -> $RC
#   check_eq "exit 0" 0 "$RC"
#   check_eq "ok" true "$(json_get "$tmp/x.out" ok)"
#   tap_done                    # prints the plan, exits 1 if any failed
#
# Output is TAP: "ok N - desc" / "not ok N - desc", plan "1..N" at the end.
# Requires CS_BUILD (set by tests/run.sh); CS is the binary under test.

set -u
: "${CS_BUILD:?CS_BUILD must point at a build directory (use tests/run.sh)}"
: "${CS_SRC:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
CS="$CS_BUILD/bin/cardsmith"
TAP_N=0
TAP_FAILED=0
CS_TMPDIRS=()
RC=0

_cs_cleanup() {
	local d
	_cs_ifd_cleanup
	for d in "${CS_TMPDIRS[@]+"${CS_TMPDIRS[@]}"}"; do
		rm -rf "$d"
	done
}
trap _cs_cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# A fresh private directory, removed when the test exits. Call it in the
# main shell (not in $(...)) as: cs_tmpdir; tmp=$CS_TMP
cs_tmpdir() {
	CS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cs-cli.XXXXXX") || {
		echo "Bail out! mktemp failed"
		exit 1
	}
	CS_TMPDIRS+=("$CS_TMP")
}

tap_ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

# tap_fail DESC [DETAIL...]: a failing case; details go out as TAP comments.
tap_fail() {
	local desc=$1
	shift
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $desc"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" | sed 's/^/#   /'
	fi
}

tap_skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP ${2:-}"
}

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected: $2" "got:      $3"
	fi
}

# check_match DESC ERE FILE: some line of FILE matches ERE.
check_match() {
	if grep -qE -- "$2" "$3"; then
		tap_ok "$1"
	else
		tap_fail "$1" "no line matches /$2/ in $3:" "$(head -20 "$3")"
	fi
}

# check_empty DESC FILE
check_empty() {
	if [ ! -s "$2" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected $2 to be empty, it has:" "$(head -20 "$2")"
	fi
}

# check_file DESC EXPECTED_FILE ACTUAL_FILE (golden comparison)
check_file() {
	local d
	if d=$(diff -u "$2" "$3"); then
		tap_ok "$1"
	else
		tap_fail "$1" "$d"
	fi
}

# cs_run PREFIX ARGS...: run cardsmith; PREFIX.out/.err, status in RC.
cs_run() {
	local prefix=$1
	shift
	RC=0
	"$CS" "$@" >"$prefix.out" 2>"$prefix.err" </dev/null || RC=$?
}

# json_valid FILE: exactly one JSON document (exit status).
json_valid() {
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" \
		2>/dev/null
}

# json_get FILE PATH: print the value at a dotted PATH ("error.code",
# "readers.0.name", "readers.#" for a length). Strings print raw; true,
# false and null print as in JSON; objects and arrays print as JSON.
# Prints "<invalid>" if FILE is not one JSON document and "<missing>" if
# PATH is absent.
json_get() {
	python3 - "$1" "$2" <<'PY'
import json, sys
try:
    v = json.load(open(sys.argv[1]))
except Exception:
    print("<invalid>"); sys.exit(0)
for k in [k for k in sys.argv[2].split(".") if k]:
    try:
        if k == "#":
            v = len(v)
        elif isinstance(v, list):
            v = v[int(k)]
        else:
            v = v[k]
    except Exception:
        print("<missing>"); sys.exit(0)
if isinstance(v, str):
    print(v)
else:
    print(json.dumps(v))
PY
}

# tap_done: print the plan; exit non-zero if any case failed.
tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ] || exit 1
	exit 0
}

# --- card sessions against cardsmith-sim (tests t-2NN) ---

# cs_with_sim [SIM-ARGS...] -- COMMAND...: run COMMAND under a private
# pcscd with a fresh cardsmith-sim (vendor root in $CS_T/vendor, state in
# the harness directory, so every call starts from a factory card). Needs
# cs_tmpdir first. Returns COMMAND's status (77: no pcscd/vpcd; 125:
# harness failure). SIM-ARGS are plain words (--firmware 5.7.4, --fault
# drop-after=9).
cs_with_sim() {
	local simargs=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		simargs="$simargs $1"
		shift
	done
	shift
	export CS_T="$CS_TMP"
	if [ ! -f "$CS_T/vendor/root.pem" ]; then
		"$CS_BUILD/bin/cardsmith-sim" init-vendor "$CS_T/vendor" \
			>/dev/null 2>&1 || return 125
	fi
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		"exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state \$CS_HARNESS_DIR/card.state --vendor \$CS_T/vendor$simargs" \
		-- "$@"
}

# cs_need_sim: exit 77 (skip) unless the simulator and harness exist.
cs_need_sim() {
	[ -x "$CS_BUILD/bin/cardsmith-sim" ] || exit 77
	[ -x "$CS_BUILD/tests/harness/vreader" ] || exit 77
	command -v setsid >/dev/null || exit 77
}

# cs_nt PREFIX ARGS...: as cs_run, but in a new session without a
# controlling terminal, so no prompt can ever wait (setsid).
cs_nt() {
	local prefix=$1
	shift
	RC=0
	setsid -w "$CS" "$@" >"$prefix.out" 2>"$prefix.err" </dev/null || RC=$?
}

# pub_der FILE: a PEM public key as hex of its DER (for comparisons).
pub_der() {
	openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | od -An -tx1 |
		tr -d ' \n'
}
# cert_pub_der FILE / csr_pub_der FILE: the key inside, as hex DER.
cert_pub_der() {
	openssl x509 -in "$1" -pubkey -noout 2>/dev/null |
		openssl pkey -pubin -outform DER 2>/dev/null | od -An -tx1 |
		tr -d ' \n'
}
csr_pub_der() {
	openssl req -in "$1" -pubkey -noout 2>/dev/null |
		openssl pkey -pubin -outform DER 2>/dev/null | od -An -tx1 |
		tr -d ' \n'
}

# check_rc DESC EXPECTED: compare $RC, showing stderr of $LAST on failure.
check_rc() {
	if [ "$RC" = "$2" ]; then
		tap_ok "$1"
	else
		tap_fail "$1" "expected exit $2, got $RC" \
			"$(head -5 "${LAST:-/dev/null}.err" 2>/dev/null)"
	fi
}

# cs_do NAME ARGS...: cs_nt into $CS_T/NAME.{out,err}; sets LAST.
cs_do() {
	LAST="$CS_T/$1"
	shift
	cs_nt "$LAST" "$@"
}

# --- many readers through cardsmith-ifd (tests t-50N) ---
#
#   cs_need_ifd; cs_tmpdir
#   cs_with_ifd 8 -- bash "$0" --inner     # N readers, no card yet
#   (inner) cs_ifd_insert 4 [SIM-ARGS...]  # card in reader 4, waits for it
#           cs_ifd_remove 4                # card out, waits until gone
#           cs_ifd_reader 4                # its full PC/SC reader name
#
# Cards are cardsmith-sim --socket processes of this shell. Reader K's card
# keeps its state in $CS_T/cardK.state across remove/insert (the same card
# again) unless removed; its stderr goes to $CS_T/simK.log.

CS_IFD_PIDS=()

# cs_need_ifd: exit 77 (skip) unless pcscd, the driver and the sim exist.
cs_need_ifd() {
	[ -x /usr/sbin/pcscd ] || exit 77
	[ -x "$CS_BUILD/bin/cardsmith-sim" ] || exit 77
	[ -f "$CS_BUILD/lib/libcardsmith-ifd.so" ] || exit 77
	[ -x "$CS_BUILD/tests/harness/vreader" ] || exit 77
	[ -x "$CS_BUILD/tests/harness/pcscwait" ] || exit 77
}

# cs_with_ifd N -- COMMAND...: run COMMAND under a private pcscd with N
# (1..8) cardsmith-ifd readers and no card, with CS_IFD_N and, for
# K = 1..N, CS_IFD_SOCKET_K and CS_READER_K exported. Needs cs_tmpdir
# first; a sim vendor root is made in $CS_T/vendor. Returns COMMAND's
# status (77: pcscd or the driver missing; 125: harness failure).
cs_with_ifd() {
	local n=$1
	shift
	[ "${1:-}" = -- ] && shift
	export CS_T="$CS_TMP"
	if [ ! -f "$CS_T/vendor/root.pem" ]; then
		"$CS_BUILD/bin/cardsmith-sim" init-vendor "$CS_T/vendor" \
			>/dev/null 2>&1 || return 125
	fi
	"$CS_SRC/scripts/with-virtual-reader.sh" --ifd "$n" --no-card -- "$@"
}

# cs_ifd_reader K: the full reader name of reader K.
cs_ifd_reader() {
	local v="CS_READER_$1"
	printf '%s\n' "${!v:-}"
}

# cs_ifd_wait K present|absent [MS]: wait (SCardGetStatusChange, default
# 10 s) for reader K's state; the milliseconds waited go to CS_IFD_WAITED.
cs_ifd_wait() {
	local out
	CS_IFD_WAITED=
	out=$("$CS_BUILD/tests/harness/pcscwait" "$(cs_ifd_reader "$1")" \
		"$2" "${3:-10000}") || return 1
	CS_IFD_WAITED=$out
}

# cs_ifd_insert K [SIM-ARGS...]: start a card in reader K (cardsmith-sim
# --socket $CS_IFD_SOCKET_K --state $CS_T/cardK.state, --vendor
# $CS_T/vendor unless SIM-ARGS name --vendor or --no-attestation), then
# wait until pcscd sees it. 0, or 1 if it did not appear. The sim dies with
# this shell (setpriv --pdeathsig) and is ended by cs_ifd_remove.
cs_ifd_insert() {
	local k=$1 sock a vendor=(--vendor "$CS_T/vendor") pd=()
	shift
	sock="CS_IFD_SOCKET_$k"
	sock=${!sock:-}
	[ -n "$sock" ] || return 1
	for a in "$@"; do
		case "$a" in --vendor | --no-attestation) vendor=() ;; esac
	done
	_cs_ifd_stop "$k" TERM
	command -v setpriv >/dev/null && pd=(setpriv --pdeathsig TERM)
	"${pd[@]}" "$CS_BUILD/bin/cardsmith-sim" --socket "$sock" \
		--state "$CS_T/card$k.state" "${vendor[@]}" "$@" \
		</dev/null >>"$CS_T/sim$k.log" 2>&1 &
	CS_IFD_PIDS[$k]=$!
	cs_ifd_wait "$k" present
}

# cs_ifd_remove K [SIGNAL]: end reader K's card (SIGTERM; KILL for a card
# that dies mid-command) and wait until pcscd reports the reader empty.
cs_ifd_remove() {
	_cs_ifd_stop "$1" "${2:-TERM}"
	cs_ifd_wait "$1" absent
}

# cs_ifd_pid K: the process id of reader K's card, if any.
cs_ifd_pid() {
	printf '%s\n' "${CS_IFD_PIDS[$1]:-}"
}

_cs_ifd_stop() {
	local pid=${CS_IFD_PIDS[$1]:-}
	[ -n "$pid" ] || return 0
	kill -s "$2" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "CS_IFD_PIDS[$1]"
	return 0
}

_cs_ifd_cleanup() {
	local k
	for k in "${!CS_IFD_PIDS[@]}"; do
		_cs_ifd_stop "$k" KILL
	done
}
