#!/usr/bin/env bash
# issue 12: a card pulled while 'mgmt-key set' changes the key must never
# leave a management key in force that nobody has. The card is pulled
# (sim --fault drop-after=N) right after it accepted SET MANAGEMENT KEY, or
# right before SET reached it; N is counted from the sim's own trace of
# the same command on an identical card. Afterwards the key file, the
# printed key or the PIN-protected copy must still open the card.
set -u
. "$(dirname "$0")/lib.sh"
cs_need_sim
cs_tmpdir
T=$CS_TMP
cd "$T" || exit 1
"$CS_BUILD/bin/cardsmith-sim" init-vendor "$T/vendor" >/dev/null 2>&1 ||
	{ echo "Bail out! init-vendor failed"; exit 1; }
export CS CS_T="$T" PIN=123456

# The commands a session runs: c NAME ARGS... -> NAME.out, NAME.err, NAME.rc.
cat >"$T/c.sh" <<'SH'
cd "$CS_T" || exit 1
c() {
	local n=$1
	shift
	setsid -w "$CS" "$@" >"$n.out" 2>"$n.err" </dev/null
	echo $? >"$n.rc"
}
SH

# session STATE 'SIM-ARGS' 'COMMANDS': one pcscd + sim on card STATE (kept
# across sessions, so the card survives); the sim's trace goes to STATE.trace.
session() {
	"$CS_SRC/scripts/with-virtual-reader.sh" --card \
		"CARDSMITH_SIM_TRACE=1 exec cardsmith-sim --vpcd-port \$CS_VPCD_PORT --state $T/$1.state --vendor $T/vendor $2 2>$T/$1.trace" \
		-- bash -c ". $T/c.sh; $3" >>"$T/harness.log" 2>&1
}

# set_index STATE: how many APDUs the card saw up to its SET MANAGEMENT KEY.
set_index() {
	awk '/cardsmith-sim: > / { n++ }
	     /cardsmith-sim: > 00 FF FF F[EF]/ { print n; exit }' "$T/$1.trace"
}

# probe NAME COMMANDS: run COMMANDS on a copy of card NAME; prints the SET
# index. The copy has the same state, so the real run sends the same APDUs.
probe() {
	[ -f "$T/$1.state" ] && cp "$T/$1.state" "$T/$1-probe.state"
	session "$1-probe" "" "$2"
	set_index "$1-probe"
}

rc() { cat "$T/$1.rc" 2>/dev/null || echo none; }

# --- A: --out-key-file, card pulled right after it took the new key ---
n=$(probe a 'c pa mgmt-key set --random --out-key-file pa.key')
if [ -n "$n" ] && [ "$n" -gt 3 ]; then tap_ok "probe: SET MANAGEMENT KEY is APDU $n"
else tap_fail "probe: SET MANAGEMENT KEY found in the trace" "$(tail -3 "$T/a-probe.trace")"; n=9999; fi
session a "--fault drop-after=$n" 'c a1 mgmt-key set --random --out-key-file a.key'
check_eq "pulled after SET: exit 3 (card gone)" 3 "$(rc a1)"
check_match "... says the card now has the new key and where it is" \
	'the card now uses the new management key: it is saved in a\.key' a1.err
if [ -f a.key ]; then tap_ok "... the key file is kept"; else tap_fail "... the key file is kept"; fi
check_eq "... mode 0600" 600 "$(stat -c %a a.key 2>/dev/null)"
check_match "... 48 hex digits" '^[0-9a-f]{48}$' a.key
session a "" 'c a2 keygen --slot 9a --alg p256 --mgmt-key-file a.key;
	c a3 --json inspect --no-attest'
check_eq "the saved key opens the card (keygen --mgmt-key-file): exit 0" 0 "$(rc a2)"
check_eq "... and the card no longer has the default key" false \
	"$(json_get a3.out management_key.default)"

# --- B: pulled just before SET reached the card: the old key stays ---
session b "--fault drop-after=$((n - 1))" 'c b1 mgmt-key set --random --out-key-file b.key'
check_eq "pulled before SET: exit 3" 3 "$(rc b1)"
check_match "... cannot know which key is in force, says so and where the new one is" \
	'may now use the new management key or still the old one: the new one is saved in b\.key' b1.err
if [ -f b.key ]; then tap_ok "... the key file is kept"; else tap_fail "... the key file is kept"; fi
session b "" 'c b2 keygen --slot 9a --alg p256'
check_eq "... the old (default) key still works" 0 "$(rc b2)"

