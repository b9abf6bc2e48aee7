#!/bin/bash
# The documentation cannot drift from the command tables: every command
# and subcommand (cli/main.c, cli/cmd_*.c tables, and what 'cardsmith
# help' lists) has a 'cardsmith help CMD' that exits 0 and a section in
# doc/cardsmith.1; every option a command's help lists is in the man
# page; the page renders without warnings; ENVIRONMENT names every
# variable cli/ reads; README says where the binary is and how to install.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
MAN=$CS_SRC/doc/cardsmith.1

# Names from the source tables: { "ca trust add", ca_trust_add, NEED_CA, ...
grep -ohE '\{ "[a-z][a-z -]*", [a-z_]+, (0|NEED_)' "$CS_SRC"/cli/*.c |
	sed -E 's/^\{ "([^"]*)".*/\1/' | sort -u >"$T/src"
# ... and from the running binary: top-level commands, then each group's
# subcommands (and theirs).
"$CS" help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 { print $1 }' >"$T/run"
for c in $(cat "$T/run"); do
	"$CS" help "$c" 2>/dev/null | sed -n '/^Subcommands:/,/^$/p' |
		sed -E -n 's/^  ([a-z][a-z -]*[a-z])  +.*/\1/p'
done >"$T/run2"
for c in $(grep ' ' "$T/run2" | sed 's/ /:/g'); do
	"$CS" help ${c//:/ } 2>/dev/null | sed -n '/^Subcommands:/,/^$/p' |
		sed -E -n 's/^  ([a-z][a-z -]*[a-z])  +.*/\1/p'
done >>"$T/run2"
sort -u "$T/run" "$T/run2" "$T/src" >"$T/all"
check_eq "the tables hold the expected number of commands (parse sanity)" yes \
	"$([ "$(wc -l <"$T/src")" -ge 35 ] && echo yes)"
check_eq "what 'help' lists is in the source tables" "" \
	"$(sort -u "$T/run" "$T/run2" | comm -23 - "$T/src" | tr '\n' ' ')"
for c in help verify "ca trust remove" "attest verify" "pin-retries set"; do
	check_eq "'$c' is among the commands" yes "$(grep -qx "$c" "$T/all" && echo yes)"
done

# The rendered page, for section tags ("       ca trust list").
MANWIDTH=80 groff -man -Tascii -P-cbou "$MAN" 2>/dev/null >"$T/man.txt"
nohelp="" nosect=""
while read -r c; do
	# shellcheck disable=SC2086
	"$CS" help $c >"$T/h.out" 2>"$T/h.err" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ] || ! grep -q '^Usage: cardsmith' "$T/h.out"; then
		nohelp="$nohelp [$c: exit $rc]"
	fi
	grep -qE "^ {7}$c( |\$)" "$T/man.txt" || nosect="$nosect [$c]"
done <"$T/all"
check_eq "'cardsmith help CMD' exits 0 with a usage for every command" "" "$nohelp"
check_eq "doc/cardsmith.1 has a section for every command" "" "$nosect"

# Every option in every command's help is in the page (the secret
# options as their family, "--pin-*", as the SECRETS section has them).
noopt=""
while read -r c; do
	# shellcheck disable=SC2086
	for o in $("$CS" help $c 2>/dev/null | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
		e=$(printf '%s' "$o" | sed 's/-/\\-/g')
		grep -qF -- "$e" "$MAN" && continue
		fam=$(printf '%s' "$o" | sed -E -n 's/^(--[a-z-]+)-(fd|file|env)$/\1/p' | sed 's/-/\\-/g')
		[ -n "$fam" ] && grep -qF -- "$fam\\-*" "$MAN" && continue
		noopt="$noopt [$c $o]"
	done
done <"$T/all"
check_eq "every option of every command is in the man page" "" "$noopt"

# No warnings from groff or man.
groff -man -ww -z "$MAN" 2>"$T/groff.err"
check_empty "groff -man -ww: no warnings" "$T/groff.err"
if command -v man >/dev/null; then
	MANWIDTH=80 man --warnings -l "$MAN" >/dev/null 2>"$T/man.err"
	check_empty "man --warnings -l: no warnings" "$T/man.err"
else
	tap_skip "man --warnings -l" "man-db not installed"
fi

# ENVIRONMENT lists every variable cli/ reads.
vars=$( (grep -ohE 'getenv\("[A-Z_]+"\)' "$CS_SRC"/cli/*.c | sed -E 's/getenv\("([A-Z_]+)"\)/\1/'
	for m in $(grep -ohE 'getenv\([A-Z_]+\)' "$CS_SRC"/cli/*.c | sed -E 's/getenv\(([A-Z_]+)\)/\1/'); do
		grep -ohE "#define $m \"[A-Z_]+\"" "$CS_SRC"/cli/*.h "$CS_SRC"/cli/*.c | sed -E 's/.*"(.*)"/\1/'
	done) | sort -u)
check_eq "cli/ reads CARDSMITH_CA_DIR, CARDSMITH_TRUST, ... (parse sanity)" yes \
	"$(echo "$vars" | grep -qx CARDSMITH_CA_DIR && echo "$vars" | grep -qx CARDSMITH_SMARTCARD_LIST && echo yes)"
sed -n '/^ENVIRONMENT/,/^FILES/p' "$T/man.txt" >"$T/env.txt"
noenv=""
for v in $vars PCSCLITE_CSOCK_NAME; do
	grep -qE "^ {7}$v( |\$)" "$T/env.txt" || noenv="$noenv $v"
done
check_eq "ENVIRONMENT has an entry for every variable read" "" "$noenv"
check_match "ENVIRONMENT covers the --*-env secrets" '--pass-env' "$T/env.txt"
check_match "FILES describes the CA directory" 'registry\.db' <(sed -n '/^FILES/,/^EXAMPLES/p' "$T/man.txt")

# README: where the binary is after make, and make install.
check_match "README: the binary is build/bin/cardsmith" '\*\*`build/bin/cardsmith`\*\*' "$CS_SRC/README.md"
check_match "README: how to make install" 'sudo make install' "$CS_SRC/README.md"
tap_done
