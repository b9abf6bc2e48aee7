/*
 * Unit tests for lib/roster.c: the batch roster reader. Good rosters
 * (quotes, commas, UTF-8, BOM, CRLF, multi-line fields, optional columns,
 * the shipped example) and one test per refusal rule, each checking the
 * line number and reason that cs_roster_check reports.
 */
#include <sys/stat.h>

#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/roster.h"

#include "banned.h"

#define HDR "id,cn,email,profile_set\n"

struct T {
	struct cs_ctx *ctx;
	struct cs_roster *r;
	char *report;
	struct cs_roster_stats st;
	char dir[64];
	char path[128];
	unsigned int ncb;
	unsigned long cblines[CS_ROSTER_PROBLEMS_MAX + 1];
};

static int
setup(void **state)
{
	struct T *t = calloc(1, sizeof(*t));

	if (t == NULL || cs_ctx_new(&t->ctx) != CS_OK)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/cs-test-roster.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/r.csv", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct T *t = *state;

	cs_roster_close(t->r);
	cs_free(t->report);
	(void)unlink(t->path);
	(void)rmdir(t->dir);
	cs_ctx_free(t->ctx);
	free(t);
	return 0;
}

static void
on_problem(void *arg, unsigned long line, const char *reason)
{
	struct T *t = arg;

	assert_non_null(reason);
	assert_true(reason[0] != '\0');
	assert_true(t->ncb < CS_ROSTER_PROBLEMS_MAX);
	t->cblines[t->ncb++] = line;
}

static enum cs_err
open_n(struct T *t, const char *text, size_t len, unsigned int flags)
{
	cs_roster_close(t->r);
	t->r = NULL;
	return cs_roster_open_mem(t->ctx, "r.csv", (const uint8_t *)text, len,
	    flags, &t->r);
}

static enum cs_err
open_s(struct T *t, const char *text)
{
	return open_n(t, text, strlen(text), 0);
}

/* Open and check len bytes; the open error if the header is refused. */
static enum cs_err
check_n(struct T *t, const char *text, size_t len, unsigned int flags)
{
	enum cs_err e;

	cs_free(t->report);
	t->report = NULL;
	t->ncb = 0;
	if ((e = open_n(t, text, len, flags)) != CS_OK)
		return e;
	return cs_roster_check(t->ctx, t->r, on_problem, t, &t->st,
	    &t->report);
}

static enum cs_err
check_s(struct T *t, const char *text)
{
	return check_n(t, text, strlen(text), 0);
}

/* text is refused by check with exactly one problem, want in the report. */
static void
one_problem(struct T *t, const char *text, enum cs_err code,
    const char *want)
{
	enum cs_err e = check_s(t, text);

	if (e != code || t->st.problems != 1 || t->report == NULL ||
	    strstr(t->report, want) == NULL)
		fail_msg("input %s: got %s, %zu problems, report '%s' (want "
		    "'%s'), ctx '%s'", text, cs_errname(e), t->st.problems,
		    t->report != NULL ? t->report : "(null)", want,
		    cs_ctx_errmsg(t->ctx));
}

/* The header of text is refused by cs_roster_open with want in ctx. */
static void
bad_header(struct T *t, const char *text, const char *want)
{
	enum cs_err e = open_s(t, text);

	if (e != CS_ERR_MALFORMED || t->r != NULL ||
	    strstr(cs_ctx_errmsg(t->ctx), want) == NULL)
		fail_msg("header %s: got %s '%s' (want '%s')", text,
		    cs_errname(e), cs_ctx_errmsg(t->ctx), want);
}

static void
next_ok(struct T *t, struct cs_roster_row *row)
{
	enum cs_err e = cs_roster_next(t->ctx, t->r, row);

	if (e != CS_OK)
		fail_msg("next: %s '%s'", cs_errname(e), cs_ctx_errmsg(t->ctx));
}

static void
next_end(struct T *t)
{
	struct cs_roster_row row;

	assert_int_equal(cs_roster_next(t->ctx, t->r, &row), CS_ERR_NOT_FOUND);
	assert_null(row.id);
}

/* --- good rosters --- */

