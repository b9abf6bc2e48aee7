/*
 * Unit tests for the CA's guards (issue 12):
 * - the registry is never silently recreated (missing, empty, no tables);
 * - a revoked key is not certified again (by key hash, whatever the
 *   profile, subject, level or encoding), and old registries get the key
 *   hash column backfilled;
 * - unsafe permissions of the CA directory and files are refused or
 *   warned about;
 * - ca init refuses weak passphrases without echoing them.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <sqlite3.h>

#include "test_ca_util.h"

#include "banned.h"

#define REASON_KEY_COMPROMISE 1
#define REASON_SUPERSEDED 4

static struct tca t;
static struct cs_ca_profile *sw;
static char logged[16384]; /* log lines of t.ctx, "\n" separated */

static void
log_cb(void *arg, enum cs_log_level level, const char *line)
{
	size_t n = strlen(logged);

	(void)arg;
	(void)level;
	snprintf(logged + n, sizeof(logged) - n, "%s\n", line);
}

static int
setup_common(bool mint)
{
	logged[0] = '\0';
	if (tca_setup(&t, mint, 0) != 0)
		return -1;
	cs_ctx_set_log(t.ctx, CS_LOG_ERR, log_cb, NULL);
	return (sw = tca_profile(&t, "software")) != NULL ? 0 : -1;
}

static int
setup(void **state)
{
	(void)state;
	return setup_common(false);
}

static int
teardown(void **state)
{
	(void)state;
	cs_ca_profile_free(sw);
	sw = NULL;
	tca_teardown(&t);
	return 0;
}

/* Start over with a new CA (for a second scenario in one test). */
static void
fresh_ca(void)
{
	(void)teardown(NULL);
	assert_int_equal(setup_common(false), 0);
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/* Issue csr under p with flags; serial (may be NULL) gets the serial. */
static enum cs_err
issue(struct cs_ca *ca, const struct cs_ca_profile *p, const char *csr,
    size_t len, unsigned int flags, char *serial)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	enum cs_err r;

	tca_req_init(&req, p, csr, len);
	req.flags = flags;
	r = cs_ca_issue(ca, &req, &res);
	if (serial != NULL)
		snprintf(serial, CS_CA_SERIAL_MAX, "%s", res.serial);
	if (r == CS_OK && (flags & CS_CA_ISSUE_DRYRUN) == 0)
		assert_non_null(res.der);
	if (r != CS_OK)
		assert_null(res.der);
	cs_ca_issue_res_release(&res);
	return r;
}

static bool
msg_has(const char *needle)
{
	return strstr(cs_ctx_errmsg(t.ctx), needle) != NULL;
}

static int
count_cb(void *arg, const struct cs_ca_cert_info *in)
{
	(void)in;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
registry_rows(struct cs_ca *ca)
{
	size_t n = 0;

	assert_int_equal(cs_ca_list(ca, NULL, count_cb, &n), CS_OK);
	return n;
}

static sqlite3 *
db_open(void)
{
	char p[1024];
	sqlite3 *db = NULL;

	tca_path(p, sizeof(p), t.dir, "registry.db");
	assert_int_equal(sqlite3_open_v2(p, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err != NULL ? err : "?");
}

static void
ca_reopen(struct cs_ca **ca)
{
	*ca = NULL;
	if (cs_ca_open(t.ctx, t.dir, ca) != CS_OK)
		fail_msg("open: %s", cs_ctx_errmsg(t.ctx));
}

static void
file_in(char *dst, size_t cap, const char *name)
{
	tca_path(dst, cap, t.dir, name);
}

static bool
exists(const char *name)
{
	char p[1024];
	struct stat st;

	file_in(p, sizeof(p), name);
	return stat(p, &st) == 0;
}

/* --- 1. the registry is never recreated --- */

static void
remove_registry(void)
{
	static const char *const names[] = {
		"registry.db",
		"registry.db-wal",
		"registry.db-shm",
	};
	char p[1024];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
		file_in(p, sizeof(p), names[i]);
		(void)unlink(p);
	}
}

static void
test_ca_guard_registry_missing(void **state)
{
	struct cs_ca *ca = NULL;
	char p[1024], *csr;
	size_t len;

	(void)state;
	/* A deleted WAL (and -shm) is fine: the main file holds the data. */
	csr = tca_software_csr("Heidi", false, NULL, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, NULL), CS_OK);
	free(csr);
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "registry.db-wal");
	(void)unlink(p);
	file_in(p, sizeof(p), "registry.db-shm");
	(void)unlink(p);
	ca_reopen(&ca);
	assert_int_equal(registry_rows(ca), 1);
	cs_ca_close(ca);
	ca = NULL;
	/* The registry itself is not. */
	remove_registry();
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_null(ca);
	file_in(p, sizeof(p), "registry.db");
	assert_true(msg_has(p));
	assert_true(msg_has("missing"));
	assert_true(msg_has("backup"));
	/* Nothing was created in its place. */
	assert_false(exists("registry.db"));
	assert_false(exists("registry.db-wal"));
	assert_false(exists("registry.db-shm"));
}

