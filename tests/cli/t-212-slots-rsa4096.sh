#!/usr/bin/env bash
# t-210's slot x algorithm matrix for RSA-4096 on a firmware 5.7.4 card:
# every slot, on its own so the slow key generation (seconds per key)
# runs in parallel with the other tests.
export CS_SLOT_SIMARGS="--firmware 5.7.4" CS_SLOT_FW=5.7.4
export CS_SLOT_ALGS="rsa4096"
exec bash "$(dirname "$0")/t-210-slots.sh" "$@"