static void
test_roster_reads_shipped_example(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;
	const char *src = getenv("CS_SRC");
	char path[4096];
	unsigned int n = 0;

	snprintf(path, sizeof(path), "%s/profiles/roster-example.csv",
	    src != NULL ? src : ".");
	assert_int_equal(cs_roster_open(t->ctx, path, 0, &t->r), CS_OK);
	assert_int_equal(cs_roster_check(t->ctx, t->r, NULL, NULL, &t->st,
	    NULL), CS_OK);
	assert_int_equal(t->st.rows, 6);
	cs_roster_close(t->r);
	assert_int_equal(cs_roster_open(t->ctx, path, 0, &t->r), CS_OK);
	while (cs_roster_next(t->ctx, t->r, &row) == CS_OK) {
		n++;
		assert_int_equal(row.line, n + 1);
		assert_true(strcmp(row.profile_set, "default") == 0 ||
		    strcmp(row.profile_set, "default-9e") == 0);
		if (n == 2)
			assert_string_equal(row.cn, "Jones, Robert");
		if (n == 3) {
			assert_string_equal(row.cn, "Zo\xc3\xab M\xc3\xbcller");
			assert_true(row.has_serial);
			assert_int_equal(row.serial, 12345678);
		}
		if (n == 5) {
			assert_string_equal(row.cn, "");
			assert_non_null(row.subject);
			assert_non_null(strstr(row.subject, "CN=Operations"));
		}
	}
	assert_int_equal(n, 6);
	assert_false(cs_roster_is_stopped(t->r));
}

static void
test_roster_quotes_commas_and_doubled_quotes(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;

	assert_int_equal(open_s(t, HDR
	    "\"a1\",\"Smith, John \"\"JJ\"\"\",\"j@e.com\",default\n"
	    "a2,\"\",a2@e.com,default\n"), CS_OK);
	next_ok(t, &row);
	assert_string_equal(row.id, "a1");
	assert_string_equal(row.cn, "Smith, John \"JJ\"");
	assert_string_equal(row.email, "j@e.com");
	assert_int_equal(row.line, 2);
	assert_null(row.subject);
	assert_false(row.has_serial);
	/* an empty quoted cn is still an empty cn */
	assert_int_equal(cs_roster_next(t->ctx, t->r, &row), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(t->ctx),
	    "r.csv:3: cn: empty (and no subject)");
	assert_int_equal(row.line, 3);
	next_end(t);
}

