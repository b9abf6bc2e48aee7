#!/usr/bin/env bash
# cardsmith basics: version, help, usage errors, exit codes, --json error
# document, write errors. Needs no reader and no pcscd.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
t=$CS_TMP
version=$(sed -n 's/^VERSION := *//p' "$CS_SRC/Makefile")

cs_run "$t/v" --version
check_eq "--version exits 0" 0 "$RC"
check_eq "--version prints 'cardsmith $version'" "cardsmith $version" \
	"$(cat "$t/v.out")"
check_empty "--version writes nothing to stderr" "$t/v.err"

cs_run "$t/vj" --json --version
check_eq "--json --version: ok" true "$(json_get "$t/vj.out" ok)"
check_eq "--json --version: version" "$version" \
	"$(json_get "$t/vj.out" version)"

cs_run "$t/h" help
check_eq "help exits 0" 0 "$RC"
check_match "help lists readers with its summary" \
	'^  readers +list smart card readers' "$t/h.out"
check_match "help shows the usage line" '^Usage: cardsmith .*<command>' \
	"$t/h.out"
cs_run "$t/h2" --help
check_eq "--help exits 0" 0 "$RC"
check_file "--help prints the same as help" "$t/h.out" "$t/h2.out"
cs_run "$t/h3" -h
check_file "-h prints the same as help" "$t/h.out" "$t/h3.out"

cs_run "$t/hr" help readers
check_eq "help readers exits 0" 0 "$RC"
check_match "help readers: usage line" '^Usage: cardsmith readers ' \
	"$t/hr.out"
check_match "help readers: --reader option" '--reader=NAME' "$t/hr.out"
check_match "help readers: an example" '^Example:' "$t/hr.out"
cs_run "$t/hr2" readers --help
check_file "readers --help prints the same as help readers" \
	"$t/hr.out" "$t/hr2.out"
cs_run "$t/hr3" --help readers
check_file "--help readers prints the same as help readers" \
	"$t/hr.out" "$t/hr3.out"

cs_run "$t/u" frobnicate
check_eq "unknown command exits 2" 2 "$RC"
check_match "unknown command: message on stderr" \
	"^cardsmith: 'frobnicate' is not a cardsmith command" "$t/u.err"
check_empty "unknown command: nothing on stdout" "$t/u.out"

cs_run "$t/hu" help frobnicate
check_eq "help with an unknown command exits 2" 2 "$RC"

cs_run "$t/n"
check_eq "no command exits 2" 2 "$RC"
check_match "no command: message on stderr" '^cardsmith: no command' \
	"$t/n.err"

cs_run "$t/bo" --frobnicate readers
check_eq "bad global option exits 2" 2 "$RC"
check_match "bad global option: named on stderr" \
	'^cardsmith: --frobnicate: unknown option' "$t/bo.err"

cs_run "$t/bc" readers --frobnicate
check_eq "bad command option exits 2" 2 "$RC"
check_match "bad command option: named on stderr with the command" \
	'^cardsmith: readers: --frobnicate: unknown option' "$t/bc.err"
check_match "bad command option: points at the help" \
	"^Try 'cardsmith help readers'" "$t/bc.err"

cs_run "$t/ba" readers extra
check_eq "unexpected argument exits 2" 2 "$RC"

cs_run "$t/bj" --json readers --frobnicate
check_eq "usage error under --json exits 2" 2 "$RC"
check_eq "usage error under --json: ok false" false \
	"$(json_get "$t/bj.out" ok)"
check_eq "usage error under --json: CS_ERR_ARG" CS_ERR_ARG \
	"$(json_get "$t/bj.out" error.code)"

# pcscd unreachable: transport failure, exit 3.
export PCSCLITE_CSOCK_NAME=/nonexistent/cardsmith-test/sock
cs_run "$t/r" readers --json
check_eq "readers without pcscd exits 3" 3 "$RC"
if json_valid "$t/r.out"; then
	tap_ok "readers --json without pcscd: one valid JSON document"
else
	tap_fail "readers --json without pcscd: one valid JSON document" \
		"$(cat "$t/r.out")"
fi
check_eq "readers --json without pcscd: ok false" false \
	"$(json_get "$t/r.out" ok)"
check_eq "readers --json without pcscd: CS_ERR_TRANSPORT" CS_ERR_TRANSPORT \
	"$(json_get "$t/r.out" error.code)"
check_match "readers --json without pcscd: message names pcscd" pcscd \
	"$t/r.out"
check_eq "readers --json without pcscd: no tries_left" "<missing>" \
	"$(json_get "$t/r.out" error.tries_left)"

cs_run "$t/rg" --json readers
check_eq "global --json before the command works too" CS_ERR_TRANSPORT \
	"$(json_get "$t/rg.out" error.code)"

cs_run "$t/rt" readers
check_eq "readers (text) without pcscd exits 3" 3 "$RC"
check_empty "readers (text) without pcscd: stdout empty" "$t/rt.out"
check_match "readers (text) without pcscd: 'cardsmith: ' message" \
	'^cardsmith: list readers: .*pcscd' "$t/rt.err"

cs_run "$t/rq" -q readers
check_match "-q still prints errors" '^cardsmith: ' "$t/rq.err"

cs_run "$t/rv" -vv readers
check_match "-vv logs library debug lines" '^cardsmith: .*CS_ERR_TRANSPORT' \
	"$t/rv.err"
unset PCSCLITE_CSOCK_NAME

# Write errors on stdout must not exit 0.
RC=0
"$CS" --version >/dev/full 2>"$t/f.err" || RC=$?
check_eq "--version > /dev/full exits 1" 1 "$RC"
check_match "--version > /dev/full: write error reported" \
	'^cardsmith: write error on standard output' "$t/f.err"
RC=0
"$CS" help >/dev/full 2>"$t/f2.err" || RC=$?
check_eq "help > /dev/full exits 1" 1 "$RC"
RC=0
PCSCLITE_CSOCK_NAME=/nonexistent/sock "$CS" readers --json >/dev/full \
	2>/dev/null || RC=$?
if [ "$RC" -ne 0 ]; then
	tap_ok "readers --json > /dev/full exits non-zero ($RC)"
else
	tap_fail "readers --json > /dev/full exits non-zero"
fi

tap_done