static void
test_ca_guard_registry_empty(void **state)
{
	struct cs_ca *ca = NULL;
	char p[1024];
	struct stat st;
	sqlite3 *db;

	(void)state;
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "registry.db");
	assert_int_equal(truncate(p, 0), 0);
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_null(ca);
	assert_true(msg_has(p));
	assert_true(msg_has("empty"));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_false(exists("registry.db-wal"));

	/* Replaced by an empty file while its WAL is still there. */
	fresh_ca();
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "registry.db");
	db = db_open();
	db_exec(db,
	    "PRAGMA wal_autocheckpoint = 0; "
	    "INSERT INTO crl(signer, number) VALUES(0, 41)");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(close(open(p, O_CREAT | O_WRONLY, 0600)), 0);
	assert_true(exists("registry.db-wal"));
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("empty"));
	sqlite3_close(db);
}

static void
test_ca_guard_registry_no_tables(void **state)
{
	struct cs_ca *ca = NULL;
	char p[1024];
	sqlite3 *db = NULL;

	(void)state;
	cs_ca_close(t.ca);
	t.ca = NULL;
	/* A database, but not a registry. */
	remove_registry();
	file_in(p, sizeof(p), "registry.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	db_exec(db, "CREATE TABLE notes(x)");
	sqlite3_close(db);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("no certs table"));
	assert_false(exists("registry.db-wal"));
	/* A registry that lost one table (the CRL numbers). */
	fresh_ca();
	cs_ca_close(t.ca);
	t.ca = NULL;
	db = db_open();
	db_exec(db, "DROP TABLE crl");
	sqlite3_close(db);
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("no crl table"));
	/* Not a database at all. */
	file_in(p, sizeof(p), "registry.db");
	remove_registry();
	write_text(p, "not sqlite\n");
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_STORE);
	assert_true(msg_has("backup"));
	assert_null(ca);
}

/* --- 2. revoked keys --- */

static int
setup_mint(void **state)
{
	(void)state;
	return setup_common(true);
}

/* PEM CSR "CN=cn" for key k, whose SPKI is written from pub (k if NULL). */
static char *
csr_for(EVP_PKEY *k, EVP_PKEY *pub, const char *cn, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s;

	assert_non_null(req);
	assert_non_null(n);
	assert_non_null(b);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	assert_int_equal(X509_REQ_set_pubkey(req, pub != NULL ? pub : k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_X509_REQ(b, req), 1);
	BIO_get_mem_ptr(b, &m);
	assert_non_null(s = malloc(m->length + 1));
	memcpy(s, m->data, m->length);
	s[m->length] = '\0';
	*len = m->length;
	BIO_free(b);
	X509_NAME_free(n);
	X509_REQ_free(req);
	return s;
}

static void
revoke_one(const char *serial, int reason)
{
	size_t n = 0;

	assert_int_equal(cs_ca_revoke(t.ca, serial, 0, reason, 0, &n), CS_OK);
	assert_int_equal(n, 1);
}

/* One text value of a query with one ?1 text parameter; "" for NULL. */
static void
db_text(sqlite3 *db, const char *sql, const char *arg, char *dst, size_t cap)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (arg != NULL)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_text(st, 0);
	snprintf(dst, cap, "%s", v != NULL ? (const char *)v : "");
	sqlite3_finalize(st);
}