static void
test_roster_utf8_names(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;

	/* 2-, 3- and 4-byte sequences, the largest code point */
	assert_int_equal(open_s(t, HDR
	    "z,Zo\xc3\xab M\xc3\xbcller \xe6\x9d\x8e \xf0\x9f\x98\x80 "
	    "\xf4\x8f\xbf\xbf,z@e.com,default\n"), CS_OK);
	next_ok(t, &row);
	assert_string_equal(row.cn, "Zo\xc3\xab M\xc3\xbcller \xe6\x9d\x8e "
	    "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
	next_end(t);
}

static void
test_roster_bom_and_crlf(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;

	assert_int_equal(open_s(t, "\xef\xbb\xbfid,cn,email,profile_set\r\n"
	    "a,A,a@e.com,default\r\n"
	    "b,\"B\",b@e.com,default-9e\r\n"), CS_OK);
	next_ok(t, &row);
	assert_string_equal(row.id, "a");
	assert_string_equal(row.profile_set, "default");
	next_ok(t, &row);
	assert_string_equal(row.profile_set, "default-9e");
	assert_int_equal(row.line, 3);
	next_end(t);
	/* a byte order mark may come before a quoted header name */
	assert_int_equal(check_s(t, "\xef\xbb\xbf\"id\",cn,email,profile_set\n"
	    "a,A,a@e.com,default\n"), CS_OK);
	/* other characters at the start are data like any other */
	bad_header(t, "\xe6\x9d\x8e\"id\",cn,email,profile_set\n",
	    "r.csv:1: header: quote inside an unquoted field");
	bad_header(t, "\xef\xbb\"id\",cn,email,profile_set\n",
	    "r.csv:1: header: invalid UTF-8 (truncated sequence)");
}

static void
test_roster_line_numbers_after_multiline_field(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;
	const char *text = HDR
	    "m,\"Line one\r\nline two\nline three\",m@e.com,default\n"
	    "n,N,n@e.com,default\n"
	    "o,O,not-an-email,default\n";

	assert_int_equal(open_s(t, text), CS_OK);
	/* good CSV, but no column takes a line break */
	assert_int_equal(cs_roster_next(t->ctx, t->r, &row), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(t->ctx),
	    "r.csv:2: cn: line break inside the value");
	next_ok(t, &row);
	assert_int_equal(row.line, 5);
	assert_int_equal(cs_roster_next(t->ctx, t->r, &row), CS_ERR_MALFORMED);
	assert_int_equal(row.line, 6);
	assert_string_equal(cs_ctx_errmsg(t->ctx),
	    "r.csv:6: email: not local@domain");
	assert_int_equal(check_s(t, text), CS_ERR_MALFORMED);
	assert_int_equal(t->st.problems, 2);
}

static void
test_roster_end_of_file_forms(void **state)
{
	struct T *t = *state;

	/* no final line break, one or more trailing empty lines */
	assert_int_equal(check_s(t, HDR "a,A,a@e.com,default"), CS_OK);
	assert_int_equal(t->st.rows, 1);
	assert_int_equal(check_s(t, HDR "a,A,a@e.com,default\n\n"), CS_OK);
	assert_int_equal(check_s(t, HDR "a,A,a@e.com,default\r\n\r\n\n"),
	    CS_OK);
	assert_string_equal(t->report, "");
	assert_int_equal(t->st.problems, 0);
}

static void
test_roster_header_only_is_no_rows(void **state)
{
	struct T *t = *state;

	assert_int_equal(check_s(t, HDR), CS_ERR_NOT_FOUND);
	assert_string_equal(cs_ctx_errmsg(t->ctx), "r.csv: no rows");
	assert_int_equal(t->st.rows, 0);
	assert_int_equal(t->st.problems, 0);
	assert_int_equal(check_n(t, HDR "\n", strlen(HDR "\n"),
	    CS_ROSTER_ALLOW_EMPTY), CS_OK);
	assert_int_equal(open_s(t, HDR), CS_OK);
	next_end(t);
}

static void
test_roster_columns_in_any_order_with_optional(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;

	assert_int_equal(open_s(t,
	    "serial,profile_set,subject,email,cn,id\n"
	    "4294967295,default,\"CN=Ops,O=Ex\",o@e.com,,ops\n"
	    "0,default,,z@e.com,Zed,z\n"
	    ",default,,y@e.com,Why,y\n"), CS_OK);
	next_ok(t, &row);
	assert_string_equal(row.id, "ops");
	assert_string_equal(row.cn, "");
	assert_string_equal(row.subject, "CN=Ops,O=Ex");
	assert_true(row.has_serial);
	assert_int_equal(row.serial, 4294967295u);
	next_ok(t, &row);
	assert_null(row.subject);
	assert_true(row.has_serial);
	assert_int_equal(row.serial, 0);
	next_ok(t, &row);
	assert_false(row.has_serial);
	next_end(t);
}

static void
test_roster_tab_allowed_in_cn(void **state)
{
	struct T *t = *state;

	assert_int_equal(check_s(t, HDR "a,A\tB,a@e.com,default\n"), CS_OK);
}

static void
test_roster_reads_file_in_chunks(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;
	FILE *f = fopen(t->path, "wb");
	unsigned int i, n = 0;

	/* far more than one read chunk, with a quoted comma on each row */
	assert_non_null(f);
	fputs("\xef\xbb\xbf" HDR, f);
	for (i = 0; i < 3000; i++)
		fprintf(f, "u%u,\"Name, %u\",u%u@example.com,default\r\n",
		    i, i, i);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cs_roster_open(t->ctx, t->path, 0, &t->r), CS_OK);
	assert_int_equal(cs_roster_check(t->ctx, t->r, NULL, NULL, &t->st,
	    NULL), CS_OK);
	assert_int_equal(t->st.rows, 3000);
	cs_roster_close(t->r);
	assert_int_equal(cs_roster_open(t->ctx, t->path, 0, &t->r), CS_OK);
	while (cs_roster_next(t->ctx, t->r, &row) == CS_OK) {
		assert_int_equal(row.line, 2 + n);
		n++;
	}
	assert_int_equal(n, 3000);
	assert_string_equal(row.id == NULL ? "" : row.id, "");
}

/*
 * Heap in use while streaming a 1 MB roster of 1,000 rows stays far
 * below its size: one chunk, one record, the id digests. (Under valgrind
 * or ASan mallinfo2 reports nothing and the bound holds trivially.)
 */
static void
test_roster_memory_flat_with_size(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;
	FILE *f = fopen(t->path, "wb");
	char pad[1001];
	size_t base, peak = 0, now;
	unsigned int i, n = 0;

	assert_non_null(f);
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	fputs("id,cn,email,profile_set,subject\n", f);
	for (i = 0; i < 1000; i++)
		fprintf(f, "u%u,Name %u,u%u@example.com,default,\"CN=%s\"\n", i,
		    i, i, pad);
	assert_int_equal(fclose(f), 0);
	base = mallinfo2().uordblks;
	assert_int_equal(cs_roster_open(t->ctx, t->path, 0, &t->r), CS_OK);
	while (cs_roster_next(t->ctx, t->r, &row) == CS_OK) {
		n++;
		now = mallinfo2().uordblks;
		peak = now > peak ? now : peak;
	}
	assert_int_equal(n, 1000);
	assert_true(peak < base + 128 * 1024);
}

