/*
 * cardsmith: error codes, library context, logging and memory helpers.
 *
 * Every fallible call returns enum cs_err. Calls that take a struct cs_ctx
 * also leave a one-line, printable detail in it (cs_ctx_errmsg).
 */
#ifndef CARDSMITH_COMMON_H
#define CARDSMITH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define CS_EXPORT __attribute__((visibility("default")))
#define CS_MUST_CHECK __attribute__((warn_unused_result))
#define CS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CS_EXPORT
#define CS_MUST_CHECK
#define CS_PRINTF(f, a)
#endif

/*
 * Error codes. Append only: the numeric values and the names returned by
 * cs_errname() are a stable interface (JSON "code", exit-code mapping).
 */
enum cs_err {
	CS_OK = 0,
	CS_ERR_INTERNAL,    /* invariant violated: a bug */
	CS_ERR_NOMEM,
	CS_ERR_ARG,         /* caller passed something invalid */
	CS_ERR_LIMIT,       /* a CS_*_MAX bound was hit */
	CS_ERR_TRUNCATED,   /* input ended early */
	CS_ERR_MALFORMED,   /* input is not what the format allows */
	CS_ERR_TRANSPORT,   /* PC/SC or socket failure */
	CS_ERR_NO_CARD,     /* no reader, or no card in it */
	CS_ERR_SW,          /* unexpected status word */
	CS_ERR_AUTH,        /* wrong PIN/PUK/management key */
	CS_ERR_BLOCKED,     /* PIN/PUK blocked */
	CS_ERR_VERIFY,      /* signature or attestation invalid */
	CS_ERR_POLICY,      /* refused by policy */
	CS_ERR_STORE,       /* registry / database failure */
	CS_ERR_CRYPTO,      /* OpenSSL failure */
	CS_ERR_REMOVED,     /* card removed or reset during an operation */
	CS_ERR_NOT_FOUND,   /* data object, slot or key absent */
	CS_ERR_UNSUPPORTED, /* the card or firmware lacks the feature */
	CS_ERR_TIMEOUT,
	CS_ERR_IO,          /* file I/O */
	CS_ERR_CANCELLED,
	CS_ERR_ACCESS,      /* security status not satisfied (6982) */
	/* append only */
	CS_ERR__COUNT
};

/* "wrong PIN"-style human text for a code; never NULL. */
CS_EXPORT const char *cs_strerror(enum cs_err err);
/* Stable symbolic name ("CS_ERR_AUTH"); never NULL. */
CS_EXPORT const char *cs_errname(enum cs_err err);

/* Library context: error detail, log callback, options. Opaque. */
struct cs_ctx;

enum cs_log_level {
	CS_LOG_ERR,
	CS_LOG_INFO,
	CS_LOG_DEBUG,
	CS_LOG_APDU, /* one line per APDU, secrets redacted */
};

typedef void cs_log_fn(void *arg, enum cs_log_level level, const char *line);

/* Allocate a context. Caller frees with cs_ctx_free. */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_ctx_new(struct cs_ctx **out);
/* Free a context; NULL is accepted. */
CS_EXPORT void cs_ctx_free(struct cs_ctx *ctx);
/*
 * Send log lines up to and including level max to fn. lib/ is silent until
 * this is called. fn may be NULL to silence it again.
 */
CS_EXPORT void cs_ctx_set_log(struct cs_ctx *ctx, enum cs_log_level max,
    cs_log_fn *fn, void *arg);
/* Detail of the last failure; "" if none. Borrowed; valid until next call. */
CS_EXPORT const char *cs_ctx_errmsg(const struct cs_ctx *ctx);
/* Code of the last failure recorded in ctx (CS_OK if none). */
CS_EXPORT enum cs_err cs_ctx_errcode(const struct cs_ctx *ctx);
/* Last status word seen from the card, 0 if none. */
CS_EXPORT uint16_t cs_ctx_last_sw(const struct cs_ctx *ctx);
/*
 * Retries left reported with the last failure (63Cx), or -1 if the last
 * failure carried no retry count.
 */
CS_EXPORT int cs_ctx_tries_left(const struct cs_ctx *ctx);
/* Forget the last failure. */
CS_EXPORT void cs_ctx_clear_error(struct cs_ctx *ctx);
/*
 * For code built on the library (ca/, tools) that reports through the same
 * context: record a failure (ctx may be NULL) and return code, so callers
 * can write `return cs_ctx_fail(ctx, CS_ERR_X, "...")`.
 */
CS_EXPORT enum cs_err cs_ctx_fail(struct cs_ctx *ctx, enum cs_err code,
    const char *fmt, ...) CS_PRINTF(3, 4);
/*
 * As cs_ctx_fail, then append ": <reason>" of the crypto library's last
 * error and clear its error queue, so no stale error leaks into a later
 * call.
 */
CS_EXPORT enum cs_err cs_ctx_fail_crypto(struct cs_ctx *ctx, enum cs_err code,
    const char *fmt, ...) CS_PRINTF(3, 4);
/* Send a line to the context's log callback if it wants that level. */
CS_EXPORT void cs_ctx_log(struct cs_ctx *ctx, enum cs_log_level level,
    const char *fmt, ...) CS_PRINTF(3, 4);

/* Free memory handed out by the library; NULL is accepted. */
CS_EXPORT void cs_free(void *p);
/* Wipe then free n bytes handed out by the library; NULL is accepted. */
CS_EXPORT void cs_free_secret(void *p, size_t n);
/* Overwrite n bytes with zeros in a way the compiler cannot drop. */
CS_EXPORT void cs_wipe(void *p, size_t n);
/* Compare public bytes (not constant time). */
CS_EXPORT bool cs_memeq_public(const void *a, const void *b, size_t n);
/* Compare secret bytes in constant time. */
CS_EXPORT bool cs_memeq_secret(const void *a, const void *b, size_t n);

/* Library version string, e.g. "0.1.0". */
CS_EXPORT const char *cs_version(void);

#endif
