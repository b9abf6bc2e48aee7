/*
 * Registry, SQLite backend: WAL, synchronous=FULL, one BEGIN IMMEDIATE
 * transaction per state change, prepared statements only. The serial is
 * the primary key, so the database itself refuses a duplicate.
 *
 * Row life: pending (reserved, committed before signing) → issued (DER
 * stored, committed before the certificate is handed out) → delivered
 * (written to its destination: card, file, standard output) | revoked; a
 * pending row a crash left behind becomes void on reconcile, an issued
 * one stays issued (it is signed and retrievable).
 * A pending row records its owner (boot id, pid, process start time), so
 * reconcile voids only reservations whose process is gone, or (owner
 * unknown) older than RECONCILE_GRACE: never a live reservation of a
 * concurrently running issuance.
 *
 * Every issued row records the SHA-256 of its canonical public key
 * (key_sha256), so a key once revoked is found again whatever profile,
 * subject or CA level a new request uses. The registry is created only by
 * ca init: opening a missing, empty or table-less one fails, since a fresh
 * registry would silently forget every revocation and the CRL number.
 *
 * This file: the certificate rows (reserve, commit, abandon, deliver,
 * revoke, list, get), revoked keys, CRL numbers, reconcile and the ops
 * table; key hashes. Statements and transactions are store_db.c,
 * reservation owners store_owner.c, open, schema and migration
 * store_open.c, the public calls store_api.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <sqlite3.h>

#include "store_int.h"

#include "banned.h"

static enum cs_err
sq_reserve(struct csa_store *b, const char *const *serials, size_t n,
    int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	enum cs_err r = CS_ERR_INTERNAL;
	size_t i;
	int rc;

	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	for (i = 0; i < n; i++) {
		st = csa_sq_get(s, S_RESERVE);
		sqlite3_bind_text(st, 1, serials[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		if (s->owner[0] != '\0')
			sqlite3_bind_text(st, 3, s->owner, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			r = csa_sq_fail(s,
			    (rc & 0xff) == SQLITE_CONSTRAINT
			        ? "serial already used"
			        : "reserve serial");
			goto out;
		}
	}
	r = csa_sq_event(s, now, "reserve", serials[0], NULL);
out:
	return csa_sq_end(s, r);
}

/*
 * Is the key (csa_key_hash) in a revoked certificate? keyCompromise
 * refuses always, any other reason unless allow. *prior: the revoked
 * serial an allowed override passed ("" if none), for the event log.
 */
static enum cs_err
key_refused(struct sq_store *s, const char *hash, bool allow, char *prior,
    size_t cap)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	char serial[CS_CA_SERIAL_MAX];
	int rc, reason;

	prior[0] = '\0';
	/* Fail closed: a row without its key hash could never be found. */
	if (hash == NULL || strlen(hash) != CSA_KEY_HASH_MAX - 1)
		return cs_ctx_fail(s->base.ctx, CS_ERR_INTERNAL,
		    "registry: certificate without its key hash");
	st = csa_sq_get(s, S_KEY_REVOKED);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? CS_OK
		                         : csa_sq_fail(s, "revoked-key check");
	}
	t = sqlite3_column_text(st, 0);
	snprintf(serial, sizeof(serial), "%s",
	    t != NULL ? (const char *)t : "");
	reason = sqlite3_column_type(st, 1) == SQLITE_NULL
	    ? 0
	    : sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	if (reason == REASON_KEY_COMPROMISE)
		return cs_ctx_fail(s->base.ctx, CS_ERR_POLICY,
		    "this key was certified in %s, revoked for keyCompromise: "
		    "a compromised key is never certified again",
		    serial);
	if (!allow)
		return cs_ctx_fail(s->base.ctx, CS_ERR_POLICY,
		    "this key was certified in %s, revoked for %s: certifying "
		    "a revoked key again needs an explicit override "
		    "(ca sign --allow-revoked-key)",
		    serial, csa_store_reason_name(reason));
	snprintf(prior, cap, "%s", serial);
	return CS_OK;
}

static enum cs_err
sq_key_check(struct csa_store *b, const char *key_hash, bool allow)
{
	char prior[CS_CA_SERIAL_MAX];

	return key_refused((struct sq_store *)b, key_hash, allow, prior,
	    sizeof(prior));
}

