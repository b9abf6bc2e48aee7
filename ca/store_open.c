/*
 * Registry, SQLite backend: opening it. The registry must exist (only ca
 * init creates one, O_EXCL) and hold every table; its schema, the
 * migrations of older versions (new columns, the key hash backfill), the
 * owner id of this process for reservations, and csa_store_open_sqlite.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <sqlite3.h>

#include "cardsmith/x509_ossl.h"

#include "store_int.h"

#include "banned.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS certs("
    " serial TEXT PRIMARY KEY NOT NULL,"
    " status INTEGER NOT NULL,"
    " level INTEGER, signer INTEGER, profile TEXT, subject TEXT,"
    " created INTEGER NOT NULL, not_before INTEGER, not_after INTEGER,"
    " revoked_at INTEGER, revoke_reason INTEGER, slot INTEGER,"
    " card_serial INTEGER, firmware TEXT, der BLOB, sublevel TEXT,"
    " owner TEXT, key_sha256 TEXT)"
    " WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS certs_card ON certs(card_serial);"
    "CREATE INDEX IF NOT EXISTS certs_status ON certs(status, signer);"
    "CREATE TABLE IF NOT EXISTS cards(serial INTEGER PRIMARY KEY,"
    " firmware TEXT, first_seen INTEGER, last_seen INTEGER);"
    "CREATE TABLE IF NOT EXISTS evidence(serial TEXT PRIMARY KEY,"
    " statement BLOB, f9 BLOB);"
    "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY,"
    " at INTEGER NOT NULL, kind TEXT NOT NULL, serial TEXT, detail TEXT);"
    "CREATE TABLE IF NOT EXISTS crl(signer INTEGER PRIMARY KEY,"
    " number INTEGER NOT NULL);"
    /*
     * Enrollment state (ca/store_enroll.c): one current record per
     * card, superseded ones kept for the audit trail. New tables need
     * no migration step: this CREATE adds them to an older registry on
     * open, so user_version stays 4 (it counts certs column changes).
     */
    "CREATE TABLE IF NOT EXISTS enrollments(id INTEGER PRIMARY KEY,"
    " card_serial INTEGER NOT NULL, profile_set TEXT NOT NULL,"
    " subject TEXT, state TEXT NOT NULL, current INTEGER NOT NULL,"
    " created INTEGER NOT NULL, updated INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS enrollments_current"
    " ON enrollments(card_serial) WHERE current = 1;"
    "CREATE TABLE IF NOT EXISTS enroll_slots("
    " enrollment INTEGER NOT NULL REFERENCES enrollments(id),"
    " slot INTEGER NOT NULL, profile TEXT NOT NULL, state TEXT NOT NULL,"
    " key_sha256 TEXT, cert_serial TEXT, updated INTEGER NOT NULL,"
    " PRIMARY KEY(enrollment, slot));"
    /*
     * Batch rows (ca/store_batch.c, cardsmith batch): a card is bound to
     * at most one row, ever; no version step either.
     */
    "CREATE TABLE IF NOT EXISTS batch_rows(roster TEXT NOT NULL,"
    " row_id TEXT NOT NULL, seq INTEGER NOT NULL, subject TEXT NOT NULL,"
    " email TEXT, profile_set TEXT NOT NULL, want_serial INTEGER,"
    " card_serial INTEGER, state TEXT NOT NULL, certs TEXT, error TEXT,"
    " updated INTEGER NOT NULL, PRIMARY KEY(roster, row_id));"
    "CREATE UNIQUE INDEX IF NOT EXISTS batch_rows_card"
    " ON batch_rows(card_serial) WHERE card_serial IS NOT NULL;";

/*
 * The tables every registry has had since version 1 (later ones, such as
 * enrollments and enroll_slots, are created by the schema when an older
 * registry is opened).
 */
static const char *const tables[] = {
	"certs",
	"cards",
	"evidence",
	"events",
	"crl",
};

/*
 * Version 1 registries lack certs.sublevel (added with sub-levels),
 * version 2 ones certs.owner (the reserving process, for reconcile),
 * version 3 ones certs.key_sha256 (the revoked-key check; backfilled from
 * the stored DER). The enrollment tables came later without a version
 * step: the schema's CREATE TABLE IF NOT EXISTS adds them on open.
 */
static const char migrate_check[] =
    "SELECT count(*) FROM pragma_table_info('certs') WHERE name = ?1";