# --- C: --show-key prints the key before the card changes ---
nc=$(probe c 'c pc mgmt-key set --random --show-key')
session c "--fault drop-after=${nc:-9999}" 'c c1 mgmt-key set --random --show-key'
check_eq "--show-key, pulled after SET: exit 3" 3 "$(rc c1)"
check_match "... the new key is on standard output" '^[0-9a-f]{48}$' c1.out
check_match "... and the message says so" \
	'now uses the new management key: it is printed on standard output' c1.err
export KC
KC=$(head -1 c1.out)
session c "" 'c c2 keygen --slot 9a --alg p256 --mgmt-key-env KC'
check_eq "... the printed key opens the card" 0 "$(rc c2)"

# --- D: --json --show-key alone cannot keep a random key ---
# The document is written once the card has changed: if that write fails
# or the process dies first, nobody would have the key (review finding).
session d "" 'c d1 --json mgmt-key set --random --show-key'
check_eq "--json --show-key without --protect: usage (exit 2)" 2 "$(rc d1)"
check_match "... says why and what to add" 'add --protect, or use --out-key-file' d1.out
session d "" 'c d2 keygen --slot 9a --alg p256'
check_eq "... and the card still has its default key" 0 "$(rc d2)"
# With --protect the key is on the card first; the document shows it.
session d "" 'c d3 --json mgmt-key set --random --show-key --protect --pin-env PIN'
check_eq "--json --show-key --protect: exit 0" 0 "$(rc d3)"
export KD
KD=$(json_get d3.out management_key)
if [[ $KD =~ ^[0-9a-f]{48}$ ]]; then tap_ok "... the document carries the new management_key"; else
	tap_fail "... the document carries the new management_key" "$(cat d3.out)"; fi
session d "" 'c d4 keygen --slot 9c --alg p256 --mgmt-key-env KD'
check_eq "... which opens the card" 0 "$(rc d4)"

# --- E: --protect on a card whose key is already PIN-protected ---
session e "" 'c e0 mgmt-key set --random --protect --pin-env PIN'
check_eq "setup: a PIN-protected key" 0 "$(rc e0)"
ne=$(probe e 'c pe mgmt-key set --random --protect --pin-env PIN')
cp e.state f.state
session e "--fault drop-after=${ne:-9999}" 'c e1 mgmt-key set --random --protect --pin-env PIN'
check_eq "--protect, pulled after SET: exit 3" 3 "$(rc e1)"
check_match "... the new key is in force and PIN-protected on the card" \
	'the card now uses the new management key: it is PIN-protected on the card' e1.err
session e "" 'c e2 keygen --slot 9a --alg p256 --pin-env PIN;
	c e3 --json inspect --no-attest'
check_eq "... the PIN alone opens the card afterwards (keygen): exit 0" 0 "$(rc e2)"
check_eq "... still PIN-protected" true "$(json_get e3.out management_key.protected)"

# --- F: --protect, pulled before SET: the old protected key still works ---
session f "--fault drop-after=$((${ne:-9999} - 1))" \
	'c f1 mgmt-key set --random --protect --pin-env PIN'
check_eq "--protect, pulled before SET: exit 3" 3 "$(rc f1)"
check_match "... old or new, found with the PIN" \
	'may now use the new management key or still the old one: the new one is PIN-protected on the card' f1.err
session f "" 'c f2 keygen --slot 9a --alg p256 --pin-env PIN;
	c f3 mgmt-key set --random --protect --pin-env PIN;
	c f4 keygen --slot 9c --alg p256 --pin-env PIN'
check_eq "... the PIN still opens the card (old key kept beside the new)" 0 "$(rc f2)"
check_eq "... a new 'mgmt-key set --protect' completes" 0 "$(rc f3)"
check_eq "... and its key works" 0 "$(rc f4)"

# --- G: --protect from the default key, pulled before SET ---
ng=$(probe g0 'c pg mgmt-key set --random --protect --pin-env PIN')
session g0 "--fault drop-after=$((${ng:-9999} - 1))" \
	'c g1 mgmt-key set --random --protect --pin-env PIN'
check_eq "--protect from the default key, pulled before SET: exit 3" 3 "$(rc g1)"
session g0 "" 'c g2 keygen --slot 9a --alg p256 --pin-env PIN'
check_eq "... the card still opens (default key, PIN given)" 0 "$(rc g2)"

# --- H: the card refuses the new key: the old one stays, file removed ---
session h "--fault sw=FF:6A80" 'c h1 mgmt-key set --random --out-key-file h.key'
check_eq "card refuses SET: exit 1" 1 "$(rc h1)"
check_match "... says the old key is still in force" \
	'the card still uses the old management key; nothing was changed' h1.err
if [ -e h.key ]; then tap_fail "... the unused key file is removed"; else
	tap_ok "... the unused key file is removed"; fi
tap_done
