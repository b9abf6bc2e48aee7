/*
 * Batch roster reader (include/cardsmith/roster.h): RFC 4180 CSV read one
 * byte at a time through a bounded cursor over a fixed chunk (or over the
 * caller's memory), so a roster of any length costs one record buffer and
 * the id digests.
 *
 * The tokenizer never gives up on a record early: after the first problem
 * in a record it keeps consuming bytes with the same quoting rules, so the
 * next record (and every line number after it) is still found correctly
 * and cs_roster_check can report every bad row, not just the first.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"
#include "cardsmith/buf.h"
#include "cardsmith/roster.h"

#include "banned.h"

#define ROSTER_CHUNK 8192
/* Fields kept per record: enough to examine a header with extra names. */
#define ROSTER_KEEP 8
#define ROSTER_REASON_MAX 256
#define ROSTER_REPORT_MAX 65536
#define ROSTER_DIGEST_LEN 16

enum col {
	COL_ID,
	COL_CN,
	COL_EMAIL,
	COL_PROFILE_SET,
	COL_SUBJECT,
	COL_SERIAL,
	COL__COUNT
};

static const struct {
	const char *name;
	bool required;
} cols[COL__COUNT] = {
	{ "id", true },
	{ "cn", true },
	{ "email", true },
	{ "profile_set", true },
	{ "subject", false },
	{ "serial", false },
};

#define UNCLOSED "quote opened here is never closed"
#define KNOWN_COLS "id, cn, email, profile_set, subject, serial"

/* One id seen so far: a digest of its lowercased spelling. */
struct seen_id {
	uint8_t d[ROSTER_DIGEST_LEN];
	unsigned long line; /* 0: empty slot */
};

/* UTF-8 decoder state (RFC 3629 section 4). */
struct utf8 {
	unsigned int need; /* continuation bytes still expected */
	uint32_t cp, min;
	uint8_t seq[4];
	size_t nseq;
	uint64_t start; /* input offset of the sequence's first byte */
};

struct cs_roster {
	char *name;
	unsigned int flags;
	int fd; /* -1 for memory */
	uint8_t *chunk;
	struct cs_cur in; /* unread bytes of the chunk or the memory */
	bool eof;
	uint64_t off;       /* bytes consumed so far */
	unsigned long line; /* physical line of the next byte */

	int pos[COL__COUNT]; /* field index of each column, -1 if absent */
	size_t ncols;

	/* the current record */
	struct cs_buf rec; /* fields, each NUL-terminated */
	size_t foff[ROSTER_KEEP];
	size_t nf;       /* fields seen (may exceed ROSTER_KEEP) */
	size_t flen;     /* bytes in the current field */
	size_t fstart;   /* where the current field starts in rec */
	size_t rawlen;   /* bytes of the record as written */
	bool field_quoted;
	bool any_quoted; /* some field of the record was quoted */
	bool overlong;   /* stop storing: a limit was hit */
	struct utf8 u;
	unsigned long start; /* line the record starts on */
	unsigned long qline; /* line of a quote left open at the end */
	enum cs_err rerr;    /* first problem in the record, CS_OK if none */
	unsigned long rline;
	char rreason[ROSTER_REASON_MAX];

	bool pending; /* the record in rec is still to be handed out */
	size_t nrows;
	struct seen_id *ids;
	size_t nids, idcap;

	enum cs_err stop; /* CS_OK until nothing more can be read */
	char stopmsg[CSI_ERRMSG_MAX];
	/* the last problem handed out by cs_roster_next */
	unsigned long pline;
	char preason[ROSTER_REASON_MAX];
};

static void rec_fail(struct cs_roster *r, enum cs_err code,
    unsigned long line, const char *fmt, ...) CS_PRINTF(4, 5);

/* Keep the first problem of a record; later ones add nothing useful. */
static void
rec_fail(struct cs_roster *r, enum cs_err code, unsigned long line,
    const char *fmt, ...)
{
	va_list ap;

	if (r->rerr != CS_OK)
		return;
	r->rerr = code;
	r->rline = line;
	va_start(ap, fmt);
	(void)vsnprintf(r->rreason, sizeof(r->rreason), fmt, ap);
	va_end(ap);
}

/* --- input --- */

