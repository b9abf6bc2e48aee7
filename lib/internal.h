/* libcardsmith internals shared between lib/ files; never installed. */
#ifndef CARDSMITH_INTERNAL_H
#define CARDSMITH_INTERNAL_H

#include <stdarg.h>

#include "cardsmith/cardsmith.h"

#define CSI_ERRMSG_MAX 512

struct cs_ctx {
	enum cs_err err;
	char errmsg[CSI_ERRMSG_MAX];
	uint16_t last_sw;
	int tries_left;
	cs_log_fn *log_fn;
	void *log_arg;
	enum cs_log_level log_max;
};

/*
 * lib/'s spelling (STYLE.md 3.1) of cs_ctx_fail and cs_ctx_fail_crypto
 * (common.h): the same functions, not copies, so the failures lib/
 * records and those ca/ and cli/ record cannot drift apart.
 * csi_fail(ctx, code, fmt, ...) records a failure in ctx (may be NULL)
 * and returns code, so callers can write `return csi_fail(ctx, ...)`;
 * csi_fail_ossl also appends ": <OpenSSL reason>" and clears OpenSSL's
 * error queue.
 */
#define csi_fail cs_ctx_fail
#define csi_fail_ossl cs_ctx_fail_crypto
bool csi_log_wants(const struct cs_ctx *ctx, enum cs_log_level level);
void csi_set_sw(struct cs_ctx *ctx, uint16_t sw, int tries);
/* Value of a hex digit (either case), -1 if c is none (hex.c). */
int csi_hexval(int c);

#define CSI_DEBUG(ctx, ...) csi_log_f((ctx), CS_LOG_DEBUG, __func__, __VA_ARGS__)
void csi_log_f(struct cs_ctx *ctx, enum cs_log_level level, const char *func,
    const char *fmt, ...) CS_PRINTF(4, 5);

#endif
