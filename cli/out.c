#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exit.h"
#include "out.h"

#include "banned.h"

#define OUT_MSG_MAX 1024

static void die_nomem(void) __attribute__((noreturn));

static void
die_nomem(void)
{
	fputs("cardsmith: out of memory\n", stderr);
	exit(CLI_EXIT_FAIL);
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		die_nomem();
	return p;
}

void
out_hex(char *dst, size_t cap, const uint8_t *p, size_t n, int spaced)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i, o = 0, need;

	if (cap == 0)
		return;
	for (i = 0; i < n; i++) {
		need = (spaced && i > 0) ? 3 : 2;
		if (o + need >= cap) /* keep room for the NUL */
			break;
		if (spaced && i > 0)
			dst[o++] = ' ';
		dst[o++] = digits[p[i] >> 4];
		dst[o++] = digits[p[i] & 0x0f];
	}
	dst[o] = '\0';
}

json_t *
out_doc_new(void)
{
	json_t *doc;

	if ((doc = json_object()) == NULL)
		die_nomem();
	out_set(doc, "ok", json_true());
	return doc;
}

void
out_set(json_t *obj, const char *key, json_t *val)
{
	if (val == NULL)
		val = json_null();
	if (json_object_set_new(obj, key, val) != 0)
		die_nomem();
}

void
out_append(json_t *arr, json_t *val)
{
	if (val == NULL)
		val = json_null();
	if (json_array_append_new(arr, val) != 0)
		die_nomem();
}

json_t *
out_str(const char *s)
{
	json_t *j;
	char *copy;
	size_t i, n;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	/* Not UTF-8 (json_string also fails on OOM; the retry tells). */
	n = strlen(s);
	copy = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	copy[n] = '\0';
	j = json_string(copy);
	free(copy);
	if (j == NULL)
		die_nomem();
	return j;
}

int
out_emit(struct cli *cli, json_t *doc)
{
	if (cli->emitted) {
		json_decref(doc);
		out_err("internal error: second JSON document suppressed");
		return CLI_EXIT_FAIL;
	}
	cli->emitted = 1;
	/* Failures surface through ferror(stdout) in the runner. */
	(void)json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(doc);
	return CLI_EXIT_OK;
}

void
out_line(const char *line)
{
	fputs("cardsmith: ", stderr);
	out_safe(stderr, line);
	fputc('\n', stderr);
}

static void vout_line(const char *fmt, va_list ap) CS_PRINTF(1, 0);

/* out_line of fmt; a longer message is cut at OUT_MSG_MAX. */
static void
vout_line(const char *fmt, va_list ap)
{
	char msg[OUT_MSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	out_line(msg);
}

void
out_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vout_line(fmt, ap);
	va_end(ap);
}

void
out_notice(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet)
		return;
	va_start(ap, fmt);
	vout_line(fmt, ap);
	va_end(ap);
}

void
out_verbose(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli->quiet || cli->verbose < 1)
		return;
	va_start(ap, fmt);
	vout_line(fmt, ap);
	va_end(ap);
}

void
out_safe(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
}

/* {"ok":false,"error":{"code","message"[,"tries_left"]}}; tries < 0: none. */
static void
error_doc(struct cli *cli, enum cs_err err, const char *msg, int tries)
{
	json_t *doc = json_object(), *e = json_object();

	if (doc == NULL || e == NULL)
		die_nomem();
	out_set(doc, "ok", json_false());
	out_set(e, "code", out_str(cs_errname(err)));
	out_set(e, "message", out_str(msg));
	if (tries >= 0)
		out_set(e, "tries_left", json_integer(tries));
	out_set(doc, "error", e);
	(void)out_emit(cli, doc);
}

static int
report(struct cli *cli, enum cs_err err, const char *msg)
{
	if (!cli->json || cli->emitted)
		out_err("%s", msg);
	else
		error_doc(cli, err, msg, cs_ctx_tries_left(cli->ctx));
	return cli_exit_code(err);
}

/*
 * Does detail already say what? The library names files in its messages,
 * so "x.pem" + "x.pem: not found" must not become "x.pem: x.pem: ...".
 */
static bool
already_said(const char *detail, const char *what)
{
	size_t n = strlen(what);

	if (strncmp(detail, what, n) == 0 &&
	    (detail[n] == ':' || detail[n] == ' ' || detail[n] == '\0'))
		return true;
	return strchr(what, '/') != NULL && strstr(detail, what) != NULL;
}

int
out_fail(struct cli *cli, enum cs_err err, const char *what)
{
	char msg[OUT_MSG_MAX];
	const char *detail = cs_strerror(err);

	if (cs_ctx_errcode(cli->ctx) == err && *cs_ctx_errmsg(cli->ctx) != '\0')
		detail = cs_ctx_errmsg(cli->ctx);
	if (what != NULL && !already_said(detail, what))
		snprintf(msg, sizeof(msg), "%s: %s", what, detail);
	else
		snprintf(msg, sizeof(msg), "%s", detail);
	return report(cli, err, msg);
}

int
out_failf(struct cli *cli, enum cs_err err, const char *fmt, ...)
{
	va_list ap;
	char msg[OUT_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return report(cli, err, msg);
}

int
out_usage(struct cli *cli, const char *fmt, ...)
{
	va_list ap;
	char msg[OUT_MSG_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	out_err("%s", msg);
	if (cli->cmd != NULL)
		fprintf(stderr, "Try 'cardsmith help %s'.\n", cli->cmd->name);
	else
		fputs("Try 'cardsmith help'.\n", stderr);
	/* A usage error has no tries left to report, whatever ctx holds. */
	if (cli->json && !cli->emitted)
		error_doc(cli, CS_ERR_ARG, msg, -1);
	return CLI_EXIT_USAGE;
}