static enum cs_err
refill(struct cs_ctx *ctx, struct cs_roster *r)
{
	ssize_t n;

	if (r->fd == -1) {
		r->eof = true;
		return CS_OK;
	}
	for (;;) {
		n = read(r->fd, r->chunk, ROSTER_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return csi_fail(ctx, CS_ERR_IO, "%s: %s", r->name,
			    strerror(errno));
		break;
	}
	if (n == 0)
		r->eof = true;
	cs_cur_init(&r->in, r->chunk, (size_t)n);
	return CS_OK;
}

/* *c = next byte, or -1 at end of input. */
static enum cs_err
peek_byte(struct cs_ctx *ctx, struct cs_roster *r, int *c)
{
	uint8_t b;
	enum cs_err e;

	*c = -1;
	while (cs_cur_is_empty(&r->in) && !r->eof)
		if ((e = refill(ctx, r)) != CS_OK)
			return e;
	if (cs_cur_peek_u8(&r->in, &b) == CS_OK)
		*c = b;
	return CS_OK;
}

static enum cs_err
get_byte(struct cs_ctx *ctx, struct cs_roster *r, int *c)
{
	uint8_t b;
	enum cs_err e;

	if ((e = peek_byte(ctx, r, c)) != CS_OK || *c == -1)
		return e;
	if (cs_cur_get_u8(&r->in, &b) != CS_OK)
		return csi_fail(ctx, CS_ERR_INTERNAL, "%s: read", r->name);
	r->off++;
	*c = b;
	/* the line break that ends the record is not part of it */
	if (++r->rawlen > CS_ROSTER_RECORD_MAX && b != '\n' && b != '\r' &&
	    !r->overlong) {
		rec_fail(r, CS_ERR_LIMIT, r->line,
		    "record longer than %d bytes", CS_ROSTER_RECORD_MAX);
		r->overlong = true;
	}
	return CS_OK;
}

/* --- field bytes --- */

static void
store(struct cs_roster *r, const uint8_t *p, size_t n)
{
	if (r->overlong)
		return;
	if (r->flen + n > CS_ROSTER_FIELD_MAX) {
		rec_fail(r, CS_ERR_LIMIT, r->line,
		    "field longer than %d bytes", CS_ROSTER_FIELD_MAX);
		r->overlong = true;
		return;
	}
	r->flen += n;
	if (r->nf < ROSTER_KEEP && cs_buf_put(&r->rec, p, n) != CS_OK) {
		/* rec holds at most the record limit plus the NULs */
		rec_fail(r, CS_ERR_LIMIT, r->line,
		    "record longer than %d bytes", CS_ROSTER_RECORD_MAX);
		r->overlong = true;
	}
}

/* A complete code point: refuse what no name or address needs. */
static void
put_cp(struct cs_roster *r)
{
	struct utf8 *u = &r->u;

	if (u->cp < u->min)
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "invalid UTF-8 (overlong encoding)");
	else if (u->cp >= 0xd800 && u->cp <= 0xdfff)
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "invalid UTF-8 (UTF-16 surrogate U+%04X)", (unsigned)u->cp);
	else if (u->cp > 0x10ffff)
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "invalid UTF-8 (above U+10FFFF)");
	else if (u->cp <= 0x9f)
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "control character U+%04X", (unsigned)u->cp);
	else if (u->cp == 0xfeff && u->start == 0)
		; /* the byte order mark the file may start with */
	else if (u->cp == 0xfeff)
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "byte order mark (U+FEFF) is allowed only at the start of "
		    "the file");
	else
		store(r, u->seq, u->nseq);
	u->need = 0;
	u->nseq = 0;
}

/* An incomplete sequence ended (by an ASCII byte or the field's end). */
static void
utf8_cut(struct cs_roster *r)
{
	if (r->u.need == 0)
		return;
	rec_fail(r, CS_ERR_MALFORMED, r->line,
	    "invalid UTF-8 (truncated sequence)");
	r->u.need = 0;
	r->u.nseq = 0;
}

static void
utf8_start(struct cs_roster *r, uint8_t c)
{
	struct utf8 *u = &r->u;

	u->start = r->off - 1;
	u->nseq = 1;
	u->seq[0] = c;
	if (c >= 0xc2 && c <= 0xdf) {
		u->need = 1;
		u->cp = c & 0x1f;
		u->min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		u->need = 2;
		u->cp = c & 0x0f;
		u->min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		u->need = 3;
		u->cp = c & 0x07;
		u->min = 0x10000;
	} else {
		u->nseq = 0;
		if (c == 0xc0 || c == 0xc1)
			rec_fail(r, CS_ERR_MALFORMED, r->line,
			    "invalid UTF-8 (overlong encoding)");
		else if (c >= 0xf5)
			rec_fail(r, CS_ERR_MALFORMED, r->line,
			    "invalid UTF-8 (byte 0x%02x, above U+10FFFF)", c);
		else
			rec_fail(r, CS_ERR_MALFORMED, r->line,
			    "invalid UTF-8 (stray continuation byte 0x%02x)", c);
	}
}

/* One byte of field data (quotes and separators already handled). */
static void
put_byte(struct cs_roster *r, uint8_t c)
{
	struct utf8 *u = &r->u;

	if (c >= 0x80 && u->need > 0 && (c & 0xc0) == 0x80) {
		u->cp = u->cp << 6 | (c & 0x3f);
		u->seq[u->nseq++] = c;
		if (--u->need == 0)
			put_cp(r);
		return;
	}
	utf8_cut(r);
	if (c >= 0x80) {
		utf8_start(r, c);
		return;
	}
	if (c == 0)
		rec_fail(r, CS_ERR_MALFORMED, r->line, "NUL byte");
	else if ((c < 0x20 && c != '\t') || c == 0x7f)
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "control character 0x%02x", c);
	else
		store(r, &c, 1);
}

/* --- records --- */