static void
test_roster_open_errors(void **state)
{
	struct T *t = *state;

	assert_int_equal(cs_roster_open(t->ctx, "/nonexistent/r.csv", 0,
	    &t->r), CS_ERR_NOT_FOUND);
	assert_null(t->r);
	assert_non_null(strstr(cs_ctx_errmsg(t->ctx), "/nonexistent/r.csv"));
	assert_int_equal(cs_roster_open(t->ctx, t->dir, 0, &t->r), CS_ERR_IO);
	assert_null(t->r);
	assert_int_equal(cs_roster_open(t->ctx, NULL, 0, &t->r), CS_ERR_ARG);
	assert_int_equal(cs_roster_open_mem(t->ctx, "x", NULL, 1, 0, &t->r),
	    CS_ERR_ARG);
	bad_header(t, "", "r.csv:1: no header row (empty file)");
	bad_header(t, "\xef\xbb\xbf", "no header row");
	bad_header(t, "\n" HDR,
	    "r.csv:1: header: no header row (the first line is empty)");
}

/* --- CSV syntax --- */

static void
test_roster_rejects_bare_quote_in_unquoted_field(void **state)
{
	struct T *t = *state;

	one_problem(t, HDR "a,ab\"c,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: quote inside an unquoted field");
}

static void
test_roster_rejects_text_after_closing_quote(void **state)
{
	struct T *t = *state;

	one_problem(t, HDR "a,\"ab\"c,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: text after a closing quote");
	/* the record still ends where it should: the next row is good */
	one_problem(t, HDR "a,\"ab\" ,a@e.com,default\nb,B,b@e.com,default\n",
	    CS_ERR_MALFORMED, "2: text after a closing quote");
	assert_int_equal(t->st.rows, 2);
}

static void
test_roster_rejects_unterminated_quote(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;
	const char *text = HDR "a,A,a@e.com,default\n"
	    "b,B,b@e.com,default\n"
	    "c,\"open\nstill\nopen,c@e.com,default\n";

	/* the line where the quote opened, not where the input ended */
	one_problem(t, text, CS_ERR_MALFORMED,
	    "4: quote opened here is never closed");
	assert_int_equal(open_s(t, text), CS_OK);
	next_ok(t, &row);
	next_ok(t, &row);
	assert_int_equal(cs_roster_next(t->ctx, t->r, &row), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(t->ctx),
	    "r.csv:4: quote opened here is never closed");
	assert_true(cs_roster_is_stopped(t->r));
	/* a stopped reader repeats itself */
	assert_int_equal(cs_roster_next(t->ctx, t->r, &row), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(t->ctx),
	    "r.csv:4: quote opened here is never closed");
	bad_header(t, "id,\"cn,email,profile_set\n",
	    "r.csv:1: quote opened here is never closed");
}

static void
test_roster_rejects_invalid_utf8(void **state)
{
	struct T *t = *state;
	static const struct {
		const char *cn, *want;
	} cases[] = {
		{ "\xc0\xaf", "invalid UTF-8 (overlong encoding)" },
		{ "\xe0\x80\xaf", "invalid UTF-8 (overlong encoding)" },
		{ "\xf0\x80\x80\xaf", "invalid UTF-8 (overlong encoding)" },
		{ "\xed\xa0\x80", "invalid UTF-8 (UTF-16 surrogate U+D800)" },
		{ "\xed\xbf\xbf", "invalid UTF-8 (UTF-16 surrogate U+DFFF)" },
		{ "\xf4\x90\x80\x80", "invalid UTF-8 (above U+10FFFF)" },
		{ "\xf5\x80\x80\x80", "invalid UTF-8 (byte 0xf5" },
		{ "\xff", "invalid UTF-8 (byte 0xff" },
		{ "a\x80", "invalid UTF-8 (stray continuation byte 0x80)" },
		{ "\xc3", "invalid UTF-8 (truncated sequence)" },
		{ "\xe6\x9d", "invalid UTF-8 (truncated sequence)" },
		{ "\xe6\x9d" "A", "invalid UTF-8 (truncated sequence)" },
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), HDR "ok,OK,o@e.com,default\n"
		    "a,%s,a@e.com,default\n", cases[i].cn);
		one_problem(t, text, CS_ERR_MALFORMED, cases[i].want);
		assert_non_null(strstr(t->report, "3: "));
	}
}