/* One row pending → issued, inside the caller's transaction. */
static enum cs_err
commit_row(struct sq_store *s, const struct csa_row *row, const uint8_t *der,
    size_t len, int64_t now)
{
	char prior[CS_CA_SERIAL_MAX], detail[96];
	sqlite3_stmt *st;
	enum cs_err r = CS_ERR_INTERNAL;

	/* Again inside the transaction: a revocation may have come since. */
	if ((r = key_refused(s, row->key_hash, row->allow_revoked_key, prior,
	         sizeof(prior))) != CS_OK)
		return r;
	st = csa_sq_get(s, S_ISSUE);
	sqlite3_bind_text(st, 1, row->serial, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)row->level);
	sqlite3_bind_int(st, 3, (int)row->signer);
	sqlite3_bind_text(st, 4, row->subject, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, row->not_before);
	sqlite3_bind_int64(st, 6, row->not_after);
	sqlite3_bind_int(st, 7, row->slot);
	if (row->has_card_serial)
		sqlite3_bind_int64(st, 8, (sqlite3_int64)row->card_serial);
	sqlite3_bind_text(st, 9, row->firmware, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, der, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, row->profile, -1, SQLITE_STATIC);
	if (row->sublevel != NULL && row->sublevel[0] != '\0')
		sqlite3_bind_text(st, 12, row->sublevel, -1, SQLITE_STATIC);
	if (row->key_hash != NULL)
		sqlite3_bind_text(st, 13, row->key_hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		return csa_sq_fail(s, "store certificate");
	}
	sqlite3_reset(st);
	if (sqlite3_changes(s->db) != 1)
		return cs_ctx_fail(s->base.ctx, CS_ERR_STORE,
		    "registry: serial %s is not pending", row->serial);
	if (row->has_card_serial) {
		st = csa_sq_get(s, S_CARD);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)row->card_serial);
		sqlite3_bind_text(st, 2, row->firmware, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return csa_sq_fail(s, "card");
		}
		sqlite3_reset(st);
	}
	if (row->stmt != NULL) {
		st = csa_sq_get(s, S_EVIDENCE);
		sqlite3_bind_text(st, 1, row->serial, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, row->stmt, (int)row->stmt_len,
		    SQLITE_STATIC);
		if (row->f9 != NULL)
			sqlite3_bind_blob(st, 3, row->f9, (int)row->f9_len,
			    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			return csa_sq_fail(s, "evidence");
		}
		sqlite3_reset(st);
	}
	if ((r = csa_sq_event(s, now, "issue", row->serial,
	         cs_ca_level_name(row->level))) != CS_OK)
		return r;
	if (prior[0] != '\0') {
		snprintf(detail, sizeof(detail),
		    "revoked key of %s certified again", prior);
		if ((r = csa_sq_event(s, now, "override", row->serial, detail)) !=
		    CS_OK)
			return r;
	}
	return CS_OK;
}

static enum cs_err
sq_commit(struct csa_store *b, const struct csa_row *rows,
    const uint8_t *const *ders, const size_t *lens, size_t n, int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	enum cs_err r = CS_ERR_INTERNAL;
	size_t i;

	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	for (i = 0; i < n && r == CS_OK; i++)
		r = commit_row(s, &rows[i], ders[i], lens[i], now);
	return csa_sq_end(s, r);
}

/* One-statement change + event in one transaction; *n: rows changed. */
static enum cs_err
change(struct sq_store *s, sqlite3_stmt *st, const char *what, const char *kind,
    const char *serial, int64_t now, size_t *n)
{
	enum cs_err r = CS_ERR_INTERNAL;
	int changed;

	*n = 0;
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = csa_sq_fail(s, what);
		sqlite3_reset(st);
		return csa_sq_end(s, r);
	}
	sqlite3_reset(st);
	changed = sqlite3_changes(s->db);
	r = changed > 0 ? csa_sq_event(s, now, kind, serial, what) : CS_OK;
	if ((r = csa_sq_end(s, r)) == CS_OK)
		*n = (size_t)changed;
	return r;
}