static void
rec_reset(struct cs_roster *r)
{
	cs_buf_reset(&r->rec);
	r->nf = 0;
	r->flen = 0;
	r->fstart = 0;
	r->rawlen = 0;
	r->field_quoted = false;
	r->any_quoted = false;
	r->overlong = false;
	memset(&r->u, 0, sizeof(r->u));
	r->start = r->line;
	r->rerr = CS_OK;
	r->rline = 0;
	r->rreason[0] = '\0';
}

static void
end_field(struct cs_roster *r)
{
	static const uint8_t nul;

	utf8_cut(r);
	/*
	 * rec's maximum leaves room for every NUL; once a limit was hit the
	 * record is refused and its fields are never looked at.
	 */
	if (r->nf < ROSTER_KEEP) {
		r->foff[r->nf] = r->fstart;
		if (cs_buf_put(&r->rec, &nul, 1) != CS_OK)
			r->overlong = true;
		r->fstart = r->rec.len;
	}
	r->nf++;
	r->flen = 0;
	r->any_quoted |= r->field_quoted;
	r->field_quoted = false;
}

/*
 * After a CR: CRLF ends the record (*end set); a bare CR is refused, as
 * RFC 4180 section 2 knows only CRLF as a line break.
 */
static enum cs_err
after_cr(struct cs_ctx *ctx, struct cs_roster *r, bool *end)
{
	int c;
	enum cs_err e;

	*end = false;
	if ((e = peek_byte(ctx, r, &c)) != CS_OK)
		return e;
	if (c != '\n') {
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "control character 0x0d (CR not followed by LF)");
		return CS_OK;
	}
	if ((e = get_byte(ctx, r, &c)) != CS_OK)
		return e;
	r->line++;
	*end = true;
	return CS_OK;
}

/*
 * A quoted field, its opening quote read. *sep is the byte after the
 * closing quote: ',', '\n' or -1 for the end of input.
 */
static enum cs_err
quoted_field(struct cs_ctx *ctx, struct cs_roster *r, int *sep)
{
	unsigned long qline = r->line;
	bool end;
	int c;
	enum cs_err e;

	r->field_quoted = true;
	for (;;) {
		if ((e = get_byte(ctx, r, &c)) != CS_OK)
			return e;
		if (c == -1) {
			r->qline = qline;
			return csi_fail(ctx, CS_ERR_MALFORMED, "%s:%lu: %s",
			    r->name, qline, UNCLOSED);
		}
		if (c == '"') {
			if ((e = peek_byte(ctx, r, &c)) != CS_OK)
				return e;
			if (c != '"')
				break;
			(void)get_byte(ctx, r, &c);
			put_byte(r, '"');
		} else if (c == '\n') {
			utf8_cut(r);
			r->line++;
			store(r, (const uint8_t *)"\n", 1);
		} else if (c == '\r') {
			if ((e = after_cr(ctx, r, &end)) != CS_OK)
				return e;
			/* a quoted CRLF is one line break in the value */
			if (end)
				store(r, (const uint8_t *)"\n", 1);
		} else
			put_byte(r, (uint8_t)c);
	}
	/* RFC 4180 section 2 rule 5: only a separator may follow */
	if ((e = get_byte(ctx, r, &c)) != CS_OK)
		return e;
	if (c != ',' && c != '\n' && c != '\r' && c != -1) {
		rec_fail(r, CS_ERR_MALFORMED, r->line,
		    "text after a closing quote");
		*sep = c;
		return CS_OK;
	}
	*sep = c;
	return CS_OK;
}

/*
 * Unquoted data starting with byte c (which may be a separator already);
 * on return *sep is ',', '\n' or -1.
 */
static enum cs_err
plain_field(struct cs_ctx *ctx, struct cs_roster *r, int c, int *sep)
{
	bool end;
	enum cs_err e = CS_OK;

	for (;; e = get_byte(ctx, r, &c)) {
		if (e != CS_OK)
			return e;
		if (c == ',' || c == -1) {
			*sep = c;
			return CS_OK;
		}
		if (c == '\n') {
			r->line++;
			*sep = '\n';
			return CS_OK;
		}
		if (c == '\r') {
			if ((e = after_cr(ctx, r, &end)) != CS_OK)
				return e;
			if (end) {
				*sep = '\n';
				return CS_OK;
			}
		} else if (c == '"') {
			/* RFC 4180 section 2 rule 5 */
			rec_fail(r, CS_ERR_MALFORMED, r->line,
			    "quote inside an unquoted field");
			put_byte(r, '"');
		} else
			put_byte(r, (uint8_t)c);
	}
}

/*
 * The file's first byte starts a multi-byte character: decode it here, so
 * that a byte order mark (dropped by put_cp) may precede a quoted field.
 * *c is then the byte after the character.
 */
static enum cs_err
skip_bom(struct cs_ctx *ctx, struct cs_roster *r, int *c)
{
	enum cs_err e;

	put_byte(r, (uint8_t)*c);
	while (r->u.need > 0) {
		if ((e = peek_byte(ctx, r, c)) != CS_OK)
			return e;
		if (*c == -1 || (*c & 0xc0) != 0x80)
			break;
		if ((e = get_byte(ctx, r, c)) != CS_OK)
			return e;
		put_byte(r, (uint8_t)*c);
	}
	return get_byte(ctx, r, c);
}

