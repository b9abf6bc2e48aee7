/*
 * Registry, SQLite backend: cardsmith batch's rows (table batch_rows,
 * store_open.c has the schema; include/cardsmith/batch.h the contract).
 * The bind is one BEGIN IMMEDIATE transaction because batch workers are
 * separate processes, each with its own connection: two cards inserted
 * at once must never get the same row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include <openssl/evp.h>

#include "cardsmith/batch.h"

#include "store_int.h"

#include "banned.h"

static const char *const state_names[CS_BATCH_STATE_COUNT] = {
	"pending",
	"bound",
	"done",
	"failed",
};

const char *
cs_batch_state_name(enum cs_batch_state st)
{
	if ((unsigned int)st >= CS_BATCH_STATE_COUNT)
		return "unknown";
	return state_names[st];
}

#define ROW_COLS                                                               \
	"roster, row_id, seq, subject, email, profile_set, want_serial, "      \
	"card_serial, state, certs, error"

static void
read_row(sqlite3_stmt *st, struct cs_batch_row *o)
{
	const unsigned char *t;
	size_t i;

	memset(o, 0, sizeof(*o));
	csa_sq_col_text(st, 0, o->roster, sizeof(o->roster));
	csa_sq_col_text(st, 1, o->id, sizeof(o->id));
	o->seq = sqlite3_column_int64(st, 2);
	csa_sq_col_text(st, 3, o->subject, sizeof(o->subject));
	csa_sq_col_text(st, 4, o->email, sizeof(o->email));
	csa_sq_col_text(st, 5, o->profile_set, sizeof(o->profile_set));
	if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
		o->has_want = true;
		o->want_serial = (uint32_t)sqlite3_column_int64(st, 6);
	}
	if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
		o->bound = true;
		o->card_serial = (uint64_t)sqlite3_column_int64(st, 7);
	}
	t = sqlite3_column_text(st, 8);
	for (i = 0; t != NULL && i < CS_BATCH_STATE_COUNT; i++)
		if (strcmp(state_names[i], (const char *)t) == 0)
			o->state = (enum cs_batch_state)i;
	csa_sq_col_text(st, 9, o->certs, sizeof(o->certs));
	csa_sq_col_text(st, 10, o->error, sizeof(o->error));
}

enum cs_err
cs_batch_add(struct cs_ca *ca, const struct cs_batch_row *row)
{
	static const char q[] =
	    "INSERT OR IGNORE INTO batch_rows(roster, row_id, seq, subject, "
	    "email, profile_set, want_serial, state, updated) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((s = csa_sq_of(ca, "batch state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "batch row");
	sqlite3_bind_text(st, 1, row->roster, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, row->seq);
	sqlite3_bind_text(st, 4, row->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, row->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, row->profile_set, -1, SQLITE_STATIC);
	if (row->has_want)
		sqlite3_bind_int64(st, 7, (sqlite3_int64)row->want_serial);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
	r = sqlite3_step(st) == SQLITE_DONE ? CS_OK
	                                    : csa_sq_fail(s, "batch row");
	sqlite3_finalize(st);
	return r;
}

/* One row of query q bound with text a, integer b (if b >= 0). */
static enum cs_err
select_one(struct sq_store *s, const char *q, const char *a, int64_t b,
    struct cs_batch_row *out, bool *found)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*found = false;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "batch row");
	if (a != NULL)
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (b >= 0)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, out);
		*found = true;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return csa_sq_fail(s, "batch row");
	return CS_OK;
}

/* Does the card have a current enrollment record? */
static enum cs_err
enrolled(struct sq_store *s, uint64_t card, bool *yes)
{
	static const char q[] = "SELECT 1 FROM enrollments WHERE "
	                        "card_serial = ?1 AND current = 1";
	sqlite3_stmt *st = NULL;
	int rc;

	*yes = false;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "enrollment");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)card);
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return csa_sq_fail(s, "enrollment");
	return CS_OK;
}

static enum cs_err
bind_row(struct sq_store *s, struct cs_batch_row *row, uint64_t card)
{
	static const char q[] =
	    "UPDATE batch_rows SET card_serial = ?1, state = 'bound', "
	    "updated = ?2 WHERE roster = ?3 AND row_id = ?4 AND "
	    "card_serial IS NULL";
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "batch bind");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)card);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 3, row->roster, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_changes(s->db) != 1)
		return csa_sq_fail(s, "batch bind");
	row->bound = true;
	row->card_serial = card;
	row->state = CS_BATCH_BOUND;
	return CS_OK;
}

