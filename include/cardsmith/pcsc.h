/*
 * PC/SC backend (pcsc-lite): list readers, connect, wait for card events.
 * The transport it returns plugs into cs_apdu_transmit.
 */
#ifndef CARDSMITH_PCSC_H
#define CARDSMITH_PCSC_H

#include "transport.h"

#define CS_READER_NAME_MAX 256

struct cs_reader_info {
	char name[CS_READER_NAME_MAX];
	bool card_present;
	bool in_use;    /* another program holds the card exclusively */
	bool mute;      /* card present but does not answer */
	uint8_t atr[CS_ATR_MAX];
	size_t atr_len; /* 0 when no card */
};

/*
 * List readers and their state. *list is an array of *n entries; caller
 * frees it with cs_free. No reader is not an error (*n = 0); a missing or
 * unreachable pcscd is CS_ERR_TRANSPORT with a hint in ctx.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pcsc_list(struct cs_ctx *ctx,
    struct cs_reader_info **list, size_t *n);

enum cs_pcsc_flags {
	CS_PCSC_EXCLUSIVE = 1 << 0, /* SCARD_SHARE_EXCLUSIVE */
};

/*
 * Connect to the card in the reader named exactly reader (T=1 preferred,
 * T=0 accepted). Caller frees *out with cs_transport_close. No card:
 * CS_ERR_NO_CARD; reader absent: CS_ERR_NOT_FOUND.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pcsc_open(struct cs_ctx *ctx,
    const char *reader, unsigned int flags, struct cs_transport **out);

/*
 * Pick a reader whose name contains match (case-insensitive substring; NULL
 * or "" matches all). With several matches, the one holding a card wins;
 * several holding cards is CS_ERR_ARG with the candidates listed in ctx.
 * Writes the chosen name (NUL-terminated) into name[0..cap).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pcsc_pick(struct cs_ctx *ctx,
    const char *match, char *name, size_t cap);

enum cs_pcsc_event {
	CS_PCSC_WAIT_INSERT,
	CS_PCSC_WAIT_REMOVE,
};

/*
 * Block until a card is present (INSERT) or absent (REMOVE) in reader, or
 * timeout_ms passes (CS_ERR_TIMEOUT; 0 waits forever). Returns at once if
 * the reader is already in that state.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pcsc_wait(struct cs_ctx *ctx,
    const char *reader, enum cs_pcsc_event ev, unsigned int timeout_ms);

/* --- waiting on several readers at once (lib/pcsc_wait.c) --- */

/* A set of readers watched for card events; opaque. */
struct cs_pcsc_watch;

/* What cs_pcsc_watch_wait reports per reader. */
struct cs_pcsc_watch_reader {
	char name[CS_READER_NAME_MAX];
	bool present; /* a card is in the reader */
	bool changed; /* present or the reader itself changed in this call */
	bool gone;    /* the reader was removed */
};

/*
 * Open a watch: one PC/SC context for the calls below. Caller frees *out
 * with cs_pcsc_watch_close. CS_ERR_TRANSPORT without pcscd.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pcsc_watch_open(struct cs_ctx *ctx,
    struct cs_pcsc_watch **out);
/*
 * Block in SCardGetStatusChange until a card is inserted into or removed
 * from one of the n readers r[] (or a reader appears or goes, through the
 * \\?PnP?\\Notification pseudo reader), or timeout_ms passes. The first
 * call on a watch (or after the reader list changed) learns the current
 * state and returns at once with every reader changed. r[i].present and
 * r[i].changed are set; r[i].name is read. This blocks on change, not a
 * polling loop: a caller that must notice a signal passes a bounded
 * timeout (500 ms) and checks its flag between calls, because SCardCancel
 * is not async-signal-safe. Returns CS_OK (something changed),
 * CS_ERR_TIMEOUT (nothing did), CS_ERR_TRANSPORT; *added (may be NULL) is
 * set when a new reader appeared (list them again with cs_pcsc_list).
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_pcsc_watch_wait(
    struct cs_pcsc_watch *w, struct cs_pcsc_watch_reader *r, size_t n,
    unsigned int timeout_ms, bool *added);
/* Close a watch; NULL is accepted. */
CS_EXPORT void cs_pcsc_watch_close(struct cs_pcsc_watch *w);

#endif