/*
 * Read one record into r->rec. CS_ERR_NOT_FOUND at the end of input
 * before any byte of a record. Problems inside the record are left in
 * r->rerr; only I/O and an unclosed quote fail the call.
 */
static enum cs_err
read_record(struct cs_ctx *ctx, struct cs_roster *r)
{
	int c, sep;
	enum cs_err e = CS_OK;

	rec_reset(r);
	if ((e = peek_byte(ctx, r, &c)) != CS_OK)
		return e;
	if (c == -1)
		return CS_ERR_NOT_FOUND;
	for (;;) {
		if ((e = get_byte(ctx, r, &c)) != CS_OK)
			return e;
		if (c == 0xef && r->off == 1 && (e = skip_bom(ctx, r, &c)) !=
		    CS_OK)
			return e;
		/* flen: a byte order mark before the quote is no data */
		if (c == '"' && r->flen == 0)
			e = quoted_field(ctx, r, &sep);
		else
			e = plain_field(ctx, r, c, &sep);
		if (e != CS_OK)
			return e;
		if (sep != ',' && sep != '\n' && sep != -1) {
			/* text after a closing quote: the rest is plain */
			if ((e = plain_field(ctx, r, sep, &sep)) != CS_OK)
				return e;
		}
		end_field(r);
		if (sep != ',')
			return CS_OK;
	}
}

static bool
rec_is_blank(const struct cs_roster *r)
{
	return r->nf == 1 && !r->any_quoted && r->rerr == CS_OK &&
	    r->rec.len == 1;
}

static const char *
field(const struct cs_roster *r, size_t i)
{
	return (const char *)r->rec.data + r->foff[i];
}

static const char *
colval(const struct cs_roster *r, enum col col)
{
	if (r->pos[col] < 0)
		return NULL;
	return field(r, (size_t)r->pos[col]);
}

/*
 * Copy s for a message: at most 40 bytes, cut at a character boundary,
 * line breaks and tabs shown as '?'.
 */
static void
shown(char *dst, size_t n, const char *s)
{
	size_t i = 0, j = 0;

	while (s[i] != '\0' && j + 4 < n) {
		if (i >= 40 && ((uint8_t)s[i] & 0xc0) != 0x80) {
			memcpy(dst + j, "...", 3);
			j += 3;
			break;
		}
		dst[j++] = ((uint8_t)s[i] < 0x20) ? '?' : s[i];
		i++;
	}
	dst[j] = '\0';
}

/* --- header --- */

static enum cs_err
header_fail(struct cs_ctx *ctx, struct cs_roster *r, enum cs_err code,
    const char *reason)
{
	return csi_fail(ctx, code, "%s:%lu: header: %s", r->name, r->start,
	    reason);
}

static enum cs_err
read_header(struct cs_ctx *ctx, struct cs_roster *r)
{
	char msg[ROSTER_REASON_MAX], name[64];
	size_t i, k, n;
	enum cs_err e;

	if ((e = read_record(ctx, r)) == CS_ERR_NOT_FOUND)
		return csi_fail(ctx, CS_ERR_MALFORMED,
		    "%s:1: no header row (empty file)", r->name);
	if (e != CS_OK)
		return e;
	if (r->rerr != CS_OK)
		return csi_fail(ctx, r->rerr, "%s:%lu: header: %s", r->name,
		    r->rline, r->rreason);
	if (rec_is_blank(r))
		return header_fail(ctx, r, CS_ERR_MALFORMED,
		    "no header row (the first line is empty)");
	if (r->nf > ROSTER_KEEP)
		return header_fail(ctx, r, CS_ERR_MALFORMED,
		    "more than 8 columns (known: " KNOWN_COLS ")");
	for (i = 0; i < r->nf; i++) {
		for (k = 0; k < COL__COUNT; k++)
			if (strcmp(field(r, i), cols[k].name) == 0)
				break;
		shown(name, sizeof(name), field(r, i));
		if (k == COL__COUNT) {
			(void)snprintf(msg, sizeof(msg),
			    "unknown column '%s' (known: " KNOWN_COLS ")", name);
			return header_fail(ctx, r, CS_ERR_MALFORMED, msg);
		}
		if (r->pos[k] >= 0) {
			(void)snprintf(msg, sizeof(msg),
			    "column '%s' given twice", name);
			return header_fail(ctx, r, CS_ERR_MALFORMED, msg);
		}
		r->pos[k] = (int)i;
	}
	msg[0] = '\0';
	for (k = 0, n = 0; k < COL__COUNT; k++) {
		if (!cols[k].required || r->pos[k] >= 0)
			continue;
		(void)snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
		    "%s%s", n++ > 0 ? ", " : "", cols[k].name);
	}
	if (n > 0)
		return csi_fail(ctx, CS_ERR_MALFORMED,
		    "%s:%lu: header: missing required column%s %s", r->name,
		    r->start, n > 1 ? "s" : "", msg);
	r->ncols = r->nf;
	return CS_OK;
}

