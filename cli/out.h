/*
 * cardsmith output: results on stdout (text, or exactly one JSON document
 * with --json), diagnostics on stderr prefixed "cardsmith: ".
 *
 * JSON schema rules: snake_case keys, append only. Success is
 * {"ok":true,...}; failure is {"ok":false,"error":{"code":"CS_ERR_...",
 * "message":"...","tries_left":N}} with tries_left only when known.
 */
#ifndef CARDSMITH_CLI_OUT_H
#define CARDSMITH_CLI_OUT_H

#include <stdio.h>

#include <jansson.h>

#include "cli.h"

/* "3B FD 13" needs 3 chars per byte; "3BFD13" 2; plus NUL. */
#define OUT_HEX_MAX(n) ((n)*3 + 1)

/*
 * Write p[0..n) as upper-case hex into dst[0..cap): "3B FD 13" when spaced,
 * "3BFD13" otherwise. Truncates at a byte boundary if cap is too small;
 * dst is always NUL-terminated when cap > 0.
 */
void out_hex(char *dst, size_t cap, const uint8_t *p, size_t n, int spaced);

/* A new {"ok":true} object. Never NULL (exits on OOM). */
json_t *out_doc_new(void);
/* obj[key] = val, taking val; val NULL means JSON null. Exits on OOM. */
void out_set(json_t *obj, const char *key, json_t *val);
/*
 * A JSON string for s (NULL gives null). Bytes that are not valid UTF-8
 * are replaced by '?' so foreign names never break the document.
 */
json_t *out_str(const char *s);
/* Append val to the array arr, taking val. Exits on OOM. */
void out_append(json_t *arr, json_t *val);

/*
 * Print doc as the run's one JSON document and free it. Returns 0, or 1
 * if a document was already emitted (a bug, reported).
 */
int out_emit(struct cli *cli, json_t *doc);

/*
 * Report a failed operation and return its exit code. The message is
 * "what: detail", the detail being the context's message for err, else
 * cs_strerror(err); what may be NULL. Text mode: "cardsmith: msg" on
 * stderr. JSON mode: the error document on stdout.
 */
int out_fail(struct cli *cli, enum cs_err err, const char *what);
/* As out_fail with a message of our own (no context detail). */
int out_failf(struct cli *cli, enum cs_err err, const char *fmt, ...)
    CS_PRINTF(3, 4);
/*
 * Usage error: message on stderr, a hint where help is, and in JSON mode an
 * error document (CS_ERR_ARG). Returns 2.
 */
int out_usage(struct cli *cli, const char *fmt, ...) CS_PRINTF(2, 3);
/* Informational line on stderr ("cardsmith: ..."), silenced by -q. */
void out_notice(const struct cli *cli, const char *fmt, ...) CS_PRINTF(2, 3);
/* Progress line on stderr ("cardsmith: ..."), only with -v and not -q. */
void out_verbose(const struct cli *cli, const char *fmt, ...) CS_PRINTF(2, 3);
/* Print s on f with control characters shown as '?'. */
void out_safe(FILE *f, const char *s);
/* Print to stderr "cardsmith: " + line (as out_safe) + newline. */
void out_line(const char *line);
/* Print to stderr "cardsmith: " + message, unconditionally. */
void out_err(const char *fmt, ...) CS_PRINTF(1, 2);
/* malloc that exits on failure (cli/ may die on OOM, STYLE.md 3.2). */
void *xmalloc(size_t n);

#endif