static enum cs_err
add_column(struct sq_store *s, const char *col, const char *alter)
{
	sqlite3_stmt *st = NULL;
	int have = -1;

	if (sqlite3_prepare_v2(s->db, migrate_check, -1, &st, NULL) ==
	        SQLITE_OK &&
	    sqlite3_bind_text(st, 1, col, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (have < 0)
		return csa_sq_fail(s, "schema check");
	if (have == 0 &&
	    sqlite3_exec(s->db, alter, NULL, NULL, NULL) != SQLITE_OK)
		return csa_sq_fail(s, alter);
	return CS_OK;
}

#define BACKFILL_CHUNK 64

/*
 * Rows issued before key_sha256 existed (or by an older binary since)
 * get it from their stored DER, BACKFILL_CHUNK rows per round, never
 * updating the rows a statement is still scanning. A DER that does not
 * parse gets "" so it is not read again; it is reported.
 */
static enum cs_err
backfill_round(struct sq_store *s, sqlite3_stmt *sel, sqlite3_stmt *upd,
    size_t *n, size_t *bad)
{
	char serial[BACKFILL_CHUNK][CS_CA_SERIAL_MAX];
	char hex[BACKFILL_CHUNK][CSA_KEY_HASH_MAX];
	const unsigned char *p, *t;
	X509 *x;
	size_t i;
	int rc = SQLITE_DONE, len;

	*n = 0;
	sqlite3_reset(sel);
	while (*n < BACKFILL_CHUNK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
		t = sqlite3_column_text(sel, 0);
		snprintf(serial[*n], CS_CA_SERIAL_MAX, "%s",
		    t != NULL ? (const char *)t : "");
		p = sqlite3_column_blob(sel, 1);
		len = sqlite3_column_bytes(sel, 1);
		x = NULL;
		if (p == NULL || len <= 0 ||
		    cs_x509_cert_decode(NULL, p, (size_t)len, 0, &x) != CS_OK ||
		    !csa_key_hash(X509_get0_pubkey(x), hex[*n])) {
			hex[*n][0] = '\0';
			if ((*bad)++ < LIVE_LIST_MAX)
				cs_ctx_log(s->base.ctx, CS_LOG_ERR,
				    "warning: registry: certificate %s does not "
				    "parse; its key is not checked on "
				    "re-issuance",
				    serial[*n]);
		}
		X509_free(x);
		ERR_clear_error();
		(*n)++;
	}
	sqlite3_reset(sel);
	if (*n < BACKFILL_CHUNK && rc != SQLITE_DONE)
		return csa_sq_fail(s, "backfill key hashes");
	for (i = 0; i < *n; i++) {
		sqlite3_reset(upd);
		sqlite3_bind_text(upd, 1, serial[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(upd, 2, hex[i], -1, SQLITE_STATIC);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			sqlite3_reset(upd);
			return csa_sq_fail(s, "backfill key hashes");
		}
	}
	sqlite3_reset(upd);
	return CS_OK;
}

static enum cs_err
backfill_keys(struct sq_store *s)
{
	static const char q[] =
	    "SELECT serial, der FROM certs WHERE "
	    "key_sha256 IS NULL AND der IS NOT NULL LIMIT ?1";
	static const char u[] = "UPDATE certs SET key_sha256 = ?2 "
	                        "WHERE serial = ?1";
	sqlite3_stmt *sel = NULL, *upd = NULL;
	size_t n = BACKFILL_CHUNK, total = 0, bad = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(s->db, q, -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, u, -1, &upd, NULL) != SQLITE_OK) {
		r = csa_sq_fail(s, "backfill key hashes");
		goto out;
	}
	sqlite3_bind_int(sel, 1, BACKFILL_CHUNK);
	/* Cheap when there is nothing to do: no write lock taken. */
	if (sqlite3_step(sel) != SQLITE_ROW) {
		r = CS_OK;
		goto out;
	}
	sqlite3_reset(sel);
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		r = csa_sq_fail(s, "backfill key hashes");
		goto out;
	}
	while (n == BACKFILL_CHUNK) {
		if ((r = backfill_round(s, sel, upd, &n, &bad)) != CS_OK)
			goto out;
		total += n;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		r = csa_sq_fail(s, "backfill key hashes");
		goto out;
	}
	if (bad > LIVE_LIST_MAX)
		cs_ctx_log(s->base.ctx, CS_LOG_ERR,
		    "warning: registry: %zu more stored certificates do not "
		    "parse",
		    bad - LIVE_LIST_MAX);
	cs_ctx_log(s->base.ctx, CS_LOG_INFO,
	    "registry: key hashes of %zu certificates recorded", total);
	r = CS_OK;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	/* The prepared S_ROLLBACK does not exist yet while opening. */
	if (r != CS_OK && !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static enum cs_err
migrate(struct sq_store *s)
{
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = add_column(s, "sublevel",
	         "ALTER TABLE certs ADD COLUMN sublevel TEXT")) != CS_OK ||
	    (r = add_column(s, "owner",
	         "ALTER TABLE certs ADD COLUMN owner TEXT")) != CS_OK ||
	    (r = add_column(s, "key_sha256",
	         "ALTER TABLE certs ADD COLUMN key_sha256 TEXT")) != CS_OK)
		return r;
	if (sqlite3_exec(s->db,
	        "CREATE INDEX IF NOT EXISTS certs_key ON certs(key_sha256)",
	        NULL, NULL, NULL) != SQLITE_OK)
		return csa_sq_fail(s, "key index");
	if ((r = backfill_keys(s)) != CS_OK)
		return r;
	if (sqlite3_exec(s->db, "PRAGMA user_version = 4", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return csa_sq_fail(s, "user_version");
	return CS_OK;
}

/* How to recover a registry that is gone: it is never recreated. */
#define RESTORE_HINT                                                           \
	"restore it from your backup (a new registry would forget every "      \
	"revocation and restart the CRL number, so only 'ca init' creates "    \
	"one)"

/*
 * Before SQLite sees the file (it would create a missing one, and treat
 * an empty one as a new database): it must exist and hold something.
 */
static enum cs_err
registry_present(struct cs_ctx *ctx, const char *path)
{
	struct stat st;
	int fd, e;

	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if ((e = errno) == ENOENT)
			return cs_ctx_fail(ctx, CS_ERR_STORE,
			    "registry %s is missing: " RESTORE_HINT, path);
		return cs_ctx_fail(ctx, CS_ERR_STORE, "registry %s: %s", path,
		    strerror(e));
	}
	e = fstat(fd, &st) != 0 ? errno : 0;
	close(fd);
	if (e != 0)
		return cs_ctx_fail(ctx, CS_ERR_STORE, "registry %s: %s", path,
		    strerror(e));
	if (!S_ISREG(st.st_mode))
		return cs_ctx_fail(ctx, CS_ERR_STORE,
		    "registry %s is not a regular file", path);
	if (st.st_size == 0)
		return cs_ctx_fail(ctx, CS_ERR_STORE,
		    "registry %s is empty (0 bytes): " RESTORE_HINT, path);
	return CS_OK;
}

/* Every table since version 1 must be there (read only: no file made). */
static enum cs_err
registry_tables(struct sq_store *s, const char *path)
{
	static const char q[] = "SELECT count(*) FROM sqlite_master "
	                        "WHERE type = 'table' AND name = ?1";
	sqlite3_stmt *st = NULL;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK)
		return cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
		    "registry %s: %s: " RESTORE_HINT, path,
		    sqlite3_errmsg(s->db));
	for (i = 0; i < sizeof(tables) / sizeof(*tables); i++) {
		sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			r = cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
			    "registry %s: %s: " RESTORE_HINT, path,
			    sqlite3_errmsg(s->db));
			goto out;
		}
		if (sqlite3_column_int(st, 0) != 1) {
			r = cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
			    "registry %s has no %s table: " RESTORE_HINT, path,
			    tables[i]);
			goto out;
		}
		sqlite3_reset(st);
	}
	r = CS_OK;