static void
test_roster_rejects_control_characters(void **state)
{
	struct T *t = *state;
	static const char *const want[] = {
		"2: control character 0x01",
		"2: control character 0x1f",
		"2: control character 0x7f",
		"2: control character U+0085",
		"2: control character 0x0d (CR not followed by LF)",
		"3: control character 0x1b",
	};
	static const char *const texts[] = {
		HDR "a,A\x01,a@e.com,default\n",
		HDR "a,A\x1f,a@e.com,default\n",
		HDR "a,A\x7f,a@e.com,default\n",
		HDR "a,A\xc2\x85,a@e.com,default\n",
		HDR "a,A\rB,a@e.com,default\n",
		HDR "a,\"two\n\x1blines\",a@e.com,default\n",
	};
	static const char nul[] = HDR "a,A\0B,a@e.com,default\n";
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		one_problem(t, texts[i], CS_ERR_MALFORMED, want[i]);
	assert_int_equal(check_n(t, nul, sizeof(nul) - 1, 0),
	    CS_ERR_MALFORMED);
	assert_string_equal(t->report, "2: NUL byte\n");
}

static void
test_roster_rejects_bom_after_start(void **state)
{
	struct T *t = *state;

	one_problem(t, HDR "a,\xef\xbb\xbf" "A,a@e.com,default\n",
	    CS_ERR_MALFORMED, "2: byte order mark (U+FEFF) is allowed only");
	bad_header(t, "\xef\xbb\xbf\xef\xbb\xbfid,cn,email,profile_set\n",
	    "byte order mark");
}

static void
test_roster_rejects_wrong_field_count(void **state)
{
	struct T *t = *state;

	one_problem(t, HDR "a,A,a@e.com\n", CS_ERR_MALFORMED,
	    "2: 3 fields, the header has 4");
	one_problem(t, HDR "a,A,a@e.com,default,\n", CS_ERR_MALFORMED,
	    "2: 5 fields, the header has 4");
	one_problem(t, HDR "a,A,a@e.com,default,1,2,3,4,5,6\n",
	    CS_ERR_MALFORMED, "2: 10 fields, the header has 4");
	one_problem(t, HDR "\"\"\n", CS_ERR_MALFORMED,
	    "2: 1 field, the header has 4");
}

static void
test_roster_rejects_empty_line_between_rows(void **state)
{
	struct T *t = *state;
	struct cs_roster_row row;
	const char *text = HDR "a,A,a@e.com,default\n\n\r\nb,B,b@e.com,default\n";

	one_problem(t, text, CS_ERR_MALFORMED, "3: empty line");
	assert_int_equal(t->st.rows, 2);
	assert_int_equal(open_s(t, text), CS_OK);
	next_ok(t, &row);
	assert_int_equal(cs_roster_next(t->ctx, t->r, &row), CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(t->ctx), "r.csv:3: empty line");
	next_ok(t, &row);
	assert_string_equal(row.id, "b");
	assert_int_equal(row.line, 5);
	next_end(t);
}

/* --- header --- */

static void
test_roster_header_rules(void **state)
{
	struct T *t = *state;

	bad_header(t, "id,cn,email\n",
	    "r.csv:1: header: missing required column profile_set");
	bad_header(t, "cn,serial\n",
	    "missing required columns id, email, profile_set");
	bad_header(t, "id,cn,email,profile_set,cn\n",
	    "header: column 'cn' given twice");
	bad_header(t, "id,cn,email,profile_set,mail\n",
	    "header: unknown column 'mail' (known: id, cn, email, "
	    "profile_set, subject, serial)");
	/* names are exact: no case folding, no trimming */
	bad_header(t, "ID,cn,email,profile_set\n", "unknown column 'ID'");
	bad_header(t, "id, cn,email,profile_set\n", "unknown column ' cn'");
	bad_header(t, "id,cn,email,profile_set,,\n", "unknown column ''");
	bad_header(t, "id,cn,email,profile_set,a,b,c,d,e\n",
	    "more than 8 columns");
	/* quoted names are fine */
	assert_int_equal(open_s(t, "\"id\",\"cn\",\"email\",\"profile_set\"\n"),
	    CS_OK);
}

/* --- column rules --- */

static void
test_roster_id_rules(void **state)
{
	struct T *t = *state;
	char text[256], id[70];

	one_problem(t, HDR ",A,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: id: empty");
	one_problem(t, HDR "a b,A,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: id: byte 0x20 not allowed (use A-Z a-z 0-9 . _ -)");
	one_problem(t, HDR "a/b,A,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: id: '/' not allowed");
	one_problem(t, HDR "z\xc3\xab,A,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: id: byte 0xc3 not allowed");
	memset(id, 'x', 64);
	id[64] = '\0';
	snprintf(text, sizeof(text), HDR "%s,A,a@e.com,default\n", id);
	assert_int_equal(check_s(t, text), CS_OK);
	snprintf(text, sizeof(text), HDR "%sx,A,a@e.com,default\n", id);
	one_problem(t, text, CS_ERR_MALFORMED,
	    "2: id: longer than 64 characters");
	assert_int_equal(check_s(t, HDR "A.b_c-9,A,a@e.com,default\n"), CS_OK);
}

