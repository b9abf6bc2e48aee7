/*
 * Card transport: a small vtable so lib/ talks to PC/SC, to a scripted fake
 * (unit tests) or to the simulator in-process without knowing which.
 */
#ifndef CARDSMITH_TRANSPORT_H
#define CARDSMITH_TRANSPORT_H

#include "common.h"

/* Largest raw response a transport hands back: 65536 data bytes + SW. */
#define CS_TRANSPORT_RESP_MAX (65536 + 2)
/* Longest ATR (ISO 7816-3). */
#define CS_ATR_MAX 33

struct cs_transport_ops {
	/*
	 * Send cmd and receive the raw response (data + SW1 SW2) into
	 * resp[0..respcap). Must fail (not truncate) if the response does not
	 * fit. Card removal maps to CS_ERR_REMOVED.
	 */
	enum cs_err (*transmit)(void *self, struct cs_ctx *ctx,
	    const uint8_t *cmd, size_t cmdlen, uint8_t *resp, size_t respcap,
	    size_t *resplen);
	/* Start/end an exclusive transaction (may be NULL: no-op). */
	enum cs_err (*begin)(void *self, struct cs_ctx *ctx);
	void (*end)(void *self);
	/* The card's ATR (may be NULL: CS_ERR_UNSUPPORTED). */
	enum cs_err (*get_atr)(void *self, struct cs_ctx *ctx, uint8_t *atr,
	    size_t cap, size_t *len);
	/* Release self (may be NULL). */
	void (*close)(void *self);
};

struct cs_transport {
	const struct cs_transport_ops *ops;
	void *self;
	const char *name; /* reader name or "fake"; borrowed from self */
};

/*
 * Wrap ops/self into a heap transport. name is borrowed and must outlive
 * it. Caller frees with cs_transport_close.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_transport_new(
    const struct cs_transport_ops *ops, void *self, const char *name,
    struct cs_transport **out);
/* Call ops->close and free t; NULL is accepted. */
CS_EXPORT void cs_transport_close(struct cs_transport *t);

/* Thin wrappers that tolerate NULL optional ops. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_transport_transmit(
    struct cs_transport *t, struct cs_ctx *ctx, const uint8_t *cmd,
    size_t cmdlen, uint8_t *resp, size_t respcap, size_t *resplen);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_transport_begin(struct cs_transport *t,
    struct cs_ctx *ctx);
CS_EXPORT void cs_transport_end(struct cs_transport *t);
CS_EXPORT CS_MUST_CHECK enum cs_err cs_transport_get_atr(
    struct cs_transport *t, struct cs_ctx *ctx, uint8_t *atr, size_t cap,
    size_t *len);

#endif