static enum cs_err
sq_abandon(struct csa_store *b, const char *const *serials, size_t n,
    const char *why, int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	enum cs_err r = CS_ERR_INTERNAL;
	size_t i;

	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	for (i = 0; i < n; i++) {
		st = csa_sq_get(s, S_ABANDON);
		sqlite3_bind_text(st, 1, serials[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			r = csa_sq_fail(s, "void serial");
			break;
		}
		sqlite3_reset(st);
		if ((r = csa_sq_event(s, now, "void", serials[i], why)) != CS_OK)
			break;
	}
	return csa_sq_end(s, r);
}

static enum cs_err
sq_delivered(struct csa_store *b, const char *serial, int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	size_t n;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	st = csa_sq_get(s, S_DELIVERED);
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if ((r = change(s, st, "delivered", "deliver", serial, now, &n)) !=
	    CS_OK)
		return r;
	if (n == 0)
		return cs_ctx_fail(b->ctx, CS_ERR_NOT_FOUND,
		    "serial %s: no issued certificate", serial);
	return CS_OK;
}

/*
 * After a keyCompromise revocation: name the certificates that still
 * certify one of the keys (issued for the same key under another serial,
 * or without the card serial a --card revocation matched).
 */
static void
warn_live(struct sq_store *s, const char *serial, uint64_t card_serial)
{
	sqlite3_stmt *st = csa_sq_get(s, S_KEY_LIVE);
	const unsigned char *t;
	size_t n = 0;

	if (serial != NULL)
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, (sqlite3_int64)card_serial);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ >= LIVE_LIST_MAX ||
		    (t = sqlite3_column_text(st, 0)) == NULL)
			continue;
		cs_ctx_log(s->base.ctx, CS_LOG_ERR,
		    "warning: certificate %s certifies a compromised key and "
		    "is not revoked: ca revoke --serial %s --reason "
		    "keyCompromise",
		    t, t);
	}
	sqlite3_reset(st);
	if (n > LIVE_LIST_MAX)
		cs_ctx_log(s->base.ctx, CS_LOG_ERR,
		    "warning: %zu more certificates certify a compromised key "
		    "(ca list)",
		    n - LIVE_LIST_MAX);
}

static enum cs_err
sq_revoke(struct csa_store *b, const char *serial, uint64_t card_serial,
    int reason, int64_t at, size_t *count)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	char detail[64];
	enum cs_err r = CS_ERR_INTERNAL;

	*count = 0;
	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	if (serial != NULL) {
		st = csa_sq_get(s, S_REVOKE_SERIAL);
		sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	} else {
		st = csa_sq_get(s, S_REVOKE_CARD);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)card_serial);
	}
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_int(st, 3, reason);
	snprintf(detail, sizeof(detail), "revoke reason %d card %llu", reason,
	    (unsigned long long)card_serial);
	if ((r = change(s, st, detail, "revoke", serial, at, count)) != CS_OK)
		return r;
	if (reason == REASON_KEY_COMPROMISE && *count > 0)
		warn_live(s, serial, card_serial);
	return CS_OK;
}

static void
row_info(sqlite3_stmt *st, struct cs_ca_cert_info *in)
{
	const unsigned char *t;

	memset(in, 0, sizeof(*in));
	if ((t = sqlite3_column_text(st, 0)) != NULL)
		snprintf(in->serial, sizeof(in->serial), "%s", t);
	in->status = (enum cs_ca_status)sqlite3_column_int(st, 1);
	in->level = (enum cs_ca_level)sqlite3_column_int(st, 2);
	if ((unsigned int)in->level >= CS_CA_LEVEL_COUNT)
		in->level = CS_CA_LEVEL_NONE;
	if ((t = sqlite3_column_text(st, 3)) != NULL)
		snprintf(in->profile, sizeof(in->profile), "%s", t);
	if ((t = sqlite3_column_text(st, 4)) != NULL)
		snprintf(in->subject, sizeof(in->subject), "%s", t);
	in->created = sqlite3_column_int64(st, 5);
	in->not_before = sqlite3_column_int64(st, 6);
	in->not_after = sqlite3_column_int64(st, 7);
	in->revoked_at = sqlite3_column_int64(st, 8);
	in->revoke_reason = sqlite3_column_type(st, 9) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(st, 9);
	in->slot = sqlite3_column_type(st, 10) == SQLITE_NULL
	    ? -1
	    : sqlite3_column_int(st, 10);
	if (sqlite3_column_type(st, 11) != SQLITE_NULL) {
		in->has_card_serial = true;
		in->card_serial = (uint64_t)sqlite3_column_int64(st, 11);
	}
	if ((t = sqlite3_column_text(st, 12)) != NULL)
		snprintf(in->firmware, sizeof(in->firmware), "%s", t);
	if ((t = sqlite3_column_text(st, 13)) != NULL)
		snprintf(in->sublevel, sizeof(in->sublevel), "%s", t);
}