static void
test_roster_rejects_duplicate_id(void **state)
{
	struct T *t = *state;

	one_problem(t, HDR "a,A,a@e.com,default\nb,B,b@e.com,default\n"
	    "a,A2,a@e.com,default\n", CS_ERR_MALFORMED,
	    "4: duplicate id 'a' (first on line 2)");
	/* ids differing only in ASCII case are the same id */
	one_problem(t, HDR "Alice,A,a@e.com,default\nALICE,A,a@e.com,default\n",
	    CS_ERR_MALFORMED, "3: duplicate id 'ALICE' (first on line 2)");
	/* a bad row still claims its id */
	one_problem(t, HDR "a,,a@e.com,default\n", CS_ERR_MALFORMED, "2: cn");
	assert_int_equal(check_s(t, HDR "a,,a@e.com,default\n"
	    "a,A,a@e.com,default\n"), CS_ERR_MALFORMED);
	assert_non_null(strstr(t->report, "3: duplicate id 'a' (first on line 2)"));
}

static void
test_roster_cn_rules(void **state)
{
	struct T *t = *state;

	one_problem(t, HDR "a,,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: cn: empty (and no subject)");
	one_problem(t, "id,cn,email,profile_set,subject\na,,a@e.com,default,\n",
	    CS_ERR_MALFORMED, "2: cn: empty (and no subject)");
	one_problem(t, HDR "a, Alice,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: cn: leading or trailing space");
	one_problem(t, HDR "a,Alice ,a@e.com,default\n", CS_ERR_MALFORMED,
	    "2: cn: leading or trailing space");
	assert_int_equal(check_s(t, "id,cn,email,profile_set,subject\n"
	    "a,,a@e.com,default,CN=A\n"), CS_OK);
}

static void
test_roster_subject_rules(void **state)
{
	struct T *t = *state;

	one_problem(t, "id,cn,email,profile_set,subject\n"
	    "a,A,a@e.com,default,Alice\n", CS_ERR_MALFORMED,
	    "2: subject: not a DN (no '=')");
	one_problem(t, "id,cn,email,profile_set,subject\n"
	    "a,A,a@e.com,default,\" CN=A\"\n", CS_ERR_MALFORMED,
	    "2: subject: leading or trailing space");
}

static void
test_roster_email_rules(void **state)
{
	struct T *t = *state;
	static const char *const bad[] = {
		"alice", "@e.com", "a@", "a@e", "a@@e.com", "a@b@e.com",
		"a b@e.com", "a@e .com", "a@-e.com", "a@e-.com", "a@e..com",
		"a..b@e.com", ".a@e.com", "a.@e.com", "a@.e.com", "a@e.com.",
		"\"\"a\"\"@e.com", "a@[1.2.3.4]", "a@e_x.com", "z\xc3\xab@e.com",
	};
	static const char *const good[] = {
		"a@e.co", "first.last+tag@sub.example.org", "x-1@a-b.c9",
		"o'brien@e.ie",
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HDR "a,A,\"%s\",default\n", bad[i]);
		one_problem(t, text, CS_ERR_MALFORMED,
		    "2: email: not local@domain");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), HDR "a,A,%s,default\n", good[i]);
		if (check_s(t, text) != CS_OK)
			fail_msg("%s: %s", good[i], cs_ctx_errmsg(t->ctx));
	}
}

static void
test_roster_profile_set_rules(void **state)
{
	struct T *t = *state;
	char text[256], set[70];

	one_problem(t, HDR "a,A,a@e.com,\n", CS_ERR_MALFORMED,
	    "2: profile_set: empty");
	one_problem(t, HDR "a,A,a@e.com,Default\n", CS_ERR_MALFORMED,
	    "2: profile_set: 'D' not allowed (use a-z 0-9 _ -)");
	one_problem(t, HDR "a,A,a@e.com,de.fault\n", CS_ERR_MALFORMED,
	    "2: profile_set: '.' not allowed");
	memset(set, 'p', 65);
	set[65] = '\0';
	snprintf(text, sizeof(text), HDR "a,A,a@e.com,%s\n", set);
	one_problem(t, text, CS_ERR_MALFORMED,
	    "2: profile_set: longer than 64 characters");
	assert_int_equal(check_s(t, HDR "a,A,a@e.com,set_9-e\n"), CS_OK);
}

