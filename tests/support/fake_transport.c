/* Scripted fake transport; see fake_transport.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "fake_transport.h"

#include "banned.h"

#define FAKE_ERR_MAX 512
#define FILLER 0xA5

struct step {
	uint8_t *cmd; /* NULL: any command */
	size_t cmdlen;
	uint8_t *resp;
	size_t resplen;
	enum cs_err err; /* CS_OK: answer resp */
};

struct rec {
	uint8_t *cmd;
	size_t len;
};

struct cs_fake {
	struct cs_transport *t; /* NULL once closed */
	bool closed;
	struct step *steps;
	size_t nsteps, capsteps, pos;
	struct rec *recs;
	size_t nrecs, caprecs;
	size_t remove_at; /* SIZE_MAX: never */
	bool bad;
	char err[FAKE_ERR_MAX];
	bool source;
	struct cs_cur src;
	uint8_t atr[CS_ATR_MAX];
	size_t atrlen;
	size_t nbegin, nend;
};

static void
note(struct cs_fake *f, const char *fmt, ...) CS_PRINTF(2, 3);

/* Remember the first problem; later ones are usually consequences. */
static void
note(struct cs_fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->bad)
		return;
	f->bad = true;
	va_start(ap, fmt);
	vsnprintf(f->err, sizeof(f->err), fmt, ap);
	va_end(ap);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