static void
test_ca_guard_key_compromise_never_again(void **state)
{
	struct cs_ca_profile *auth = tca_profile(&t, "piv-auth");
	EVP_PKEY *k = NULL;
	char serial[CS_CA_SERIAL_MAX], *csr, *other;
	size_t len, olen;

	(void)state;
	assert_non_null(auth);
	csr = tca_software_csr("Alice", false, &k, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, serial), CS_OK);
	revoke_one(serial, REASON_KEY_COMPROMISE);

	assert_int_equal(issue(t.ca, sw, csr, len, 0, NULL), CS_ERR_POLICY);
	assert_true(msg_has(serial));
	assert_true(msg_has("keyCompromise"));
	/* The override flag does not help, nor does a dry run pass. */
	assert_int_equal(
	    issue(t.ca, sw, csr, len, CS_CA_ISSUE_ALLOW_REVOKED_KEY, NULL),
	    CS_ERR_POLICY);
	assert_int_equal(issue(t.ca, sw, csr, len, CS_CA_ISSUE_DRYRUN, NULL),
	    CS_ERR_POLICY);
	/* Another subject, another profile: still the same key. */
	other = csr_for(k, NULL, "Mallory", &olen);
	assert_int_equal(issue(t.ca, sw, other, olen, 0, NULL), CS_ERR_POLICY);
	assert_int_equal(issue(t.ca, auth, other, olen, 0, NULL),
	    CS_ERR_POLICY);
	assert_true(msg_has("keyCompromise"));
	/* Only the one issued row: the refusals reserved nothing. */
	assert_int_equal(registry_rows(t.ca), 1);
	free(other);
	free(csr);
	EVP_PKEY_free(k);

	/* A different key is fine. */
	csr = tca_software_csr("Alice", false, NULL, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, NULL), CS_OK);
	free(csr);
	cs_ca_profile_free(auth);
}

static void
test_ca_guard_other_reason_needs_override(void **state)
{
	char serial[CS_CA_SERIAL_MAX], again[CS_CA_SERIAL_MAX], got[128];
	struct cs_ca_cert_info in;
	int64_t at;
	char *csr;
	size_t len;
	sqlite3 *db;

	(void)state;
	csr = tca_software_csr("Bob", false, NULL, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, serial), CS_OK);
	revoke_one(serial, REASON_SUPERSEDED);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, NULL), CS_ERR_POLICY);
	assert_true(msg_has(serial));
	assert_true(msg_has("superseded"));
	assert_true(msg_has("--allow-revoked-key"));
	assert_int_equal(
	    issue(t.ca, sw, csr, len, CS_CA_ISSUE_ALLOW_REVOKED_KEY, again),
	    CS_OK);
	/* The override is on record. */
	db = db_open();
	db_text(db,
	    "SELECT detail FROM events WHERE kind = 'override' AND "
	    "serial = ?1",
	    again, got, sizeof(got));
	assert_non_null(strstr(got, serial));
	sqlite3_close(db);
	/* Learning of the compromise later: the reason becomes
	 * keyCompromise (same revocation date) and bars the key for good. */
	assert_int_equal(cs_ca_show(t.ca, serial, &in, NULL, NULL), CS_OK);
	at = in.revoked_at;
	logged[0] = '\0';
	revoke_one(serial, REASON_KEY_COMPROMISE);
	assert_int_equal(cs_ca_show(t.ca, serial, &in, NULL, NULL), CS_OK);
	assert_int_equal(in.revoke_reason, REASON_KEY_COMPROMISE);
	assert_int_equal(in.revoked_at, at);
	assert_non_null(strstr(logged, again));
	assert_int_equal(
	    issue(t.ca, sw, csr, len, CS_CA_ISSUE_ALLOW_REVOKED_KEY, NULL),
	    CS_ERR_POLICY);
	assert_true(msg_has("keyCompromise"));
	free(csr);
}