static void
test_roster_serial_rules(void **state)
{
	struct T *t = *state;
	static const char *const bad[] = {
		"-1", "+1", "4294967296", "99999999999", "12a", "007", " 1",
		"0x10", "1.0",
	};
	char text[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "id,cn,email,profile_set,serial\n"
		    "a,A,a@e.com,default,\"%s\"\n", bad[i]);
		one_problem(t, text, CS_ERR_MALFORMED,
		    "2: serial: not a decimal number from 0 to 4294967295");
	}
}

/* --- limits --- */

static void
test_roster_field_length_limit(void **state)
{
	struct T *t = *state;
	char *text = malloc(CS_ROSTER_RECORD_MAX + 256), cn[1100];

	assert_non_null(text);
	memset(cn, 'n', CS_ROSTER_FIELD_MAX);
	cn[CS_ROSTER_FIELD_MAX] = '\0';
	snprintf(text, CS_ROSTER_RECORD_MAX + 256, HDR "a,%s,a@e.com,default\n",
	    cn);
	assert_int_equal(check_s(t, text), CS_OK);
	snprintf(text, CS_ROSTER_RECORD_MAX + 256,
	    HDR "a,%sn,a@e.com,default\nb,B,b@e.com,default\n", cn);
	one_problem(t, text, CS_ERR_LIMIT, "2: field longer than 1024 bytes");
	assert_int_equal(t->st.rows, 2);
	free(text);
}

/* Row "a,<cn>,a@e.com,default,<subject>" with quotes doubled in both. */
static size_t
quote_row(char *text, size_t cap, size_t ncn, const char *dn, size_t ndn)
{
	size_t n, i;

	n = (size_t)snprintf(text, cap, "id,cn,email,profile_set,subject\n"
	    "a,\"");
	for (i = 0; i < 2 * ncn; i++)
		text[n++] = '"';
	n += (size_t)snprintf(text + n, cap - n, "\",a@e.com,default,\"%s",
	    dn);
	for (i = 0; i < 2 * ndn; i++)
		text[n++] = '"';
	n += (size_t)snprintf(text + n, cap - n, "\"\nb,B,b@e.com,default,\n");
	return n;
}

static void
test_roster_record_length_limit(void **state)
{
	struct T *t = *state;
	size_t cap = 3 * CS_ROSTER_RECORD_MAX, n;
	char *text = malloc(cap);

	/*
	 * Doubled quotes make a record longer than its fields: 28 bytes of
	 * frame plus 2 * (1017 + 1017) is exactly the limit.
	 */
	assert_non_null(text);
	n = quote_row(text, cap, 1017, "CN=xy", 1017);
	assert_int_equal(check_n(t, text, n, 0), CS_OK);
	n = quote_row(text, cap, 1017, "CN=xyz", 1017);
	assert_int_equal(check_n(t, text, n, 0), CS_ERR_LIMIT);
	assert_string_equal(t->report, "2: record longer than 4096 bytes\n");
	assert_int_equal(t->st.rows, 2);
	/* many short fields trip it too, and the next row is still read */
	n = (size_t)snprintf(text, cap, HDR "a,A,a@e.com,default");
	while (n < strlen(HDR) + CS_ROSTER_RECORD_MAX + 1)
		text[n++] = ',';
	(void)snprintf(text + n, cap - n, "\nb,B,b@e.com,default\n");
	one_problem(t, text, CS_ERR_LIMIT, "2: record longer than 4096 bytes");
	assert_int_equal(t->st.rows, 2);
	free(text);
}

static void
test_roster_row_limit(void **state)
{
	struct T *t = *state;
	size_t cap = (size_t)(CS_ROSTER_ROWS_MAX + 2) * 32 + 64, n, i;
	char *text = malloc(cap);

	assert_non_null(text);
	n = (size_t)snprintf(text, cap, HDR);
	for (i = 0; i < CS_ROSTER_ROWS_MAX; i++)
		n += (size_t)snprintf(text + n, cap - n, "u%zu,U,u@e.com,d\n",
		    i);
	assert_int_equal(check_n(t, text, n, 0), CS_OK);
	assert_int_equal(t->st.rows, CS_ROSTER_ROWS_MAX);
	n += (size_t)snprintf(text + n, cap - n, "v,V,v@e.com,d\n");
	n += (size_t)snprintf(text + n, cap - n, "w,W,w@e.com,d\n");
	assert_int_equal(check_n(t, text, n, 0), CS_ERR_LIMIT);
	assert_int_equal(t->st.problems, 1);
	assert_string_equal(t->report, "100002: more than 100000 rows\n");
	free(text);
}

/* --- check reporting --- */

