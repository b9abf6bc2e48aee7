/*
 * The simulated card (sim/applet.h) in-process as a struct cs_transport,
 * so lib/ drives it exactly as it drives a PC/SC reader: every command
 * goes through sim_card_apdu(). For integration tests without pcscd.
 */
#ifndef CARDSMITH_TEST_SIM_TRANSPORT_H
#define CARDSMITH_TEST_SIM_TRANSPORT_H

#include "cardsmith/cardsmith.h"

struct sim_card;

/*
 * Wrap card into a transport named "sim". The card stays the caller's
 * (free it after the transport is closed). Caller frees *out with
 * cs_transport_close (or hands it to cs_card_open).
 */
CS_MUST_CHECK enum cs_err cs_sim_transport_new(struct sim_card *card,
    struct cs_transport **out);
/*
 * The card is pulled after n more commands: later transmits fail with
 * CS_ERR_REMOVED (SIZE_MAX: never). t must come from cs_sim_transport_new.
 */
void cs_sim_transport_remove_after(struct cs_transport *t, size_t n);
/* Transactions begun and ended so far on t. */
size_t cs_sim_transport_nbegin(const struct cs_transport *t);
size_t cs_sim_transport_nend(const struct cs_transport *t);

#endif