/* --- open / close --- */

static enum cs_err
roster_new(struct cs_ctx *ctx, const char *name, unsigned int flags,
    struct cs_roster **out)
{
	struct cs_roster *r;
	size_t k;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->name = strdup(name)) == NULL) {
		free(r);
		return csi_fail(ctx, CS_ERR_NOMEM, "roster: out of memory");
	}
	r->flags = flags;
	r->fd = -1;
	r->line = 1;
	/*
	 * every stored byte is a record byte (one quoted line break may slip
	 * past the limit), plus one NUL per field
	 */
	cs_buf_init(&r->rec, CS_ROSTER_RECORD_MAX + ROSTER_KEEP + 4, false);
	for (k = 0; k < COL__COUNT; k++)
		r->pos[k] = -1;
	*out = r;
	return CS_OK;
}

static enum cs_err
roster_start(struct cs_ctx *ctx, struct cs_roster **rp,
    struct cs_roster **out)
{
	enum cs_err e;

	if ((e = read_header(ctx, *rp)) != CS_OK) {
		cs_roster_close(*rp);
		*rp = NULL;
		return e;
	}
	*out = *rp;
	*rp = NULL;
	return CS_OK;
}

enum cs_err
cs_roster_open(struct cs_ctx *ctx, const char *path, unsigned int flags,
    struct cs_roster **out)
{
	struct cs_roster *r = NULL;
	struct stat st;
	enum cs_err e;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "roster: no output");
	*out = NULL;
	if (path == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "roster: no path");
	if ((e = roster_new(ctx, path, flags, &r)) != CS_OK)
		return e;
	if ((r->chunk = malloc(ROSTER_CHUNK)) == NULL) {
		cs_roster_close(r);
		return csi_fail(ctx, CS_ERR_NOMEM, "roster: out of memory");
	}
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		e = csi_fail(ctx,
		    errno == ENOENT ? CS_ERR_NOT_FOUND : CS_ERR_IO, "%s: %s",
		    path, strerror(errno));
		cs_roster_close(r);
		return e;
	}
	/* a directory opens fine; fail as read(2) would on it */
	if (fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		e = csi_fail(ctx, CS_ERR_IO, "%s: %s", path, strerror(EISDIR));
		cs_roster_close(r);
		return e;
	}
	return roster_start(ctx, &r, out);
}

enum cs_err
cs_roster_open_mem(struct cs_ctx *ctx, const char *name, const uint8_t *data,
    size_t len, unsigned int flags, struct cs_roster **out)
{
	struct cs_roster *r = NULL;
	enum cs_err e;

	if (out == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "roster: no output");
	*out = NULL;
	if (data == NULL && len > 0)
		return csi_fail(ctx, CS_ERR_ARG, "roster: no data");
	if ((e = roster_new(ctx, name != NULL ? name : "roster", flags,
	    &r)) != CS_OK)
		return e;
	cs_cur_init(&r->in, data, len);
	r->eof = true;
	return roster_start(ctx, &r, out);
}

void
cs_roster_close(struct cs_roster *r)
{
	if (r == NULL)
		return;
	if (r->fd != -1)
		(void)close(r->fd);
	cs_buf_release(&r->rec);
	free(r->chunk);
	free(r->ids);
	free(r->name);
	free(r);
}

bool
cs_roster_is_stopped(const struct cs_roster *r)
{
	return r == NULL || r->stop != CS_OK;
}

/* --- field rules --- */

static bool
is_id_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool
is_set_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	    c == '-';
}

/* A name with characters from is_ok, 1 to CS_ROSTER_ID_MAX of them. */
static bool
check_name(struct cs_roster *r, const char *what, const char *s,
    bool (*is_ok)(int), const char *allowed)
{
	size_t i;

	if (s[0] == '\0') {
		rec_fail(r, CS_ERR_MALFORMED, r->start, "%s: empty", what);
		return false;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if (is_ok((uint8_t)s[i]))
			continue;
		if ((uint8_t)s[i] > 0x20 && (uint8_t)s[i] < 0x7f)
			rec_fail(r, CS_ERR_MALFORMED, r->start,
			    "%s: '%c' not allowed (use %s)", what, s[i],
			    allowed);
		else
			rec_fail(r, CS_ERR_MALFORMED, r->start,
			    "%s: byte 0x%02x not allowed (use %s)", what,
			    (uint8_t)s[i], allowed);
		return false;
	}
	if (i > CS_ROSTER_ID_MAX) {
		rec_fail(r, CS_ERR_MALFORMED, r->start,
		    "%s: longer than %d characters", what, CS_ROSTER_ID_MAX);
		return false;
	}
	return true;
}

/* RFC 5322 atext (section 3.2.3) plus the dots of a dot-atom. */
static bool
is_local_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL);
}