static void
test_roster_check_reports_all_problems_up_to_cap(void **state)
{
	struct T *t = *state;
	char text[8192];
	size_t n, i;
	const char *last;

	n = (size_t)snprintf(text, sizeof(text), HDR);
	for (i = 0; i < 25; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "g%zu,G,g@e.com,default\nb%zu,B,bad,default\n", i, i);
	assert_int_equal(check_s(t, text), CS_ERR_MALFORMED);
	assert_int_equal(t->st.rows, 50);
	assert_int_equal(t->st.problems, 25);
	assert_int_equal(t->ncb, CS_ROSTER_PROBLEMS_MAX);
	for (i = 0; i < t->ncb; i++)
		assert_int_equal(t->cblines[i], 3 + 2 * i);
	assert_true(strncmp(t->report, "3: email: not local@domain\n"
	    "5: email: not local@domain\n", 54) == 0);
	last = strrchr(t->report, '\n');
	assert_non_null(last);
	assert_non_null(strstr(t->report, "41: email: not local@domain\n"
	    "and 5 more problems\n"));
	assert_null(strstr(t->report, "43: "));
	assert_string_equal(cs_ctx_errmsg(t->ctx),
	    "r.csv: 25 problems, first at line 3: email: not local@domain");
}

static void
test_roster_check_mixed_problems(void **state)
{
	struct T *t = *state;
	const char *text = HDR
	    "x,ab\"c,x@e.com,default\n"
	    "y,\"ab\"c,y@e.com,default\n"
	    "z,\xc0\xaf,z@e.com,default\n"
	    "good,\"Multi\nline\",g@e.com,default\n"
	    "x,dup,x@e.com,default\n"
	    "\n"
	    "q,Q,q@e.com,Default\n"
	    "s,S,s@e.com,default,extra\n"
	    "t,T,t@e.com,\"open\n";

	assert_int_equal(check_s(t, text), CS_ERR_MALFORMED);
	assert_string_equal(t->report,
	    "2: quote inside an unquoted field\n"
	    "3: text after a closing quote\n"
	    "4: invalid UTF-8 (overlong encoding)\n"
	    "5: cn: line break inside the value\n"
	    "7: duplicate id 'x' (first on line 2)\n"
	    "8: empty line\n"
	    "9: profile_set: 'D' not allowed (use a-z 0-9 _ -)\n"
	    "10: 5 fields, the header has 4\n"
	    "11: quote opened here is never closed\n");
	assert_int_equal(t->st.problems, 9);
	assert_int_equal(t->ncb, 9);
}

static void
test_roster_check_without_outputs(void **state)
{
	struct T *t = *state;

	assert_int_equal(open_s(t, HDR "a,A,bad,default\n"), CS_OK);
	assert_int_equal(cs_roster_check(t->ctx, t->r, NULL, NULL, NULL, NULL),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_roster_check(t->ctx, NULL, NULL, NULL, NULL, NULL),
	    CS_ERR_ARG);
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_roster_reads_shipped_example),
		T_(test_roster_quotes_commas_and_doubled_quotes),
		T_(test_roster_utf8_names),
		T_(test_roster_bom_and_crlf),
		T_(test_roster_line_numbers_after_multiline_field),
		T_(test_roster_end_of_file_forms),
		T_(test_roster_header_only_is_no_rows),
		T_(test_roster_columns_in_any_order_with_optional),
		T_(test_roster_tab_allowed_in_cn),
		T_(test_roster_reads_file_in_chunks),
		T_(test_roster_memory_flat_with_size),
		T_(test_roster_open_errors),
		T_(test_roster_rejects_bare_quote_in_unquoted_field),
		T_(test_roster_rejects_text_after_closing_quote),
		T_(test_roster_rejects_unterminated_quote),
		T_(test_roster_rejects_invalid_utf8),
		T_(test_roster_rejects_control_characters),
		T_(test_roster_rejects_bom_after_start),
		T_(test_roster_rejects_wrong_field_count),
		T_(test_roster_rejects_empty_line_between_rows),
		T_(test_roster_header_rules),
		T_(test_roster_id_rules),
		T_(test_roster_rejects_duplicate_id),
		T_(test_roster_cn_rules),
		T_(test_roster_subject_rules),
		T_(test_roster_email_rules),
		T_(test_roster_profile_set_rules),
		T_(test_roster_serial_rules),
		T_(test_roster_field_length_limit),
		T_(test_roster_record_length_limit),
		T_(test_roster_row_limit),
		T_(test_roster_check_reports_all_problems_up_to_cap),
		T_(test_roster_check_mixed_problems),
		T_(test_roster_check_without_outputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
