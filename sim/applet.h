/*
 * The simulated card: a PIV application with YubiKey extensions, the
 * YubiKey Management application, and the state file that persists it.
 *
 * Everything here is pure: no sockets, no sleeping, no printing. The card is
 * driven one command APDU at a time by sim_card_apdu(), from cardsmith-sim's
 * vpcd loop, from unit tests and from the fuzz target alike.
 */
#ifndef CARDSMITH_SIM_APPLET_H
#define CARDSMITH_SIM_APPLET_H

#include "cardsmith/buf.h"

struct sim_key;

/* The YubiKey 5 USB ATR (piv-apdu.md §2.4). */
extern const uint8_t sim_card_atr[23];

/* Identity of a card created factory-fresh. */
struct sim_card_config {
	uint8_t fw[3];   /* major minor patch */
	uint32_t serial; /* GET SERIAL, READ CONFIG, attestation .3.7 */
};

struct sim_card;

/*
 * A factory-fresh card (PIN 123456, PUK 12345678, 3DES default management
 * key, no keys, no objects, no attestation key). Caller frees with
 * sim_card_free.
 */
CS_MUST_CHECK enum cs_err sim_card_new(const struct sim_card_config *cfg,
    struct sim_card **out);
/* Free a card and wipe its secrets; NULL is accepted. */
void sim_card_free(struct sim_card *card);

/*
 * Install the attestation key and its DER certificate (slot F9, object
 * 5FFF01). Takes ownership of key on success and on failure.
 */
CS_MUST_CHECK enum cs_err sim_card_set_attestation(struct sim_card *card,
    struct sim_key *key, const uint8_t *cert, size_t certlen);
/* True when slot F9 holds a key. */
bool sim_card_has_attestation(const struct sim_card *card);
/*
 * Serve or hide attestation: when off, INS F9 answers 6D00 and object
 * 5FFF01 reads as absent (a plain PIV card). Session setting, not saved.
 */
void sim_card_enable_attestation(struct sim_card *card, bool on);

/*
 * Process one command APDU, writing data + SW1 SW2 into resp[0..cap) and
 * the length into *resplen. Any byte string is accepted; the answer always
 * carries a status word when cap >= 2. cap should be at least 258.
 */
void sim_card_apdu(struct sim_card *card, const uint8_t *cmd, size_t len,
    uint8_t *resp, size_t cap, size_t *resplen);

/* Power off, power on or reset: clears all session state. */
void sim_card_power(struct sim_card *card);

/* True (once) if persistent state changed since the last call. */
bool sim_card_take_dirty(struct sim_card *card);

/*
 * Modelled duration of the last command on a real YubiKey 5 in
 * milliseconds (select ~1, verify ~9, P-256 sign ~72 …), for --latency real.
 */
unsigned int sim_card_last_cost_ms(const struct sim_card *card);
/*
 * True if a real card would have waited for its button during the last
 * command: a key operation with touch policy always or cached (every time:
 * the 15 s cache is not modelled), or management-key authentication
 * with touch. cardsmith-sim --touch-delay sleeps then.
 */
bool sim_card_waited_touch(const struct sim_card *card);

/* Firmware of the card as major<<16 | minor<<8 | patch. */
uint32_t sim_card_fw(const struct sim_card *card);
/* Serial number. */
uint32_t sim_card_serial(const struct sim_card *card);

/* --- state file (sim/state.c) --- */

/* Current state format version. */
#define SIM_STATE_VERSION 1
/* Largest state file accepted. */
#define SIM_STATE_MAX (4u * 1024 * 1024)

/*
 * Serialise the persistent state (versioned binary TLV, see state.c) into
 * out, which should be a secret buffer: it holds PIN, PUK and keys.
 */
CS_MUST_CHECK enum cs_err sim_state_encode(const struct sim_card *card,
    struct cs_buf *out);
/*
 * Parse a state image into a fresh card. On failure *why names the problem
 * (static string, never NULL) and CS_ERR_MALFORMED, CS_ERR_TRUNCATED or
 * CS_ERR_UNSUPPORTED (unknown version) is returned. Caller frees *out.
 */
CS_MUST_CHECK enum cs_err sim_state_decode(const uint8_t *p, size_t len,
    struct sim_card **out, const char **why);
/*
 * Write the state atomically: temp file in the same directory, mode 0600,
 * fsync, rename over path, fsync the directory. CS_ERR_IO on failure.
 */
CS_MUST_CHECK enum cs_err sim_state_save(const struct sim_card *card,
    const char *path);
/*
 * Load path. CS_ERR_NOT_FOUND if it does not exist (factory-fresh card is
 * then the caller's choice), CS_ERR_IO if unreadable, decode errors as
 * sim_state_decode. *why is always set on failure.
 */
CS_MUST_CHECK enum cs_err sim_state_load(const char *path,
    struct sim_card **out, const char **why);

#endif