static enum cs_err
sq_list(struct csa_store *b, const struct cs_ca_list_filter *f,
    cs_ca_list_fn *fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)b;
	struct cs_ca_cert_info in;
	sqlite3_stmt *st = csa_sq_get(s, S_LIST);
	int rc;

	sqlite3_bind_int(st, 1, f != NULL ? f->status : -1);
	sqlite3_bind_int64(st, 2, f != NULL ? f->expiring_before : 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_info(st, &in);
		if (fn(arg, &in) != 0)
			break;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return csa_sq_fail(s, "list");
	return CS_OK;
}

static enum cs_err
sq_get(struct csa_store *b, const char *serial, struct cs_ca_cert_info *in,
    uint8_t **der, size_t *derlen)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st = csa_sq_get(s, S_GET);
	const void *blob;
	int rc, n;
	enum cs_err r = CS_ERR_INTERNAL;

	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		r = cs_ctx_fail(b->ctx, CS_ERR_NOT_FOUND,
		    "serial %s: not in the registry", serial);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = csa_sq_fail(s, "show");
		goto out;
	}
	row_info(st, in);
	if (der != NULL && (blob = sqlite3_column_blob(st, 14)) != NULL &&
	    (n = sqlite3_column_bytes(st, 14)) > 0) {
		if ((*der = malloc((size_t)n)) == NULL) {
			r = cs_ctx_fail(b->ctx, CS_ERR_NOMEM, "show");
			goto out;
		}
		memcpy(*der, blob, (size_t)n);
		*derlen = (size_t)n;
	}
	r = CS_OK;
out:
	sqlite3_reset(st);
	return r;
}

static enum cs_err
sq_revoked(struct csa_store *b, enum csa_signer signer, csa_revoked_fn *fn,
    void *arg)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st = csa_sq_get(s, S_REVOKED);
	const unsigned char *t;
	enum cs_err r = CS_ERR_INTERNAL;
	int rc;

	sqlite3_bind_int(st, 1, (int)signer);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		if ((r = fn(arg, t != NULL ? (const char *)t : "",
		         sqlite3_column_int64(st, 1),
		         sqlite3_column_int(st, 2))) != CS_OK) {
			sqlite3_reset(st);
			return r;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return csa_sq_fail(s, "revoked list");
	return CS_OK;
}

static enum cs_err
sq_crl_number(struct csa_store *b, enum csa_signer signer, uint64_t *n)
{
	struct sq_store *s = (struct sq_store *)b;
	sqlite3_stmt *st;
	enum cs_err r = CS_ERR_INTERNAL;

	*n = 0;
	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	st = csa_sq_get(s, S_CRLNUM_BUMP);
	sqlite3_bind_int(st, 1, (int)signer);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = csa_sq_fail(s, "CRL number");
		goto out;
	}
	st = csa_sq_get(s, S_CRLNUM_GET);
	sqlite3_bind_int(st, 1, (int)signer);
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = csa_sq_fail(s, "CRL number");
		goto out;
	}
	*n = (uint64_t)sqlite3_column_int64(st, 0);
	r = CS_OK;
out:
	sqlite3_reset(st);
	if ((r = csa_sq_end(s, r)) != CS_OK)
		*n = 0;
	return r;
}

static enum cs_err
count(struct sq_store *s, enum stmt_id id, size_t *n)
{
	sqlite3_stmt *st = csa_sq_get(s, id);
	enum cs_err r = CS_ERR_INTERNAL;

	if (sqlite3_step(st) != SQLITE_ROW)
		r = csa_sq_fail(s, "count");
	else {
		*n = (size_t)sqlite3_column_int64(st, 0);
		r = CS_OK;
	}
	sqlite3_reset(st);
	return r;
}

static bool
integrity_ok(struct sq_store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	bool ok = false;

	if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st,
	        NULL) != SQLITE_OK)
		return false;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (t = sqlite3_column_text(st, 0)) != NULL &&
	    strcmp((const char *)t, "ok") == 0 &&
	    sqlite3_step(st) == SQLITE_DONE)
		ok = true;
	sqlite3_finalize(st);
	return ok;
}


