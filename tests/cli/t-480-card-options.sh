#!/bin/bash
# The option sets of the card commands that share one parser (pin change,
# puk change, pin unblock, pin verify through one table in cmd_pin.c;
# cert import, export and delete through one body in cmd_cert.c): each
# takes exactly its own options, lists exactly those in --help, and
# reports a usage error (exit 2) before any card is looked for. With no
# pcscd (a socket that does not exist) a command line that is accepted
# reaches the card step and exits 3.
. "$(dirname "$0")/lib.sh"
cs_tmpdir
T=$CS_TMP
export PCSCLITE_CSOCK_NAME=/nonexistent/cardsmith-t480.sock

# help_opts CMD...: the long options in the "Options:" section of --help.
help_opts() {
	"$CS" "$@" --help 2>/dev/null | awk '
		/^Options:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^  / { for (i = 1; i <= NF; i++) if ($i ~ /^--/) {
			sub(/[=,].*/, "", $i); printf "%s ", $i; break } }'
}

while IFS='|' read -r cmd want; do
	# shellcheck disable=SC2086
	check_eq "$cmd --help: its options" "$want" "$(help_opts $cmd)"
done <<'EOF2'
pin change|--pin-fd --pin-file --pin-env --new-pin-fd --new-pin-file --new-pin-env --force --last-try 
puk change|--puk-fd --puk-file --puk-env --new-puk-fd --new-puk-file --new-puk-env --force --last-try 
pin unblock|--puk-fd --puk-file --puk-env --new-pin-fd --new-pin-file --new-pin-env --force --last-try 
pin verify|--pin-fd --pin-file --pin-env --force --last-try 
cert import|--slot --in --compress --force --pin-fd --pin-file --pin-env --last-try --mgmt-key-fd --mgmt-key-file --mgmt-key-env 
cert export|--slot --out --force 
cert delete|--slot --force --pin-fd --pin-file --pin-env --last-try --mgmt-key-fd --mgmt-key-file --mgmt-key-env 
EOF2

# Another command's option is unknown here: exit 2, named, no card.
while IFS='|' read -r cmd opt; do
	# shellcheck disable=SC2086
	cs_run "$T/u" $cmd "$opt" X
	check_eq "$cmd $opt: exit 2" 2 "$RC"
	check_match "$cmd $opt: unknown option" \
		"^cardsmith: $cmd: $opt: unknown option" "$T/u.err"
done <<'EOF2'
pin change|--puk-env
pin change|--new-puk-env
puk change|--pin-env
puk change|--new-pin-env
pin unblock|--pin-env
pin unblock|--new-puk-env
pin verify|--new-pin-env
pin verify|--puk-env
pin verify|--new-puk-env
cert import|--out
cert export|--in
cert export|--pin-env
cert export|--mgmt-key-env
cert delete|--in
cert delete|--out
EOF2
cs_run "$T/c" cert delete --slot 9a --compress
check_eq "cert delete --compress: exit 2" 2 "$RC"
check_match "cert delete --compress: unknown option" \
	'cert delete: --compress: unknown option' "$T/c.err"

# The intake's own checks, in order, before the card.
while IFS='|' read -r desc want args; do
	# shellcheck disable=SC2086
	cs_run "$T/i" $args
	check_eq "$desc: exit 2" 2 "$RC"
	check_match "$desc: the reason" "$want" "$T/i.err"
done <<'EOF2'
cert import without --slot|cert import: --slot is required|cert import --in x.pem
cert import without --in|cert import: --in FILE is required|cert import --slot 9a
cert import --slot f9|cert import: --slot: 'f9' is not a key slot|cert import --slot f9 --in x.pem
cert delete --slot f9|cert delete: --slot: 'f9' is not a key slot|cert delete --slot f9
cert export without --slot|cert export: --slot is required|cert export
cert export --slot 9b|cert export: --slot: '9b' is not a slot|cert export --slot 9b
cert export: an argument|cert export: unexpected argument|cert export --slot 9a extra
EOF2

# Accepted command lines get as far as the card (exit 3: no pcscd).
while IFS='|' read -r desc args; do
	# shellcheck disable=SC2086
	cs_run "$T/a" $args
	check_eq "$desc: reaches the card step" 3 "$RC"
done <<'EOF2'
pin change|pin change --pin-env A --new-pin-env B --force --last-try
puk change|puk change --puk-env A --new-puk-env B --force
pin unblock|pin unblock --puk-env A --new-pin-env B --last-try
pin verify|pin verify --pin-env A --force
cert import|cert import --slot 9a --in x.pem --compress --force --pin-env A --mgmt-key-env B --last-try
cert export f9|cert export --slot f9 --out x.pem --force
cert delete|cert delete --slot 82 --force --pin-env A --mgmt-key-env B
EOF2
tap_done