static void
test_ca_guard_later_revocation_counts(void **state)
{
	char a[CS_CA_SERIAL_MAX], b[CS_CA_SERIAL_MAX], *csr;
	size_t len;

	(void)state;
	csr = tca_software_csr("Carol", false, NULL, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, a), CS_OK);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, b), CS_OK);
	logged[0] = '\0';
	revoke_one(a, REASON_KEY_COMPROMISE);
	/* The other certificate of the key is named, not silently kept. */
	assert_non_null(strstr(logged, b));
	assert_non_null(strstr(logged, "compromised key"));
	assert_int_equal(
	    issue(t.ca, sw, csr, len, CS_CA_ISSUE_ALLOW_REVOKED_KEY, NULL),
	    CS_ERR_POLICY);
	assert_true(msg_has(a));
	free(csr);
}

/* ca revoke --card: every key of the card, at any level and profile. */
static void
test_ca_guard_card_revocation(void **state)
{
	struct cs_ca_profile *auth = tca_profile(&t, "piv-auth");
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	uint8_t *csr, *stmt, *f9;
	size_t cl, sl, fl, n = 0;

	(void)state;
	assert_non_null(auth);
	assert_non_null(csr = tca_mint_file(&t, "leaf.csr.pem", &cl));
	assert_non_null(stmt = tca_mint_file(&t, "stmt-9a.pem", &sl));
	assert_non_null(f9 = tca_mint_file(&t, "f9.pem", &fl));
	tca_req_init(&req, auth, csr, cl);
	req.stmt = stmt;
	req.stmt_len = sl;
	req.f9 = f9;
	req.f9_len = fl;
	assert_int_equal(cs_ca_issue(t.ca, &req, &res), CS_OK);
	assert_true(res.decision.has_card_serial);
	assert_int_equal(cs_ca_revoke(t.ca, NULL, res.decision.card_serial,
	                     REASON_KEY_COMPROMISE, 0, &n),
	    CS_OK);
	assert_int_equal(n, 1);
	cs_ca_issue_res_release(&res);
	/* Same key, hardware evidence again, or as a bare software CSR. */
	assert_int_equal(cs_ca_issue(t.ca, &req, &res), CS_ERR_POLICY);
	assert_true(msg_has("keyCompromise"));
	cs_ca_issue_res_release(&res);
	assert_int_equal(issue(t.ca, sw, (const char *)csr, cl, 0, NULL),
	    CS_ERR_POLICY);
	free(csr);
	free(stmt);
	free(f9);
	cs_ca_profile_free(auth);
}