enum cs_err
cs_batch_bind(struct cs_ca *ca, const char *roster, uint64_t card_serial,
    struct cs_batch_row *out, enum cs_batch_how *how)
{
	static const char by_card[] = "SELECT " ROW_COLS " FROM batch_rows "
	                              "WHERE card_serial = ?2";
	static const char by_want[] =
	    "SELECT " ROW_COLS " FROM batch_rows WHERE roster = ?1 AND "
	    "card_serial IS NULL AND state = 'pending' AND want_serial = ?2 "
	    "ORDER BY seq LIMIT 1";
	static const char next[] =
	    "SELECT " ROW_COLS " FROM batch_rows WHERE roster = ?1 AND "
	    "card_serial IS NULL AND state = 'pending' AND want_serial IS "
	    "NULL ORDER BY seq LIMIT 1";
	struct sq_store *s;
	bool found = false, enr = false;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	*how = CS_BATCH_NEW;
	if ((s = csa_sq_of(ca, "batch state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	if ((r = select_one(s, by_card, NULL, (int64_t)card_serial, out,
	         &found)) != CS_OK)
		goto out;
	if (found) {
		if (strcmp(out->roster, roster) != 0) {
			r = cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
			    "card %llu belongs to row %s of another roster",
			    (unsigned long long)card_serial, out->id);
			goto out;
		}
		*how = out->state == CS_BATCH_DONE ? CS_BATCH_ALREADY
		                                   : CS_BATCH_RESUME;
		goto out;
	}
	if ((r = enrolled(s, card_serial, &enr)) != CS_OK)
		goto out;
	if (enr) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
		    "card %llu was enrolled outside this batch",
		    (unsigned long long)card_serial);
		goto out;
	}
	if ((r = select_one(s, by_want, roster, (int64_t)card_serial, out,
	         &found)) != CS_OK)
		goto out;
	if (!found &&
	    (r = select_one(s, next, roster, -1, out, &found)) != CS_OK)
		goto out;
	if (!found) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "no pending row left for card %llu",
		    (unsigned long long)card_serial);
		goto out;
	}
	r = bind_row(s, out, card_serial);
out:
	return csa_sq_end(s, r);
}

enum cs_err
cs_batch_finish(struct cs_ca *ca, const char *roster, const char *id,
    enum cs_batch_state st, const char *certs, const char *error)
{
	static const char q[] =
	    "UPDATE batch_rows SET state = ?1, certs = ?2, error = ?3, "
	    "updated = ?4 WHERE roster = ?5 AND row_id = ?6";
	struct sq_store *s;
	sqlite3_stmt *stmt = NULL;
	int rc, ch;

	if ((s = csa_sq_of(ca, "batch state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &stmt, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "batch row");
	sqlite3_bind_text(stmt, 1, cs_batch_state_name(st), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, certs != NULL ? certs : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, error != NULL ? error : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(stmt, 5, roster, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	ch = sqlite3_changes(s->db);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return csa_sq_fail(s, "batch row");
	if (ch != 1)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "registry: no batch row %s", id);
	return CS_OK;
}

enum cs_err
cs_batch_counts(struct cs_ca *ca, const char *roster,
    size_t counts[CS_BATCH_STATE_COUNT])
{
	static const char q[] = "SELECT state, count(*) FROM batch_rows "
	                        "WHERE roster = ?1 GROUP BY state";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	size_t i;
	int rc;

	memset(counts, 0, sizeof(size_t) * CS_BATCH_STATE_COUNT);
	if ((s = csa_sq_of(ca, "batch state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "batch rows");
	sqlite3_bind_text(st, 1, roster, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		for (i = 0; t != NULL && i < CS_BATCH_STATE_COUNT; i++)
			if (strcmp(state_names[i], (const char *)t) == 0)
				counts[i] = (size_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return csa_sq_fail(s, "batch rows");
	return CS_OK;
}

enum cs_err
cs_batch_get(struct cs_ca *ca, const char *roster, const char *id,
    struct cs_batch_row *out)
{
	static const char q[] = "SELECT " ROW_COLS " FROM batch_rows WHERE "
	                        "roster = ?1 AND row_id = ?3";
	struct sq_store *s;
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((s = csa_sq_of(ca, "batch state")) == NULL)
		return CS_ERR_UNSUPPORTED;
	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "batch row");
	sqlite3_bind_text(st, 1, roster, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, out);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "registry: no batch row %s", id);
	if (rc != SQLITE_ROW)
		return csa_sq_fail(s, "batch row");
	return CS_OK;
}

enum cs_err
cs_batch_roster_digest(struct cs_ctx *ctx, const char *path,
    char hex[CS_BATCH_DIGEST_HEX])
{
	uint8_t buf[8192], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *m = NULL;
	FILE *f = NULL;
	size_t n;
	enum cs_err r = CS_ERR_INTERNAL;

	hex[0] = '\0';
	if ((f = fopen(path, "rb")) == NULL)
		return cs_ctx_fail(ctx,
		    errno == ENOENT ? CS_ERR_NOT_FOUND : CS_ERR_IO, "%s: %s",
		    path, strerror(errno));
	if ((m = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "sha256");
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (EVP_DigestUpdate(m, buf, n) != 1) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_INTERNAL, "sha256");
			goto out;
		}
	if (ferror(f)) {
		r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: read error", path);
		goto out;
	}
	if (EVP_DigestFinal_ex(m, md, &mdlen) != 1 || mdlen != 32) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_INTERNAL, "sha256");
		goto out;
	}
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	r = CS_OK;
out:
	EVP_MD_CTX_free(m);
	fclose(f);
	return r;
}