static bool
is_label_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/*
 * local@domain: a dot-atom local part of at most 64 bytes (RFC 5321
 * section 4.5.3.1.1) and a host name of two or more LDH labels of 1-63
 * bytes, no label starting or ending with '-' (RFC 1123 section 2.1).
 * Quoted local parts and address literals are refused: no card holder
 * needs them and the certificate's rfc822Name must stay plain.
 */
static bool
email_ok(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t n, labels = 0;

	if (at == NULL || at == s || at - s > 64 || strchr(at + 1, '@'))
		return false;
	if (s[0] == '.' || at[-1] == '.')
		return false;
	for (p = s; p < at; p++)
		if (!is_local_char((uint8_t)*p) || (p[0] == '.' && p[1] == '.'))
			return false;
	if (strlen(at + 1) > 253)
		return false;
	for (p = at + 1;; p += n + 1) {
		for (n = 0; is_label_char((uint8_t)p[n]); n++)
			;
		if (n == 0 || n > 63 || p[0] == '-' || p[n - 1] == '-')
			return false;
		labels++;
		if (p[n] == '\0')
			break;
		if (p[n] != '.')
			return false;
	}
	return labels >= 2;
}

/* Decimal u32, no sign, no leading zero. */
static bool
serial_ok(const char *s, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool
has_edge_space(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
	    s[n - 1] == '\t');
}

/* --- duplicate ids --- */