/* The same key in another SPKI encoding has the same hash. */
static void
test_ca_guard_key_encodings(void **state)
{
	EVP_PKEY *k = NULL, *comp = NULL, *pss = NULL;
	EVP_PKEY_CTX *pc = NULL;
	OSSL_PARAM *par = NULL;
	char serial[CS_CA_SERIAL_MAX], *csr, *alt;
	size_t len, alen;

	(void)state;
	/* EC: compressed point instead of uncompressed. */
	csr = tca_software_csr("Dave", false, &k, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, serial), CS_OK);
	revoke_one(serial, REASON_KEY_COMPROMISE);
	assert_non_null(comp = EVP_PKEY_dup(k));
	assert_int_equal(EVP_PKEY_set_utf8_string_param(comp,
	                     OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	                     "compressed"),
	    1);
	alt = csr_for(k, comp, "Dave", &alen);
	assert_int_equal(issue(t.ca, sw, alt, alen, 0, NULL), CS_ERR_POLICY);
	assert_true(msg_has(serial));
	free(alt);
	free(csr);
	EVP_PKEY_free(comp);
	EVP_PKEY_free(k);

	/* RSA: the same n and e as an RSASSA-PSS key. */
	k = NULL;
	csr = tca_software_csr("Erin", true, &k, &len);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, serial), CS_OK);
	revoke_one(serial, REASON_KEY_COMPROMISE);
	assert_int_equal(EVP_PKEY_todata(k, EVP_PKEY_KEYPAIR, &par), 1);
	assert_non_null(pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
	assert_int_equal(EVP_PKEY_fromdata(pc, &pss, EVP_PKEY_KEYPAIR, par), 1);
	alt = csr_for(pss, NULL, "Erin", &alen);
	assert_int_equal(issue(t.ca, sw, alt, alen, 0, NULL), CS_ERR_POLICY);
	assert_true(msg_has(serial));
	free(alt);
	free(csr);
	OSSL_PARAM_free(par);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(pss);
	EVP_PKEY_free(k);
}

static void
test_ca_guard_batch(void **state)
{
	struct cs_ca_issue_req reqs[2];
	struct cs_ca_issue_res res[2];
	enum cs_err errs[2];
	char serial[CS_CA_SERIAL_MAX], *bad, *good;
	size_t bl, gl, issued = 0;

	(void)state;
	bad = tca_software_csr("Frank", false, NULL, &bl);
	good = tca_software_csr("Grace", false, NULL, &gl);
	assert_int_equal(issue(t.ca, sw, bad, bl, 0, serial), CS_OK);
	revoke_one(serial, REASON_KEY_COMPROMISE);
	tca_req_init(&reqs[0], sw, bad, bl);
	tca_req_init(&reqs[1], sw, good, gl);
	assert_int_equal(cs_ca_issue_batch(t.ca, reqs, 2, res, errs, &issued),
	    CS_OK);
	assert_int_equal(errs[0], CS_ERR_POLICY);
	assert_null(res[0].der);
	assert_non_null(strstr(res[0].decision.reason, serial));
	assert_int_equal(errs[1], CS_OK);
	assert_int_equal(issued, 1);
	cs_ca_issue_res_release(&res[0]);
	cs_ca_issue_res_release(&res[1]);
	free(bad);
	free(good);
}

/* --- 2b. old registries get the key-hash column, backfilled --- */

static void
spki_hash(const uint8_t *der, size_t len, char *hex)
{
	const unsigned char *p = der;
	unsigned char *spki = NULL, md[32];
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int n, i;

	assert_non_null(x);
	assert_true((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki)) > 0);
	assert_int_equal(
	    EVP_Digest(spki, (size_t)n, md, NULL, EVP_sha256(), NULL), 1);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(spki);
	X509_free(x);
}

