/*
 * Batch roster: a strict, streaming RFC 4180 CSV reader for
 * `cardsmith batch` (issue 10).
 *
 * A roster is UTF-8 text (an optional byte order mark at the very start
 * only), comma separated, one record per line (LF or CRLF), with a header
 * row naming the columns. Columns, in any order:
 *   id           required, [A-Za-z0-9._-]{1,64}, unique (ASCII case is
 *                ignored when comparing, so "Alice" and "alice" clash)
 *   cn           required column; may be empty only when subject is given
 *   email        required, local@domain
 *   profile_set  required, [a-z0-9_-]{1,64}
 *   subject      optional, full DN that overrides cn when not empty
 *   serial       optional, card serial the row must go to: decimal u32
 * Fields may be double-quoted; inside quotes "" is one quote and commas
 * and line breaks are data. Line numbers are 1-based physical lines (a
 * quoted multi-line field counts every line it spans).
 *
 * The reader holds one record at a time (at most CS_ROSTER_RECORD_MAX
 * bytes) plus a small digest per id for the duplicate check, so memory
 * does not grow with the text of the roster.
 *
 * Typical use: cs_roster_open + cs_roster_check + cs_roster_close to
 * refuse a bad roster before touching any card, then cs_roster_open +
 * cs_roster_next until CS_ERR_NOT_FOUND + cs_roster_close to do the work.
 */
#ifndef CARDSMITH_ROSTER_H
#define CARDSMITH_ROSTER_H

#include "common.h"

/* Longest field, in bytes after unquoting. */
#define CS_ROSTER_FIELD_MAX 1024
/* Longest record, in bytes as written (quotes and separators included). */
#define CS_ROSTER_RECORD_MAX 4096
/* Most data rows in one roster. */
#define CS_ROSTER_ROWS_MAX 100000
/* Most problems cs_roster_check describes; the rest are only counted. */
#define CS_ROSTER_PROBLEMS_MAX 20
/* Longest id and profile_set. */
#define CS_ROSTER_ID_MAX 64

enum cs_roster_flags {
	/* cs_roster_check: a header-only roster is CS_OK, not "no rows". */
	CS_ROSTER_ALLOW_EMPTY = 1 << 0,
};

/* An open roster. Opaque. */
struct cs_roster;

/*
 * One data row. Every string is borrowed: valid until the next
 * cs_roster_next or cs_roster_close on the same roster, NUL-terminated,
 * valid UTF-8 without control characters other than TAB and (in cn and
 * subject only, from a quoted field) line breaks.
 */
struct cs_roster_row {
	unsigned long line; /* physical line the record starts on */
	const char *id;
	const char *cn; /* "" when the row relies on subject */
	const char *email;
	const char *profile_set;
	const char *subject; /* NULL when no subject column or empty */
	bool has_serial;     /* serial column present and not empty */
	uint32_t serial;
};

/* Counts from cs_roster_check. */
struct cs_roster_stats {
	size_t rows;     /* data records read, good or bad */
	size_t problems; /* problems found, those past the cap included */
};

/*
 * Called by cs_roster_check for each of the first CS_ROSTER_PROBLEMS_MAX
 * problems: line is the physical line, reason a printable phrase without
 * the line ("email: not local@domain"). Borrowed; valid during the call.
 */
typedef void cs_roster_problem_fn(void *arg, unsigned long line,
    const char *reason);

/*
 * Open the roster at path and read its header row. name is used in
 * messages; flags are enum cs_roster_flags. Caller closes *out with
 * cs_roster_close. Errors (detail "PATH:LINE: reason" in ctx):
 *   CS_ERR_NOT_FOUND / CS_ERR_IO  path cannot be opened or read
 *   CS_ERR_MALFORMED  no header row; bad CSV or UTF-8 in it; a missing
 *                     required, duplicate or unknown column (the message
 *                     lists the known ones)
 *   CS_ERR_LIMIT      header field or record too long
 *   CS_ERR_NOMEM, CS_ERR_ARG
 * On failure *out is NULL.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_roster_open(struct cs_ctx *ctx,
    const char *path, unsigned int flags, struct cs_roster **out);

/*
 * As cs_roster_open, reading len bytes at data instead of a file (data is
 * borrowed and must outlive *out); name stands for the path in messages.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_roster_open_mem(struct cs_ctx *ctx,
    const char *name, const uint8_t *data, size_t len, unsigned int flags,
    struct cs_roster **out);

/*
 * Read the next data row into *row.
 *   CS_OK             *row filled (borrowed strings, see above)
 *   CS_ERR_NOT_FOUND  no more rows (a header-only roster gives this at
 *                     once); *row cleared
 *   CS_ERR_MALFORMED, CS_ERR_LIMIT  a bad record: the detail in ctx is
 *                     "PATH:LINE: reason", *row is cleared except
 *                     row->line. The reader has skipped the record, so
 *                     the next call goes on with the following one,
 *                     unless cs_roster_is_stopped says the input cannot
 *                     be read further (quote left open at the end,
 *                     more than CS_ROSTER_ROWS_MAX rows)
 *   CS_ERR_IO, CS_ERR_NOMEM  fatal (cs_roster_is_stopped)
 * Once stopped, every further call returns the same code and detail.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_roster_next(struct cs_ctx *ctx,
    struct cs_roster *r, struct cs_roster_row *row);

/* True once cs_roster_next can make no more progress. */
CS_EXPORT bool cs_roster_is_stopped(const struct cs_roster *r);

/*
 * Read all remaining rows of a freshly opened roster and report every
 * problem: fn (may be NULL) gets the first CS_ROSTER_PROBLEMS_MAX; *report
 * (report may be NULL) gets them as "LINE: reason\n" lines followed by
 * "and N more problems\n" when there were more; *st (may be NULL) the
 * counts. Caller frees *report with cs_free; it is "" when there were no
 * problems. Returns:
 *   CS_OK             no problems and at least one row
 *   CS_ERR_NOT_FOUND  no problems but no rows either (header only),
 *                     "PATH: no rows"; CS_OK instead when the roster was
 *                     opened with CS_ROSTER_ALLOW_EMPTY
 *   CS_ERR_MALFORMED or CS_ERR_LIMIT (the code of the first problem)
 *                     "PATH: N problems, first at line L: reason"
 *   CS_ERR_IO, CS_ERR_NOMEM, CS_ERR_ARG
 * The roster is read to its end: close it afterwards.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_roster_check(struct cs_ctx *ctx,
    struct cs_roster *r, cs_roster_problem_fn *fn, void *arg,
    struct cs_roster_stats *st, char **report);

/* Close a roster (and its file); NULL is accepted. */
CS_EXPORT void cs_roster_close(struct cs_roster *r);

#endif
