/*
 * Additions to simcrypto.h (kept separate so the agreed header stays as it
 * is).
 */
#ifndef CARDSMITH_SIM_CRYPTO_EXT_H
#define CARDSMITH_SIM_CRYPTO_EXT_H

#include "simcrypto.h"

/*
 * One-line detail of the last failed sim_vendor_init, sim_vendor_issue_f9
 * or sim_attest call in this thread (e.g. "vendor dir /x: root.pem exists,
 * refusing to overwrite"); "" if none. Borrowed; valid until the next such
 * call in the same thread. Never contains key material.
 */
const char *sim_crypto_errmsg(void);

#endif
