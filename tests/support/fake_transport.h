/*
 * Scripted fake card transport for unit tests and fuzz targets.
 *
 * Script mode (default): each transmit consumes the next step. A step holds
 * the command the client must send (or "any"), and either the raw response
 * (data + SW1 SW2) or an error to return. A command that differs from the
 * step, or arrives after the script ended, makes transmit return
 * CS_ERR_INTERNAL and is remembered: cs_fake_ok() is then false and
 * cs_fake_error() says what happened, so a test can assert that exactly the
 * scripted APDUs were sent.
 *
 * Source mode (cs_fake_set_source): responses are popped from a byte string
 * regardless of the command, for fuzzing. The string is a sequence of
 * entries, each a big-endian u16 L followed by:
 *   L < 0x8000            L raw response bytes (fewer if the string ends)
 *   0x8000 <= L < 0xFFFF  nothing; the response is (L - 0x8000) filler
 *                         bytes 0xA5 followed by the next 2 string bytes
 *                         (the SW, fewer if the string ends)
 *   L == 0xFFFF           transmit fails with CS_ERR_TRANSPORT
 * When the string is used up, transmit fails with CS_ERR_REMOVED.
 *
 * Every command received is recorded in both modes. The fake stays valid
 * after its transport is closed (by the code under test or by the test);
 * cs_fake_free() frees the fake and, if still open, its transport.
 */
#ifndef CARDSMITH_TEST_FAKE_TRANSPORT_H
#define CARDSMITH_TEST_FAKE_TRANSPORT_H

#include "cardsmith/cardsmith.h"

struct cs_fake;

/*
 * New fake and its transport (name "fake"). Both are freed by
 * cs_fake_free(*f); closing *t alone only detaches it.
 */
enum cs_err cs_fake_new(struct cs_fake **f, struct cs_transport **t);
/* Free the fake and its transport unless already closed; NULL is fine. */
void cs_fake_free(struct cs_fake *f);

/*
 * Append a step: expect cmd[0..cmdlen) (cmd NULL: any command) and answer
 * resp[0..resplen). Bytes are copied.
 */
enum cs_err cs_fake_expect(struct cs_fake *f, const uint8_t *cmd,
    size_t cmdlen, const uint8_t *resp, size_t resplen);
/*
 * Same with hex strings ("00 A4 04 00", spaces optional, any case); cmd NULL
 * or "*" matches any command; resp may be "" (an empty, invalid answer).
 * Bad hex is CS_ERR_ARG and also makes cs_fake_ok() false.
 */
enum cs_err cs_fake_expect_hex(struct cs_fake *f, const char *cmd,
    const char *resp);
/* Append a step that returns err (not CS_OK) for the command cmd (hex). */
enum cs_err cs_fake_expect_err(struct cs_fake *f, const char *cmd,
    enum cs_err err);
/*
 * The card is pulled before command number n (0-based, counted over all
 * transmits): that command and all later ones fail with CS_ERR_REMOVED
 * without consuming steps.
 */
void cs_fake_remove_at(struct cs_fake *f, size_t n);
/*
 * Switch to source mode with responses popped from p[0..len); p is
 * borrowed and must outlive the use of the transport.
 */
void cs_fake_set_source(struct cs_fake *f, const uint8_t *p, size_t len);
/* ATR handed out by get_atr (default: none, get_atr fails NO_CARD). */
enum cs_err cs_fake_set_atr(struct cs_fake *f, const uint8_t *atr,
    size_t len);

/* True if no unexpected command came and every step was consumed. */
bool cs_fake_ok(const struct cs_fake *f);
/* Steps not consumed yet. */
size_t cs_fake_unconsumed(const struct cs_fake *f);
/* First problem seen ("" if none). Borrowed; valid until cs_fake_free. */
const char *cs_fake_error(const struct cs_fake *f);

/* Number of commands received (including refused ones). */
size_t cs_fake_ncmds(const struct cs_fake *f);
/*
 * Command i as received: *p is borrowed, valid until cs_fake_free. False if
 * i is out of range.
 */
bool cs_fake_cmd(const struct cs_fake *f, size_t i, const uint8_t **p,
    size_t *len);
/* True if command i equals the hex string exactly. */
bool cs_fake_cmd_is(const struct cs_fake *f, size_t i, const char *hex);
/* Transactions begun and ended, and whether the transport was closed. */
size_t cs_fake_nbegin(const struct cs_fake *f);
size_t cs_fake_nend(const struct cs_fake *f);
bool cs_fake_closed(const struct cs_fake *f);

/*
 * Parse a hex string into a new buffer (caller frees with free()); NULL on
 * bad hex or no memory. An empty string gives a non-NULL buffer of 0.
 */
uint8_t *cs_fake_hex(const char *hex, size_t *len);

#endif
