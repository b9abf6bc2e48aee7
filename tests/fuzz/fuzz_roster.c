/*
 * Fuzz target: batch roster CSV (lib/roster.c). The input is opened as a
 * roster from memory. When the header is refused, the handle stays NULL
 * and the code is a parse code. Otherwise the roster is read twice:
 * once by cs_roster_check, once row by row with cs_roster_next, and the
 * two must agree: the same number of problems, CS_OK exactly when there
 * were rows and no problems, CS_ERR_NOT_FOUND exactly when there were
 * neither. Every row handed out obeys the column rules, line numbers only
 * grow, a stopped reader repeats its error, and the walk ends in at most
 * one step per input byte.
 *
 * Covers: cs_roster_open_mem, cs_roster_check, cs_roster_next,
 * cs_roster_is_stopped, cs_roster_close.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/roster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static bool
parse_err_ok(enum cs_err r)
{
	return r == CS_ERR_MALFORMED || r == CS_ERR_LIMIT || r == CS_ERR_NOMEM;
}

static bool
chars_ok(const char *s, const char *extra, bool lower_only)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (!lower_only && c >= 'A' && c <= 'Z') ||
		    strchr(extra, c) != NULL)
			continue;
		return false;
	}
	return i >= 1 && i <= CS_ROSTER_ID_MAX;
}

/* No control characters but TAB. */
static bool
text_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		uint8_t c = (uint8_t)s[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return i <= CS_ROSTER_FIELD_MAX;
}

static void
row_ok(const struct cs_roster_row *row)
{
	const char *at;

	check(row->id != NULL && row->cn != NULL && row->email != NULL &&
	    row->profile_set != NULL);
	check(chars_ok(row->id, "._-", false));
	check(chars_ok(row->profile_set, "_-", true));
	check(text_ok(row->cn) && text_ok(row->email));
	at = strchr(row->email, '@');
	check(at != NULL && at != row->email && at[1] != '\0');
	check(row->subject == NULL || (row->subject[0] != '\0' &&
	    text_ok(row->subject) && strchr(row->subject, '=') != NULL));
	check(row->cn[0] != '\0' || row->subject != NULL);
	check(row->has_serial || row->serial == 0);
}

/* Walk the rows one by one; count good rows and problems. */
static void
walk(struct cs_ctx *ctx, const uint8_t *data, size_t size, size_t *good,
    size_t *bad, bool *stopped)
{
	struct cs_roster *r = NULL;
	struct cs_roster_row row;
	unsigned long last = 1;
	size_t steps = 0;
	enum cs_err e;

	*good = *bad = 0;
	*stopped = false;
	check(cs_roster_open_mem(ctx, "fuzz", data, size, 0, &r) == CS_OK);
	for (;;) {
		check(steps++ <= size + 1);
		e = cs_roster_next(ctx, r, &row);
		if (e == CS_ERR_NOT_FOUND) {
			check(row.id == NULL && row.line == 0);
			check(!cs_roster_is_stopped(r));
			break;
		}
		if (e == CS_OK) {
			row_ok(&row);
			check(row.line > last);
			last = row.line;
			(*good)++;
			continue;
		}
		check(parse_err_ok(e));
		check(row.id == NULL);
		check(cs_ctx_errmsg(ctx)[0] != '\0');
		(*bad)++;
		if (cs_roster_is_stopped(r)) {
			*stopped = true;
			check(cs_roster_next(ctx, r, &row) == e);
			break;
		}
	}
	cs_roster_close(r);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	struct cs_ctx *ctx = NULL;
	struct cs_roster *r = NULL;
	struct cs_roster_stats st;
	char *report = NULL;
	size_t good, bad, want;
	bool stopped;
	enum cs_err e;

	if (data == NULL)
		data = empty;
	if (cs_ctx_new(&ctx) != CS_OK)
		return 0;
	e = cs_roster_open_mem(ctx, "fuzz", data, size, 0, &r);
	if (e != CS_OK) {
		check(r == NULL && parse_err_ok(e));
		check(cs_ctx_errmsg(ctx)[0] != '\0');
		cs_ctx_free(ctx);
		return 0;
	}
	e = cs_roster_check(ctx, r, NULL, NULL, &st, &report);
	cs_roster_close(r);
	r = NULL;
	if (e == CS_ERR_NOMEM) {
		cs_free(report);
		cs_ctx_free(ctx);
		return 0;
	}
	check(report != NULL);
	walk(ctx, data, size, &good, &bad, &stopped);
	check(st.problems == bad);
	check(st.rows >= good && st.rows <= good + bad);
	if (bad > 0)
		check(parse_err_ok(e));
	else if (good > 0)
		check(e == CS_OK);
	else
		check(e == CS_ERR_NOT_FOUND);
	want = bad > CS_ROSTER_PROBLEMS_MAX ? CS_ROSTER_PROBLEMS_MAX + 1 : bad;
	check(count_lines(report) == want);
	cs_free(report);

	/* CS_ROSTER_ALLOW_EMPTY changes only the header-only answer */
	check(cs_roster_open_mem(ctx, "fuzz", data, size,
	    CS_ROSTER_ALLOW_EMPTY, &r) == CS_OK);
	e = cs_roster_check(ctx, r, NULL, NULL, NULL, NULL);
	check(bad > 0 ? parse_err_ok(e) : e == CS_OK);
	cs_roster_close(r);
	cs_ctx_free(ctx);
	return 0;
}