static void
test_ca_guard_migrate_backfill(void **state)
{
	struct cs_ca_cert_info in;
	struct cs_ca *ca = NULL;
	char bad[CS_CA_SERIAL_MAX], live[CS_CA_SERIAL_MAX];
	char junk[CS_CA_SERIAL_MAX], got[128], want[65];
	uint8_t *der = NULL;
	size_t dl = 0;
	char *csr, *csr2;
	size_t len, len2;
	sqlite3_stmt *st = NULL;
	sqlite3 *db;

	(void)state;
	csr = tca_software_csr("Ivan", false, NULL, &len);
	csr2 = tca_software_csr("Judy", false, NULL, &len2);
	assert_int_equal(issue(t.ca, sw, csr, len, 0, bad), CS_OK);
	assert_int_equal(issue(t.ca, sw, csr2, len2, 0, live), CS_OK);
	assert_int_equal(issue(t.ca, sw, csr2, len2, 0, junk), CS_OK);
	revoke_one(bad, REASON_KEY_COMPROMISE);
	cs_ca_close(t.ca);
	t.ca = NULL;
	/* Turn it into a version 1 registry: no sublevel, owner, key hash. */
	db = db_open();
	db_exec(db,
	    "DROP INDEX certs_key; "
	    "ALTER TABLE certs DROP COLUMN key_sha256; "
	    "ALTER TABLE certs DROP COLUMN owner; "
	    "ALTER TABLE certs DROP COLUMN sublevel; "
	    "PRAGMA user_version = 1");
	db_text(db,
	    "SELECT count(*) FROM pragma_table_info('certs') "
	    "WHERE name = 'key_sha256'",
	    NULL, got, sizeof(got));
	assert_string_equal(got, "0");
	/* One stored certificate that no longer parses. */
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "UPDATE certs SET der = x'3003020101' "
	                     "WHERE serial = ?1",
	                     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, junk, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);

	logged[0] = '\0';
	ca_reopen(&ca);
	assert_non_null(strstr(logged, junk));
	db = db_open();
	db_text(db, "PRAGMA user_version", NULL, got, sizeof(got));
	assert_string_equal(got, "4");
	db_text(db,
	    "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
	    "AND name = 'certs_key'",
	    NULL, got, sizeof(got));
	assert_string_equal(got, "1");
	db_text(db,
	    "SELECT count(*) FROM pragma_table_info('certs') "
	    "WHERE name IN ('sublevel', 'owner')",
	    NULL, got, sizeof(got));
	assert_string_equal(got, "2");
	/* Backfilled: the SHA-256 of each certificate's SPKI. */
	assert_int_equal(cs_ca_show(ca, bad, &in, &der, &dl), CS_OK);
	spki_hash(der, dl, want);
	cs_free(der);
	db_text(db, "SELECT key_sha256 FROM certs WHERE serial = ?1", bad, got,
	    sizeof(got));
	assert_string_equal(got, want);
	assert_int_equal(cs_ca_show(ca, live, &in, &der, &dl), CS_OK);
	spki_hash(der, dl, want);
	cs_free(der);
	db_text(db, "SELECT key_sha256 FROM certs WHERE serial = ?1", live, got,
	    sizeof(got));
	assert_string_equal(got, want);
	db_text(db, "SELECT key_sha256 FROM certs WHERE serial = ?1", junk, got,
	    sizeof(got));
	assert_string_equal(got, "");
	sqlite3_close(db);
	/* And the backfilled hash is what the check finds. */
	assert_int_equal(cs_ca_unlock(ca, TCA_PASS, strlen(TCA_PASS)), CS_OK);
	assert_int_equal(issue(ca, sw, csr, len, 0, NULL), CS_ERR_POLICY);
	assert_true(msg_has(bad));
	assert_int_equal(issue(ca, sw, csr2, len2, 0, NULL), CS_OK);
	cs_ca_close(ca);
	free(csr);
	free(csr2);
}

/* --- 3. permissions --- */

static void
chmod_in(const char *name, mode_t m)
{
	char p[1024];

	if (name == NULL)
		snprintf(p, sizeof(p), "%s", t.dir);
	else
		file_in(p, sizeof(p), name);
	assert_int_equal(chmod(p, m), 0);
}

static void
expect_refused(const char *what, const char *fix)
{
	struct cs_ca *ca = NULL;

	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_ERR_IO);
	assert_null(ca);
	if (!msg_has(what) || !msg_has(fix))
		fail_msg("message '%s' lacks '%s' or '%s'",
		    cs_ctx_errmsg(t.ctx), what, fix);
}