uint8_t *
cs_fake_hex(const char *hex, size_t *len)
{
	uint8_t *out;
	size_t n = 0, i;
	int hi = -1, v;

	*len = 0;
	if (hex == NULL)
		return NULL;
	if ((out = malloc(strlen(hex) / 2 + 1)) == NULL)
		return NULL;
	for (i = 0; hex[i] != '\0'; i++) {
		if (isspace((unsigned char)hex[i]) || hex[i] == ':')
			continue;
		if ((v = hexval((unsigned char)hex[i])) < 0)
			goto bad;
		if (hi < 0)
			hi = v;
		else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		goto bad;
	*len = n;
	return out;
bad:
	free(out);
	return NULL;
}

/* "00 A4 04 00 ..." for messages; long input is cut. */
static void
hexstr(char *s, size_t cap, const uint8_t *p, size_t n)
{
	size_t i, pos = 0;
	int w;

	s[0] = '\0';
	for (i = 0; i < n && pos + 4 < cap; i++) {
		if (i == 24 && n > 26) {
			snprintf(s + pos, cap - pos, " ... (%zu bytes)", n);
			return;
		}
		w = snprintf(s + pos, cap - pos, "%s%02X", i ? " " : "", p[i]);
		if (w < 0)
			return;
		pos += (size_t)w;
	}
}

static enum cs_err
record(struct cs_fake *f, const uint8_t *cmd, size_t len)
{
	struct rec *nr;
	size_t ncap;

	if (f->nrecs == f->caprecs) {
		ncap = f->caprecs == 0 ? 16 : f->caprecs * 2;
		if ((nr = realloc(f->recs, ncap * sizeof(*nr))) == NULL)
			return CS_ERR_NOMEM;
		f->recs = nr;
		f->caprecs = ncap;
	}
	if ((f->recs[f->nrecs].cmd = malloc(len > 0 ? len : 1)) == NULL)
		return CS_ERR_NOMEM;
	if (len > 0)
		memcpy(f->recs[f->nrecs].cmd, cmd, len);
	f->recs[f->nrecs].len = len;
	f->nrecs++;
	return CS_OK;
}

static enum cs_err
answer(struct cs_ctx *ctx, const uint8_t *p, size_t n, uint8_t *resp,
    size_t respcap, size_t *resplen)
{
	if (n > respcap)
		return csi_fail(ctx, CS_ERR_TRANSPORT,
		    "fake: response of %zu bytes exceeds buffer of %zu", n,
		    respcap);
	if (n > 0)
		memcpy(resp, p, n);
	*resplen = n;
	return CS_OK;
}

/* Source mode: pop the next entry (format in fake_transport.h). */
static enum cs_err
pop_source(struct cs_fake *f, struct cs_ctx *ctx, uint8_t *resp,
    size_t respcap, size_t *resplen)
{
	struct cs_cur body;
	uint16_t l;
	size_t n;

	if (cs_cur_get_u16(&f->src, &l) != CS_OK) {
		cs_cur_init(&f->src, NULL, 0);
		return csi_fail(ctx, CS_ERR_REMOVED, "fake: source used up");
	}
	if (l == 0xFFFF)
		return csi_fail(ctx, CS_ERR_TRANSPORT, "fake: injected error");
	if (l < 0x8000) {
		n = l < cs_cur_len(&f->src) ? l : cs_cur_len(&f->src);
		if (cs_cur_get_bytes(&f->src, n, &body) != CS_OK)
			return CS_ERR_INTERNAL;
		return answer(ctx, cs_cur_ptr(&body), n, resp, respcap,
		    resplen);
	}
	n = (size_t)(l - 0x8000);
	if (n + 2 > respcap)
		return csi_fail(ctx, CS_ERR_TRANSPORT,
		    "fake: response exceeds buffer");
	memset(resp, FILLER, n);
	if (cs_cur_get_bytes(&f->src,
	    cs_cur_len(&f->src) < 2 ? cs_cur_len(&f->src) : 2, &body) != CS_OK)
		return CS_ERR_INTERNAL;
	if (cs_cur_len(&body) > 0)
		memcpy(resp + n, cs_cur_ptr(&body), cs_cur_len(&body));
	*resplen = n + cs_cur_len(&body);
	return CS_OK;
}

static enum cs_err
fake_transmit(void *self, struct cs_ctx *ctx, const uint8_t *cmd,
    size_t cmdlen, uint8_t *resp, size_t respcap, size_t *resplen)
{
	struct cs_fake *f = self;
	struct step *s;
	char want[160], got[160];
	size_t idx = f->nrecs;

	*resplen = 0;
	if (record(f, cmd, cmdlen) != CS_OK)
		return csi_fail(ctx, CS_ERR_NOMEM, "fake: out of memory");
	if (idx >= f->remove_at)
		return csi_fail(ctx, CS_ERR_REMOVED, "fake: card removed");
	if (f->source)
		return pop_source(f, ctx, resp, respcap, resplen);
	hexstr(got, sizeof(got), cmd, cmdlen);
	if (f->pos >= f->nsteps) {
		note(f, "command %zu (%s) after the end of the script", idx,
		    got);
		return csi_fail(ctx, CS_ERR_INTERNAL,
		    "fake: unexpected command %zu", idx);
	}
	s = &f->steps[f->pos];
	if (s->cmd != NULL && (s->cmdlen != cmdlen ||
	    !cs_memeq_public(s->cmd, cmd, cmdlen))) {
		hexstr(want, sizeof(want), s->cmd, s->cmdlen);
		note(f, "step %zu: expected %s, got %s", f->pos, want, got);
		return csi_fail(ctx, CS_ERR_INTERNAL,
		    "fake: unexpected command %zu", idx);
	}
	f->pos++;
	if (s->err != CS_OK)
		return csi_fail(ctx, s->err, "fake: injected %s",
		    cs_errname(s->err));
	return answer(ctx, s->resp, s->resplen, resp, respcap, resplen);
}

static enum cs_err
fake_begin(void *self, struct cs_ctx *ctx)
{
	struct cs_fake *f = self;

	(void)ctx;
	f->nbegin++;
	return CS_OK;
}

static void
fake_end(void *self)
{
	struct cs_fake *f = self;

	f->nend++;
}

static enum cs_err
fake_get_atr(void *self, struct cs_ctx *ctx, uint8_t *atr, size_t cap,
    size_t *len)
{
	struct cs_fake *f = self;

	*len = 0;
	if (f->atrlen == 0)
		return csi_fail(ctx, CS_ERR_NO_CARD, "fake: no ATR set");
	if (f->atrlen > cap)
		return csi_fail(ctx, CS_ERR_LIMIT, "fake: ATR buffer too small");
	memcpy(atr, f->atr, f->atrlen);
	*len = f->atrlen;
	return CS_OK;
}

static void
fake_close(void *self)
{
	struct cs_fake *f = self;

	f->closed = true;
	f->t = NULL;
}

static const struct cs_transport_ops fake_ops = {
	.transmit = fake_transmit,
	.begin = fake_begin,
	.end = fake_end,
	.get_atr = fake_get_atr,
	.close = fake_close,
};

enum cs_err
cs_fake_new(struct cs_fake **fp, struct cs_transport **tp)
{
	struct cs_fake *f;
	enum cs_err r;

	*fp = NULL;
	*tp = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return CS_ERR_NOMEM;
	f->remove_at = SIZE_MAX;
	if ((r = cs_transport_new(&fake_ops, f, "fake", &f->t)) != CS_OK) {
		free(f);
		return r;
	}
	*fp = f;
	*tp = f->t;
	return CS_OK;
}

void
cs_fake_free(struct cs_fake *f)
{
	size_t i;

	if (f == NULL)
		return;
	if (f->t != NULL)
		cs_transport_close(f->t);
	for (i = 0; i < f->nsteps; i++) {
		free(f->steps[i].cmd);
		free(f->steps[i].resp);
	}
	free(f->steps);
	for (i = 0; i < f->nrecs; i++)
		free(f->recs[i].cmd);
	free(f->recs);
	free(f);
}

static enum cs_err
add_step(struct cs_fake *f, uint8_t *cmd, size_t cmdlen, uint8_t *resp,
    size_t resplen, enum cs_err err)
{
	struct step *ns;
	size_t ncap;

	if (f->nsteps == f->capsteps) {
		ncap = f->capsteps == 0 ? 16 : f->capsteps * 2;
		if ((ns = realloc(f->steps, ncap * sizeof(*ns))) == NULL) {
			free(cmd);
			free(resp);
			return CS_ERR_NOMEM;
		}
		f->steps = ns;
		f->capsteps = ncap;
	}
	f->steps[f->nsteps].cmd = cmd;
	f->steps[f->nsteps].cmdlen = cmdlen;
	f->steps[f->nsteps].resp = resp;
	f->steps[f->nsteps].resplen = resplen;
	f->steps[f->nsteps].err = err;
	f->nsteps++;
	return CS_OK;
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d;

	if ((d = malloc(n > 0 ? n : 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

enum cs_err
cs_fake_expect(struct cs_fake *f, const uint8_t *cmd, size_t cmdlen,
    const uint8_t *resp, size_t resplen)
{
	uint8_t *c = NULL, *r;

	if (cmd != NULL && (c = dup_bytes(cmd, cmdlen)) == NULL)
		return CS_ERR_NOMEM;
	if ((r = dup_bytes(resp, resplen)) == NULL) {
		free(c);
		return CS_ERR_NOMEM;
	}
	return add_step(f, c, cmdlen, r, resplen, CS_OK);
}

/* Parse cmd hex for a step; *any set for NULL or "*". */
static enum cs_err
step_cmd(struct cs_fake *f, const char *hex, uint8_t **cmd, size_t *len)
{
	*cmd = NULL;
	*len = 0;
	if (hex == NULL || strcmp(hex, "*") == 0)
		return CS_OK;
	if ((*cmd = cs_fake_hex(hex, len)) == NULL) {
		note(f, "step %zu: bad command hex \"%s\"", f->nsteps, hex);
		return CS_ERR_ARG;
	}
	return CS_OK;
}

enum cs_err
cs_fake_expect_hex(struct cs_fake *f, const char *cmd, const char *resp)
{
	uint8_t *c, *r;
	size_t clen, rlen;
	enum cs_err e;

	if ((e = step_cmd(f, cmd, &c, &clen)) != CS_OK)
		return e;
	if ((r = cs_fake_hex(resp, &rlen)) == NULL) {
		free(c);
		note(f, "step %zu: bad response hex", f->nsteps);
		return CS_ERR_ARG;
	}
	return add_step(f, c, clen, r, rlen, CS_OK);
}

enum cs_err
cs_fake_expect_err(struct cs_fake *f, const char *cmd, enum cs_err err)
{
	uint8_t *c;
	size_t clen;
	enum cs_err e;

	if (err == CS_OK) {
		note(f, "step %zu: cs_fake_expect_err with CS_OK", f->nsteps);
		return CS_ERR_ARG;
	}
	if ((e = step_cmd(f, cmd, &c, &clen)) != CS_OK)
		return e;
	return add_step(f, c, clen, NULL, 0, err);
}

void
cs_fake_remove_at(struct cs_fake *f, size_t n)
{
	f->remove_at = n;
}

void
cs_fake_set_source(struct cs_fake *f, const uint8_t *p, size_t len)
{
	f->source = true;
	cs_cur_init(&f->src, p, len);
}

enum cs_err
cs_fake_set_atr(struct cs_fake *f, const uint8_t *atr, size_t len)
{
	if (len > sizeof(f->atr))
		return CS_ERR_ARG;
	if (len > 0)
		memcpy(f->atr, atr, len);
	f->atrlen = len;
	return CS_OK;
}

bool
cs_fake_ok(const struct cs_fake *f)
{
	return !f->bad && f->pos == f->nsteps;
}

size_t
cs_fake_unconsumed(const struct cs_fake *f)
{
	return f->nsteps - f->pos;
}

const char *
cs_fake_error(const struct cs_fake *f)
{
	if (f->bad)
		return f->err;
	if (f->pos < f->nsteps)
		return "script not fully consumed";
	return "";
}

size_t
cs_fake_ncmds(const struct cs_fake *f)
{
	return f->nrecs;
}

bool
cs_fake_cmd(const struct cs_fake *f, size_t i, const uint8_t **p,
    size_t *len)
{
	*p = NULL;
	*len = 0;
	if (i >= f->nrecs)
		return false;
	*p = f->recs[i].cmd;
	*len = f->recs[i].len;
	return true;
}

bool
cs_fake_cmd_is(const struct cs_fake *f, size_t i, const char *hex)
{
	uint8_t *want;
	size_t n;
	bool eq;

	if (i >= f->nrecs || (want = cs_fake_hex(hex, &n)) == NULL)
		return false;
	eq = n == f->recs[i].len &&
	    (n == 0 || cs_memeq_public(want, f->recs[i].cmd, n));
	free(want);
	return eq;
}

size_t
cs_fake_nbegin(const struct cs_fake *f)
{
	return f->nbegin;
}

size_t
cs_fake_nend(const struct cs_fake *f)
{
	return f->nend;
}

bool
cs_fake_closed(const struct cs_fake *f)
{
	return f->closed;
}
