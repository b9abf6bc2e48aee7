#!/usr/bin/env bash
# t-210's slot x algorithm matrix on a firmware 5.7.4 card for the
# algorithms 5.7 adds (rsa3072, ed25519; rsa4096 is in t-212, on its own
# because its key generation takes seconds).
export CS_SLOT_SIMARGS="--firmware 5.7.4" CS_SLOT_FW=5.7.4
export CS_SLOT_ALGS="rsa3072 ed25519"
exec bash "$(dirname "$0")/t-210-slots.sh" "$@"