static enum cs_err
id_digest(const char *id, uint8_t d[ROSTER_DIGEST_LEN])
{
	char low[CS_ROSTER_ID_MAX];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i, n = strlen(id);

	/* ids have been checked: ASCII, at most CS_ROSTER_ID_MAX */
	for (i = 0; i < n; i++)
		low[i] = (id[i] >= 'A' && id[i] <= 'Z') ? id[i] - 'A' + 'a' :
		    id[i];
	if (EVP_Digest(low, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen < ROSTER_DIGEST_LEN)
		return CS_ERR_CRYPTO;
	memcpy(d, md, ROSTER_DIGEST_LEN);
	return CS_OK;
}

static size_t
id_slot(const struct seen_id *tab, size_t cap, const uint8_t *d)
{
	size_t i;

	memcpy(&i, d, sizeof(i));
	for (i &= cap - 1; tab[i].line != 0; i = (i + 1) & (cap - 1))
		if (cs_memeq_public(tab[i].d, d, ROSTER_DIGEST_LEN))
			break;
	return i;
}

static enum cs_err
id_grow(struct cs_roster *r)
{
	struct seen_id *tab;
	size_t cap = r->idcap == 0 ? 64 : r->idcap * 2, i;

	if ((tab = calloc(cap, sizeof(*tab))) == NULL)
		return CS_ERR_NOMEM;
	for (i = 0; i < r->idcap; i++)
		if (r->ids[i].line != 0)
			tab[id_slot(tab, cap, r->ids[i].d)] = r->ids[i];
	free(r->ids);
	r->ids = tab;
	r->idcap = cap;
	return CS_OK;
}

/*
 * Remember id (first seen on r->start); *prev is the line it was seen on
 * before, or 0.
 */
static enum cs_err
id_note(struct cs_roster *r, const char *id, unsigned long *prev)
{
	uint8_t d[ROSTER_DIGEST_LEN];
	size_t i;
	enum cs_err e;

	*prev = 0;
	if ((e = id_digest(id, d)) != CS_OK)
		return e;
	if (r->nids * 2 >= r->idcap && (e = id_grow(r)) != CS_OK)
		return e;
	i = id_slot(r->ids, r->idcap, d);
	if (r->ids[i].line != 0) {
		*prev = r->ids[i].line;
		return CS_OK;
	}
	memcpy(r->ids[i].d, d, ROSTER_DIGEST_LEN);
	r->ids[i].line = r->start;
	r->nids++;
	return CS_OK;
}

/* --- rows --- */

static enum cs_err
check_id(struct cs_roster *r, const char *id)
{
	char name[64];
	unsigned long prev;
	enum cs_err e;

	if (!check_name(r, "id", id, is_id_char, "A-Z a-z 0-9 . _ -"))
		return CS_OK;
	if ((e = id_note(r, id, &prev)) != CS_OK)
		return e;
	if (prev != 0) {
		shown(name, sizeof(name), id);
		rec_fail(r, CS_ERR_MALFORMED, r->start,
		    "duplicate id '%s' (first on line %lu)", name, prev);
	}
	return CS_OK;
}

static void
check_text(struct cs_roster *r, const char *what, const char *s)
{
	if (has_edge_space(s))
		rec_fail(r, CS_ERR_MALFORMED, r->start,
		    "%s: leading or trailing space", what);
	/*
	 * CSV allows a quoted line break, but no column takes one: in a
	 * certificate name it would be a second line in every log and UI.
	 */
	else if (strchr(s, '\n') != NULL)
		rec_fail(r, CS_ERR_MALFORMED, r->start,
		    "%s: line break inside the value", what);
}

/* Apply the column rules to a record that is good CSV; fill *row. */
static enum cs_err
check_row(struct cs_roster *r, struct cs_roster_row *row)
{
	const char *serial;
	enum cs_err e;

	if (r->nf != r->ncols) {
		rec_fail(r, CS_ERR_MALFORMED, r->start,
		    "%zu field%s, the header has %zu", r->nf,
		    r->nf == 1 ? "" : "s", r->ncols);
		return CS_OK;
	}
	row->id = colval(r, COL_ID);
	row->cn = colval(r, COL_CN);
	row->email = colval(r, COL_EMAIL);
	row->profile_set = colval(r, COL_PROFILE_SET);
	row->subject = colval(r, COL_SUBJECT);
	if (row->subject != NULL && row->subject[0] == '\0')
		row->subject = NULL;
	if ((e = check_id(r, row->id)) != CS_OK)
		return e;
	if (row->cn[0] == '\0' && row->subject == NULL)
		rec_fail(r, CS_ERR_MALFORMED, r->start,
		    "cn: empty (and no subject)");
	check_text(r, "cn", row->cn);
	if (!email_ok(row->email))
		rec_fail(r, CS_ERR_MALFORMED, r->start,
		    "email: not local@domain");
	(void)check_name(r, "profile_set", row->profile_set, is_set_char,
	    "a-z 0-9 _ -");
	if (row->subject != NULL) {
		check_text(r, "subject", row->subject);
		if (strchr(row->subject, '=') == NULL)
			rec_fail(r, CS_ERR_MALFORMED, r->start,
			    "subject: not a DN (no '=')");
	}
	serial = colval(r, COL_SERIAL);
	if (serial != NULL && serial[0] != '\0') {
		row->has_serial = true;
		if (!serial_ok(serial, &row->serial))
			rec_fail(r, CS_ERR_MALFORMED, r->start,
			    "serial: not a decimal number from 0 to 4294967295");
	}
	return CS_OK;
}

/* Stop reading for good: keep the detail for later calls. */
static enum cs_err
stop(struct cs_ctx *ctx, struct cs_roster *r, enum cs_err code,
    unsigned long line, const char *reason)
{
	r->stop = code;
	r->pline = line;
	(void)snprintf(r->preason, sizeof(r->preason), "%s", reason);
	(void)snprintf(r->stopmsg, sizeof(r->stopmsg), "%s",
	    cs_ctx_errmsg(ctx));
	return code;
}

/* The record's problem, as cs_roster_next reports it. */
static enum cs_err
row_fail(struct cs_ctx *ctx, struct cs_roster *r)
{
	r->pline = r->rline;
	(void)snprintf(r->preason, sizeof(r->preason), "%s", r->rreason);
	return csi_fail(ctx, r->rerr, "%s:%lu: %s", r->name, r->rline,
	    r->rreason);
}

/* Read past empty lines; a good row or a problem may be left pending. */
static enum cs_err
next_record(struct cs_ctx *ctx, struct cs_roster *r, bool *blank)
{
	unsigned long first = 0;
	enum cs_err e;

	*blank = false;
	for (;;) {
		if ((e = read_record(ctx, r)) != CS_OK)
			break;
		if (!rec_is_blank(r))
			break;
		if (first == 0)
			first = r->start;
	}
	if (e != CS_OK && e != CS_ERR_NOT_FOUND)
		return e;
	/* empty lines are fine only at the end of the file */
	if (e == CS_OK && first != 0) {
		r->pending = true;
		*blank = true;
		r->pline = first;
		(void)snprintf(r->preason, sizeof(r->preason), "empty line");
		return csi_fail(ctx, CS_ERR_MALFORMED, "%s:%lu: empty line",
		    r->name, first);
	}
	return e;
}

enum cs_err
cs_roster_next(struct cs_ctx *ctx, struct cs_roster *r,
    struct cs_roster_row *row)
{
	bool blank;
	char reason[ROSTER_REASON_MAX];
	enum cs_err e;

	if (row != NULL)
		memset(row, 0, sizeof(*row));
	if (r == NULL || row == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "roster: no roster or row");
	if (r->stop != CS_OK)
		return csi_fail(ctx, r->stop, "%s", r->stopmsg);
	if (r->pending)
		r->pending = false;
	else if ((e = next_record(ctx, r, &blank)) != CS_OK) {
		if (blank)
			row->line = r->pline;
		if (e == CS_ERR_NOT_FOUND || blank)
			return e;
		if (e == CS_ERR_MALFORMED)
			return stop(ctx, r, e, r->qline, UNCLOSED);
		(void)snprintf(reason, sizeof(reason), "%s",
		    cs_ctx_errmsg(ctx));
		return stop(ctx, r, e, r->line, reason);
	}
	row->line = r->start;
	if (++r->nrows > CS_ROSTER_ROWS_MAX) {
		(void)snprintf(reason, sizeof(reason), "more than %d rows",
		    CS_ROSTER_ROWS_MAX);
		(void)csi_fail(ctx, CS_ERR_LIMIT, "%s:%lu: %s", r->name,
		    r->start, reason);
		return stop(ctx, r, CS_ERR_LIMIT, r->start, reason);
	}
	/*
	 * A row refused for its syntax still claims a well-formed id, so a
	 * later duplicate is reported in the same check.
	 */
	if (r->rerr == CS_OK)
		e = check_row(r, row);
	else if (!r->overlong && r->nf == r->ncols)
		e = check_id(r, colval(r, COL_ID));
	else
		e = CS_OK;
	if (e != CS_OK) {
		(void)csi_fail(ctx, e, "%s: %s", r->name, cs_strerror(e));
		return stop(ctx, r, e, r->start, cs_strerror(e));
	}
	if (r->rerr != CS_OK) {
		memset(row, 0, sizeof(*row));
		row->line = r->start;
		return row_fail(ctx, r);
	}
	return CS_OK;
}

/* --- check --- */

struct report {
	struct cs_buf buf;
	size_t n;
	enum cs_err first; /* code of the first problem */
	unsigned long fline;
	char freason[ROSTER_REASON_MAX];
	cs_roster_problem_fn *fn;
	void *arg;
};

static enum cs_err
report_add(struct report *rep, enum cs_err code, unsigned long line,
    const char *reason)
{
	char text[ROSTER_REASON_MAX + 32];

	if (rep->n++ == 0) {
		rep->first = code;
		rep->fline = line;
		(void)snprintf(rep->freason, sizeof(rep->freason), "%s",
		    reason);
	}
	if (rep->n > CS_ROSTER_PROBLEMS_MAX)
		return CS_OK;
	if (rep->fn != NULL)
		rep->fn(rep->arg, line, reason);
	(void)snprintf(text, sizeof(text), "%lu: %s\n", line, reason);
	return cs_buf_put(&rep->buf, text, strlen(text));
}

/* Every row to the end (or to a stop); only fatal errors fail. */
static enum cs_err
check_loop(struct cs_ctx *ctx, struct cs_roster *r, struct report *rep)
{
	struct cs_roster_row row;
	enum cs_err e;

	for (;;) {
		e = cs_roster_next(ctx, r, &row);
		if (e == CS_ERR_NOT_FOUND)
			return CS_OK;
		if (e == CS_OK)
			continue;
		if (e != CS_ERR_MALFORMED && e != CS_ERR_LIMIT)
			return e;
		if ((e = report_add(rep, e, r->pline, r->preason)) != CS_OK)
			return csi_fail(ctx, e, "%s: report: %s", r->name,
			    cs_strerror(e));
		if (r->stop != CS_OK)
			return CS_OK;
	}
}

static enum cs_err
report_finish(struct cs_ctx *ctx, struct cs_roster *r, struct report *rep,
    char **report)
{
	char more[64];
	uint8_t *p = NULL;
	size_t len, extra;
	enum cs_err e = CS_OK;

	if (rep->n > CS_ROSTER_PROBLEMS_MAX) {
		extra = rep->n - CS_ROSTER_PROBLEMS_MAX;
		(void)snprintf(more, sizeof(more), "and %zu more problem%s\n",
		    extra, extra == 1 ? "" : "s");
		e = cs_buf_put(&rep->buf, more, strlen(more));
	}
	if (e == CS_OK && report != NULL &&
	    (e = cs_buf_put_u8(&rep->buf, 0)) == CS_OK &&
	    (e = cs_buf_take(&rep->buf, &p, &len)) == CS_OK)
		*report = (char *)p;
	if (e != CS_OK)
		return csi_fail(ctx, e, "%s: report: %s", r->name,
		    cs_strerror(e));
	return CS_OK;
}

enum cs_err
cs_roster_check(struct cs_ctx *ctx, struct cs_roster *r,
    cs_roster_problem_fn *fn, void *arg, struct cs_roster_stats *st,
    char **report)
{
	struct report rep = { CS_BUF_INIT(ROSTER_REPORT_MAX), 0, CS_OK, 0,
		"", fn, arg };
	enum cs_err e = CS_ERR_INTERNAL;

	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (report != NULL)
		*report = NULL;
	if (r == NULL)
		return csi_fail(ctx, CS_ERR_ARG, "roster: no roster");
	if ((e = check_loop(ctx, r, &rep)) != CS_OK ||
	    (e = report_finish(ctx, r, &rep, report)) != CS_OK)
		goto out;
	if (st != NULL) {
		st->rows = r->nrows > CS_ROSTER_ROWS_MAX ? CS_ROSTER_ROWS_MAX :
		    r->nrows;
		st->problems = rep.n;
	}
	if (rep.n > 0)
		e = csi_fail(ctx, rep.first,
		    "%s: %zu problem%s, first at line %lu: %s", r->name, rep.n,
		    rep.n == 1 ? "" : "s", rep.fline, rep.freason);
	else if (r->nrows == 0 && !(r->flags & CS_ROSTER_ALLOW_EMPTY))
		e = csi_fail(ctx, CS_ERR_NOT_FOUND, "%s: no rows", r->name);
	else
		e = CS_OK;
out:
	if (e != CS_OK && e != rep.first && e != CS_ERR_NOT_FOUND &&
	    report != NULL) {
		cs_free(*report);
		*report = NULL;
	}
	cs_buf_release(&rep.buf);
	return e;
}
