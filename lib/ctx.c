#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "internal.h"

#include "banned.h"

enum cs_err
cs_ctx_new(struct cs_ctx **out)
{
	struct cs_ctx *ctx;

	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return CS_ERR_NOMEM;
	ctx->tries_left = -1;
	*out = ctx;
	return CS_OK;
}

void
cs_ctx_free(struct cs_ctx *ctx)
{
	if (ctx == NULL)
		return;
	cs_wipe(ctx, sizeof(*ctx));
	free(ctx);
}

void
cs_ctx_set_log(struct cs_ctx *ctx, enum cs_log_level max, cs_log_fn *fn,
    void *arg)
{
	if (ctx == NULL)
		return;
	ctx->log_fn = fn;
	ctx->log_arg = arg;
	ctx->log_max = max;
}

const char *
cs_ctx_errmsg(const struct cs_ctx *ctx)
{
	return ctx == NULL ? "" : ctx->errmsg;
}

enum cs_err
cs_ctx_errcode(const struct cs_ctx *ctx)
{
	return ctx == NULL ? CS_OK : ctx->err;
}

uint16_t
cs_ctx_last_sw(const struct cs_ctx *ctx)
{
	return ctx == NULL ? 0 : ctx->last_sw;
}

int
cs_ctx_tries_left(const struct cs_ctx *ctx)
{
	return ctx == NULL ? -1 : ctx->tries_left;
}

void
cs_ctx_clear_error(struct cs_ctx *ctx)
{
	if (ctx == NULL)
		return;
	ctx->err = CS_OK;
	ctx->errmsg[0] = '\0';
	ctx->tries_left = -1;
}

void
csi_set_sw(struct cs_ctx *ctx, uint16_t sw, int tries)
{
	if (ctx == NULL)
		return;
	ctx->last_sw = sw;
	ctx->tries_left = tries;
}

static void vfail(struct cs_ctx *ctx, enum cs_err code, const char *fmt,
    va_list ap) CS_PRINTF(3, 0);
static void log_fail(struct cs_ctx *ctx);

static void
vfail(struct cs_ctx *ctx, enum cs_err code, const char *fmt, va_list ap)
{
	ctx->err = code;
	/* A retry count belongs to the failure that reported it only. */
	ctx->tries_left = -1;
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
}

static void
log_fail(struct cs_ctx *ctx)
{
	char line[CSI_ERRMSG_MAX + 64];

	if (ctx->log_fn == NULL || ctx->log_max < CS_LOG_DEBUG)
		return;
	snprintf(line, sizeof(line), "error %s: %s", cs_errname(ctx->err),
	    ctx->errmsg);
	ctx->log_fn(ctx->log_arg, CS_LOG_DEBUG, line);
}

static enum cs_err
vfail_ossl(struct cs_ctx *ctx, enum cs_err code, const char *fmt, va_list ap)
    CS_PRINTF(3, 0);

static enum cs_err
vfail_ossl(struct cs_ctx *ctx, enum cs_err code, const char *fmt, va_list ap)
{
	unsigned long e;
	size_t n;

	e = ERR_peek_last_error();
	if (ctx != NULL) {
		vfail(ctx, code, fmt, ap);
		n = strlen(ctx->errmsg);
		if (e != 0 && n + 3 < sizeof(ctx->errmsg)) {
			const char *reason = ERR_reason_error_string(e);

			snprintf(ctx->errmsg + n, sizeof(ctx->errmsg) - n,
			    ": %s", reason != NULL ? reason : "OpenSSL error");
		}
		log_fail(ctx);
	}
	ERR_clear_error();
	return code;
}

enum cs_err
cs_ctx_fail_crypto(struct cs_ctx *ctx, enum cs_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vfail_ossl(ctx, code, fmt, ap);
	va_end(ap);
	return code;
}

enum cs_err
cs_ctx_fail(struct cs_ctx *ctx, enum cs_err code, const char *fmt, ...)
{
	va_list ap;

	if (ctx == NULL)
		return code;
	va_start(ap, fmt);
	vfail(ctx, code, fmt, ap);
	va_end(ap);
	log_fail(ctx);
	return code;
}

bool
csi_log_wants(const struct cs_ctx *ctx, enum cs_log_level level)
{
	return ctx != NULL && ctx->log_fn != NULL && level <= ctx->log_max;
}

static void vlog(struct cs_ctx *ctx, enum cs_log_level level,
    const char *prefix, const char *fmt, va_list ap) CS_PRINTF(4, 0);

static void
vlog(struct cs_ctx *ctx, enum cs_log_level level, const char *prefix,
    const char *fmt, va_list ap)
{
	char line[2048];
	int n = 0;

	if (prefix != NULL)
		n = snprintf(line, sizeof(line), "%s: ", prefix);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	ctx->log_fn(ctx->log_arg, level, line);
}

void
cs_ctx_log(struct cs_ctx *ctx, enum cs_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!csi_log_wants(ctx, level))
		return;
	va_start(ap, fmt);
	vlog(ctx, level, NULL, fmt, ap);
	va_end(ap);
}

void
csi_log_f(struct cs_ctx *ctx, enum cs_log_level level, const char *func,
    const char *fmt, ...)
{
	va_list ap;

	if (!csi_log_wants(ctx, level))
		return;
	va_start(ap, fmt);
	vlog(ctx, level, func, fmt, ap);
	va_end(ap);
}

void
cs_free(void *p)
{
	free(p);
}

void
cs_free_secret(void *p, size_t n)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}

void
cs_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		OPENSSL_cleanse(p, n);
}

bool
cs_memeq_public(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	size_t i;

	for (i = 0; i < n; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

bool
cs_memeq_secret(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