out:
	sqlite3_finalize(st);
	return r;
}

enum cs_err
csa_store_open_sqlite(struct cs_ctx *ctx, const char *path, bool create,
    struct csa_store **out)
{
	struct sq_store *s;
	char *err = NULL;
	int fd;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (create) {
		/* 0600 first; SQLite gives -wal/-shm the same mode. */
		if ((fd = open(path,
		         O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		         0600)) == -1)
			return cs_ctx_fail(ctx, CS_ERR_STORE, "%s: %s", path,
			    strerror(errno));
		close(fd);
	} else if ((r = registry_present(ctx, path)) != CS_OK)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "registry");
	s->base.ops = &csa_sq_ops;
	s->base.ctx = ctx;
	/* Never SQLITE_OPEN_CREATE: a file gone since the check stays gone. */
	if (sqlite3_open_v2(path, &s->db,
	        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
	        NULL) != SQLITE_OK) {
		r = cs_ctx_fail(ctx, CS_ERR_STORE, "%s: %s", path,
		    s->db != NULL ? sqlite3_errmsg(s->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 10000);
	if (!create && (r = registry_tables(s, path)) != CS_OK)
		goto fail;
	if (sqlite3_exec(s->db,
	        "PRAGMA journal_mode=WAL;"
	        "PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;",
	        NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema, NULL, NULL, &err) != SQLITE_OK) {
		r = cs_ctx_fail(ctx, CS_ERR_STORE, "%s: %s", path,
		    err != NULL ? err : "schema");
		sqlite3_free(err);
		goto fail;
	}
	if ((r = migrate(s)) != CS_OK)
		goto fail;
	/* A new registry holds its schema in the main file, not the WAL. */
	if (create &&
	    sqlite3_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL,
	        NULL) != SQLITE_OK) {
		r = csa_sq_fail(s, "checkpoint");
		goto fail;
	}
	csa_sq_set_owner(s);
	if ((r = csa_sq_prepare(s)) != CS_OK)
		goto fail;
	*out = &s->base;
	return CS_OK;
fail:
	csa_sq_ops.close(&s->base);
	return r;
}