/* Void the pending rows whose reservation is over; *n: how many. */
static enum cs_err
void_stale(struct sq_store *s, int64_t now, size_t *n)
{
	sqlite3_stmt *st, *v;
	const unsigned char *owner;
	char serial[CS_CA_SERIAL_MAX];
	bool stale;
	int rc;

	*n = 0;
	st = csa_sq_get(s, S_PENDING);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		owner = sqlite3_column_text(st, 2);
		if (owner != NULL && *owner != '\0')
			stale = !csa_sq_owner_alive(s, (const char *)owner);
		else
			stale = sqlite3_column_int64(st, 1) <=
			    now - RECONCILE_GRACE;
		if (!stale)
			continue;
		snprintf(serial, sizeof(serial), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		v = csa_sq_get(s, S_VOID_ONE);
		sqlite3_bind_text(v, 1, serial, -1, SQLITE_STATIC);
		if (sqlite3_step(v) != SQLITE_DONE) {
			sqlite3_reset(v);
			sqlite3_reset(st);
			return csa_sq_fail(s, "reconcile: void");
		}
		sqlite3_reset(v);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return csa_sq_fail(s, "reconcile");
	return CS_OK;
}

static enum cs_err
sq_reconcile(struct csa_store *b, struct cs_ca_reconcile_stats *stats,
    int64_t now)
{
	struct sq_store *s = (struct sq_store *)b;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(stats, 0, sizeof(*stats));
	if ((r = csa_sq_begin(s)) != CS_OK)
		return r;
	if ((r = void_stale(s, now, &stats->pending_voided)) == CS_OK &&
	    stats->pending_voided > 0)
		r = csa_sq_event(s, now, "reconcile", NULL,
		    "pending reservations voided");
	if (r == CS_OK)
		r = count(s, S_COUNT_ISSUED, &stats->issued_undelivered);
	if (r == CS_OK)
		r = count(s, S_DUPS, &stats->duplicates);
	if ((r = csa_sq_end(s, r)) == CS_OK)
		stats->integrity_ok = integrity_ok(s);
	return r;
}

static void
sq_close(struct csa_store *b)
{
	struct sq_store *s = (struct sq_store *)b;
	size_t i;

	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

struct sq_store *
csa_sq_of(struct cs_ca *ca, const char *what)
{
	if (ca->store == NULL || ca->store->ops != &csa_sq_ops) {
		(void)cs_ctx_fail(ca->ctx, CS_ERR_UNSUPPORTED,
		    "%s needs the SQLite registry", what);
		return NULL;
	}
	return (struct sq_store *)ca->store;
}

const struct csa_store_ops csa_sq_ops = {
	sq_reserve,
	sq_commit,
	sq_key_check,
	sq_abandon,
	sq_delivered,
	sq_revoke,
	sq_list,
	sq_get,
	sq_revoked,
	sq_crl_number,
	sq_reconcile,
	sq_close,
};

/* --- key hashes --- */

/*
 * One encoding per key: EC with the named curve and an uncompressed point
 * (a compressed or explicit-parameter SPKI of the same key would otherwise
 * hash differently), RSA-PSS as rsaEncryption with the same n and e.
 */
static EVP_PKEY *
canonical_key(EVP_PKEY *k)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *par = NULL;
	EVP_PKEY_CTX *pc = NULL;
	EVP_PKEY *out = NULL;
	BIGNUM *n = NULL, *e = NULL;

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_EC:
		if ((out = EVP_PKEY_dup(k)) == NULL)
			return NULL;
		(void)EVP_PKEY_set_utf8_string_param(out,
		    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed");
		(void)EVP_PKEY_set_utf8_string_param(out,
		    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_GROUP);
		return out;
	case EVP_PKEY_RSA_PSS:
		if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) &&
		    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) &&
		    (bld = OSSL_PARAM_BLD_new()) != NULL &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
		    (par = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
		    (pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) !=
		        NULL &&
		    EVP_PKEY_fromdata_init(pc) == 1)
			(void)EVP_PKEY_fromdata(pc, &out, EVP_PKEY_PUBLIC_KEY,
			    par);
		EVP_PKEY_CTX_free(pc);
		OSSL_PARAM_free(par);
		OSSL_PARAM_BLD_free(bld);
		BN_free(n);
		BN_free(e);
		return out;
	default:
		return EVP_PKEY_up_ref(k) == 1 ? k : NULL;
	}
}

bool
csa_key_hash(EVP_PKEY *k, char hex[CSA_KEY_HASH_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen = 0, i;
	EVP_PKEY *c = NULL;
	bool ok = false;
	int n;

	hex[0] = '\0';
	if (k == NULL || (c = canonical_key(k)) == NULL ||
	    (n = i2d_PUBKEY(c, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != (CSA_KEY_HASH_MAX - 1) / 2)
		goto out;
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	ok = true;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(c);
	ERR_clear_error();
	return ok;
}