static void
expect_warned(const char *what, const char *fix)
{
	struct cs_ca *ca = NULL;

	logged[0] = '\0';
	ca_reopen(&ca);
	cs_ca_close(ca);
	if (strstr(logged, what) == NULL || strstr(logged, fix) == NULL)
		fail_msg("log '%s' lacks '%s' or '%s'", logged, what, fix);
}

static void
test_ca_guard_perm_dir(void **state)
{
	char fix[1024];
	struct cs_ca *ca = NULL;

	(void)state;
	cs_ca_close(t.ca);
	t.ca = NULL;
	snprintf(fix, sizeof(fix), "chmod 700 %s", t.dir);
	chmod_in(NULL, 0777);
	expect_refused("writable by group or others (mode 777)", fix);
	chmod_in(NULL, 0770);
	expect_refused("writable by group or others (mode 770)", fix);
	chmod_in(NULL, 0755);
	expect_warned("readable by group or others (mode 755)", fix);
	chmod_in(NULL, 0711);
	expect_warned("accessible by group or others (mode 711)", fix);
	chmod_in(NULL, 0700);
	logged[0] = '\0';
	ca_reopen(&ca);
	assert_string_equal(logged, "");
	cs_ca_close(ca);
}

static void
test_ca_guard_perm_files(void **state)
{
	char fix[1100], p[1024];

	(void)state;
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "issuing.key.pem");
	snprintf(fix, sizeof(fix), "chmod 600 %s", p);
	chmod_in("issuing.key.pem", 0644);
	expect_refused("readable by group or others (mode 644)", fix);
	chmod_in("issuing.key.pem", 0640);
	expect_refused("readable by group or others (mode 640)", fix);
	chmod_in("issuing.key.pem", 0660);
	expect_refused("writable by group or others (mode 660)", fix);
	chmod_in("issuing.key.pem", 0600);
	chmod_in("root.key.pem", 0604);
	expect_refused("root.key.pem is readable", "chmod 600");
	chmod_in("root.key.pem", 0600);

	file_in(p, sizeof(p), "registry.db");
	snprintf(fix, sizeof(fix), "chmod 600 %s", p);
	chmod_in("registry.db", 0666);
	expect_refused("writable by group or others (mode 666)", fix);
	chmod_in("registry.db", 0644);
	expect_warned("readable by group or others (mode 644)", fix);
	chmod_in("registry.db", 0600);

	/* Whoever may write a manufacturer root forges hardware levels. */
	file_in(p, sizeof(p), "trust/test-root.pem");
	write_text(p, "");
	chmod_in("trust/test-root.pem", 0666);
	expect_refused("trust/test-root.pem is writable", "chmod 600");
	chmod_in("trust/test-root.pem", 0600);
	chmod_in("profiles", 0777);
	expect_refused("profiles is writable", "chmod 700");
	chmod_in("profiles", 0700);
	chmod_in("ca.cnf", 0664);
	expect_refused("ca.cnf is writable", "chmod 600");
	chmod_in("ca.cnf", 0600);
}

static void
test_ca_guard_perm_owner(void **state)
{
	char p[1024];

	(void)state;
	if (geteuid() != 0)
		skip(); /* only root can give a file to another user */
	cs_ca_close(t.ca);
	t.ca = NULL;
	file_in(p, sizeof(p), "issuing.key.pem");
	assert_int_equal(chown(p, 65534, (gid_t)-1), 0);
	expect_refused("issuing.key.pem is not owned by you or root",
	    "refusing it");
	assert_int_equal(chown(p, 0, (gid_t)-1), 0);
	assert_int_equal(chown(t.dir, 65534, (gid_t)-1), 0);
	expect_refused("is not owned by you or root", t.dir);
	assert_int_equal(chown(t.dir, 0, (gid_t)-1), 0);
}

/* --- 4. passphrase strength --- */

