#!/usr/bin/env bash
# Run every cardsmith test and print one summary line "N passed, N failed".
#
# Tests are executables that speak TAP on stdout ("ok N - name",
# "not ok N - name", "# SKIP" marks a skipped case):
#   BUILD/tests/unit/test_*         cmocka unit tests
#   BUILD/tests/integration/test_*  cmocka tests against pcscd + virtual cards
#   BUILD/tests/fuzz/replay_*       fuzz corpora replayed without libFuzzer
#   tests/cli/t-*.sh                shell tests of the real binaries
# An executable that exits non-zero without reporting a failing case counts
# as one failure (a crash must never pass). Exit 77 without output = skipped.
#
# Usage: tests/run.sh [BUILD] [PATTERN]   (PATTERN: substring of test names)
# CS_TEST_VALGRIND=1 runs the C test programs under valgrind.
set -u
build=${1:-build}
pattern=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
export CS_BUILD="$build" CS_SRC="$top"
export PATH="$build/bin:$PATH"
export CMOCKA_MESSAGE_OUTPUT=TAP
jobs=${CS_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
results="$build/test-results"
rm -rf "$results"
mkdir -p "$results"

list=()
for f in "$build"/tests/unit/test_* "$build"/tests/integration/test_* \
	"$build"/tests/fuzz/replay_* "$top"/tests/cli/t-*.sh; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	case "$f" in *.o | *.d) continue ;; esac
	# PATTERN matches the test's own name, never the build directory.
	[ -n "$pattern" ] && case "$(basename "$f")" in *"$pattern"*) ;; *) continue ;; esac
	list+=("$f")
done
if [ ${#list[@]} -eq 0 ]; then
	echo "run.sh: no tests found under $build (run make tests first)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

run_one() {
	local f=$1 name wrap=() rc
	name=$(basename "$f")
	case "$f" in
	*/replay_*) name="fuzz/$name" ;;
	*/unit/*) name="unit/$name" ;;
	*/integration/*) name="integration/$name" ;;
	*/cli/*) name="cli/$name" ;;
	esac
	if [ "${CS_TEST_VALGRIND:-0}" = 1 ] && [ "${f%.sh}" = "$f" ]; then
		wrap=(valgrind --quiet --error-exitcode=99 --leak-check=full
			--errors-for-leak-kinds=definite,indirect
			--show-leak-kinds=definite,indirect --track-fds=no)
	fi
	local out="$results/${name//\//_}"
	local t0=$SECONDS limit=${CS_TEST_TIMEOUT:-900}
	# valgrind runs the scrypt-heavy CA tests 20-50x slower; on a loaded
	# 2-core machine they have needed over 900 s.
	[ ${#wrap[@]} -gt 0 ] && limit=${CS_TEST_TIMEOUT:-2400}
	timeout -k 10 "$limit" "${wrap[@]}" "$f" \
		</dev/null >"$out.log" 2>&1
	rc=$?
	echo "$rc $((SECONDS - t0)) $name" >"$out.rc"
}
export -f run_one
export results

printf '%s\n' "${list[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {}

pass=0 fail=0 skip=0
failed=()
for rcf in "$results"/*.rc; do
	read -r rc secs name <"$rcf"
	log="${rcf%.rc}.log"
	p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
	s=$(grep -cE '^(not )?ok [0-9]+.*# ?SKIP' "$log" | head -1)
	n=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE '# ?SKIP')
	p=$((p - $(grep -cE '^ok [0-9]+.*# ?SKIP' "$log")))
	if [ "$rc" = 77 ] && [ "$p" = 0 ] && [ "$n" = 0 ]; then
		s=$((s > 0 ? s : 1))
	elif [ "$rc" != 0 ] && [ "$n" = 0 ]; then
		n=1 # crashed, timed out or failed outside a test case
	elif [ "$rc" = 0 ] && [ "$p" = 0 ] && [ "$n" = 0 ] && [ "$s" = 0 ]; then
		n=1 # a test program that checked nothing
		echo "not ok - $name reported no test case" >>"$log"
	fi
	pass=$((pass + p)) fail=$((fail + n)) skip=$((skip + s))
	status=PASS
	[ "$n" -gt 0 ] && status=FAIL && failed+=("$log")
	printf '%-4s %-48s %4d passed %3d failed %3d skipped (%ss, exit %s)\n' \
		"$status" "$name" "$p" "$n" "$s" "$secs" "$rc"
done

for log in "${failed[@]}"; do
	echo
	echo "=== $(basename "$log" .log): failing output (last 60 lines) ==="
	grep -vE '^ok [0-9]+' "$log" | tail -60
done
echo
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