static void
test_ca_guard_weak_passphrase(void **state)
{
	static const struct {
		const char *pass;
		const char *why;
	} weak[] = {
		{ "x", "too short" },
		{ "elevenchars", "too short" },
		{ "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c\xd0\xbf\xd0"
		  "\xb0\xd1\x80\xd0\xbe\xd0\xbb",
		    "too short" }, /* 11 Cyrillic letters, 22 bytes */
		{ "aaaaaaaaaaaaaaaa", "repeats one character" },
		{ "abababababababab", "fewer than 5 different" },
		{ "qwerqwerqwerqwer", "fewer than 5 different" },
		{ "abcdeabcdeabcde", "repeats a short sequence" },
		{ "abcdefghijklmnop", "run of consecutive" },
		{ "3456789012345", "run of consecutive" },
		{ "zyxwvutsrqponm", "run of consecutive" },
	};
	static const char *const strong[] = {
		"Tr0ub4dor&3x", /* exactly 12 */
		"correct horse battery staple",
		/* 13 Cyrillic letters and a hyphen */
		("\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c-\xd1\x81\xd0"
		 "\xb5\xd0\xba\xd1\x80\xd0\xb5\xd1\x82"),
	};
	struct cs_ca_init_opts o;
	struct cs_ca *ca = NULL;
	char dir[600], prof[1024];
	struct stat st;
	size_t i;

	(void)state;
	memset(&o, 0, sizeof(o));
	tca_path(prof, sizeof(prof), tca_src(), "profiles");
	o.profiles_dir = prof;
	for (i = 0; i < sizeof(weak) / sizeof(*weak); i++) {
		snprintf(dir, sizeof(dir), "%s/weak%zu", t.tmp, i);
		assert_int_equal(cs_ca_init(t.ctx, dir, &o, weak[i].pass,
		                     strlen(weak[i].pass), &ca),
		    CS_ERR_POLICY);
		assert_null(ca);
		if (!msg_has(weak[i].why))
			fail_msg("%zu: '%s' lacks '%s'", i,
			    cs_ctx_errmsg(t.ctx), weak[i].why);
		assert_null(strstr(cs_ctx_errmsg(t.ctx), weak[i].pass));
		/* Refused before anything is created. */
		assert_int_not_equal(stat(dir, &st), 0);
	}
	for (i = 0; i < sizeof(strong) / sizeof(*strong); i++) {
		snprintf(dir, sizeof(dir), "%s/strong%zu", t.tmp, i);
		if (cs_ca_init(t.ctx, dir, &o, strong[i], strlen(strong[i]),
		        &ca) != CS_OK)
			fail_msg("%zu: %s", i, cs_ctx_errmsg(t.ctx));
		cs_ca_close(ca);
		ca = NULL;
	}
}

static void
test_ca_guard_weak_passphrase_import(void **state)
{
	struct cs_ca_init_opts o;
	struct cs_ca *ca = NULL;
	uint8_t *key, *cert;
	size_t kl, cl;
	char dir[600], p[1024];

	(void)state;
	memset(&o, 0, sizeof(o));
	file_in(p, sizeof(p), "issuing.key.pem");
	assert_non_null(key = tca_read(p, &kl));
	file_in(p, sizeof(p), "issuing.crt.pem");
	assert_non_null(cert = tca_read(p, &cl));
	snprintf(dir, sizeof(dir), "%s/imported", t.tmp);
	assert_int_equal(cs_ca_import(t.ctx, dir, &o, key, kl, cert, cl, NULL,
	                     0, "short-pass", 10, &ca),
	    CS_ERR_POLICY);
	assert_true(msg_has("too short"));
	assert_null(ca);
	free(key);
	free(cert);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_guard_registry_missing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_registry_empty,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_guard_registry_no_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_guard_key_compromise_never_again, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_guard_other_reason_needs_override, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_guard_later_revocation_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_card_revocation,
		    setup_mint, teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_key_encodings,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_migrate_backfill,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_perm_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_perm_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_perm_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ca_guard_weak_passphrase,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_ca_guard_weak_passphrase_import, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
