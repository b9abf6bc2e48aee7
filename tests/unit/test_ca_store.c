/*
 * Unit tests for ca/store.c and the CA directory: file modes, WAL, the
 * serial's UNIQUE constraint, reserve → issue → deliver/revoke, reconcile
 * of pending rows a crash left, CRL numbers, list filters, reopen.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "test_ca_util.h"

#include "banned.h"

static struct tca t;
static struct cs_ca_profile *sw;

static int
setup(void **state)
{
	(void)state;
	if (tca_setup(&t, false, 0) != 0)
		return -1;
	return (sw = tca_profile(&t, "software")) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	cs_ca_profile_free(sw);
	tca_teardown(&t);
	return 0;
}

static void
issue_sw(char *serial)
{
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	char *csr;
	size_t len;

	csr = tca_software_csr("Store Test", false, NULL, &len);
	tca_req_init(&req, sw, csr, len);
	assert_int_equal(cs_ca_issue(t.ca, &req, &res), CS_OK);
	snprintf(serial, CS_CA_SERIAL_MAX, "%s", res.serial);
	cs_ca_issue_res_release(&res);
	free(csr);
}

static sqlite3 *
db_open(void)
{
	char p[1024];
	sqlite3 *db = NULL;

	tca_path(p, sizeof(p), t.dir, "registry.db");
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
test_ca_store_modes_and_wal(void **state)
{
	static const char *const files[] = {
		"registry.db",
		"issuing.key.pem",
		"root.key.pem",
		"ca.cnf",
		"issuing.crt.pem",
	};
	struct stat st;
	char p[1024];
	sqlite3 *db;
	sqlite3_stmt *s;
	size_t i;

	(void)state;
	assert_int_equal(stat(t.dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		tca_path(p, sizeof(p), t.dir, files[i]);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	db = db_open();
	assert_int_equal(
	    sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
	/* The key is encrypted: no clear PRIVATE KEY block on disk. */
	{
		size_t len;
		uint8_t *k;

		tca_path(p, sizeof(p), t.dir, "issuing.key.pem");
		k = tca_read(p, &len);
		assert_non_null(k);
		assert_non_null(strstr((char *)k, "ENCRYPTED PRIVATE KEY"));
		free(k);
	}
}

static void
test_ca_store_wrong_passphrase(void **state)
{
	struct cs_ca *ca = NULL;

	(void)state;
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_OK);
	assert_int_equal(cs_ca_unlock(ca, "wrong", 5), CS_ERR_AUTH);
	assert_int_equal(cs_ca_unlock(ca, TCA_PASS, strlen(TCA_PASS)), CS_OK);
	cs_ca_close(ca);
}

static void
test_ca_store_issue_deliver_revoke(void **state)
{
	struct cs_ca_cert_info in;
	char s1[CS_CA_SERIAL_MAX], lower[CS_CA_SERIAL_MAX];
	size_t n, i;

	(void)state;
	issue_sw(s1);
	assert_true(strlen(s1) >= 31);
	/* Lookups are case-insensitive. */
	for (i = 0; s1[i] != '\0'; i++)
		lower[i] =
		    (char)(s1[i] >= 'A' && s1[i] <= 'F' ? s1[i] + 32 : s1[i]);
	lower[i] = '\0';
	assert_int_equal(cs_ca_show(t.ca, lower, &in, NULL, NULL), CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_ISSUED);
	assert_string_equal(in.profile, "software");
	assert_int_equal(cs_ca_mark_delivered(t.ca, s1), CS_OK);
	assert_int_equal(cs_ca_mark_delivered(t.ca, s1), CS_ERR_NOT_FOUND);
	assert_int_equal(cs_ca_revoke(t.ca, s1, 0, 1, 0, &n), CS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cs_ca_show(t.ca, s1, &in, NULL, NULL), CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_REVOKED);
	assert_int_equal(in.revoke_reason, 1);
	assert_int_equal(cs_ca_revoke(t.ca, s1, 0, 1, 0, &n), CS_ERR_NOT_FOUND);
	assert_int_equal(cs_ca_revoke(t.ca, "00", 0, 1, 0, &n),
	    CS_ERR_NOT_FOUND);
	assert_int_equal(cs_ca_revoke(t.ca, "xyz", 0, 1, 0, &n), CS_ERR_ARG);
	assert_int_equal(cs_ca_revoke(t.ca, s1, 0, 8, 0, &n), CS_ERR_ARG);
	assert_int_equal(cs_ca_show(t.ca, "ABCDEF", &in, NULL, NULL),
	    CS_ERR_NOT_FOUND);
}

static void
test_ca_store_unique_serial(void **state)
{
	char s1[CS_CA_SERIAL_MAX];
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	issue_sw(s1);
	db = db_open();
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "INSERT INTO certs(serial, "
	                     "status, created) VALUES(?1, 0, 0)",
	                     -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, s1, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st) & 0xff, SQLITE_CONSTRAINT);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
test_ca_store_reconcile_voids_pending(void **state)
{
	struct cs_ca_reconcile_stats rs;
	struct cs_ca_cert_info in;
	sqlite3 *db;

	(void)state;
	/* What a crash between reserve and store leaves behind. */
	db = db_open();
	assert_int_equal(
	    sqlite3_exec(db,
	        "INSERT INTO certs(serial, status, "
	        "profile, created) VALUES('7F000000000000000000000000000001', 0, "
	        "'software', 1)",
	        NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(cs_ca_reconcile(t.ca, &rs), CS_OK);
	assert_int_equal(rs.pending_voided, 1);
	assert_true(rs.integrity_ok);
	assert_int_equal(rs.duplicates, 0);
	assert_int_equal(cs_ca_show(t.ca, "7F000000000000000000000000000001",
	                     &in, NULL, NULL),
	    CS_OK);
	assert_int_equal(in.status, CS_CA_STATUS_VOID);
	assert_int_equal(cs_ca_reconcile(t.ca, &rs), CS_OK);
	assert_int_equal(rs.pending_voided, 0);
}

static int
count(void *arg, const struct cs_ca_cert_info *in)
{
	(void)in;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_ca_store_list_filters(void **state)
{
	struct cs_ca_list_filter f = { 0, CS_CA_STATUS_VOID };
	size_t n = 0, all = 0, exp = 0;

	(void)state;
	assert_int_equal(cs_ca_list(t.ca, &f, count, &n), CS_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cs_ca_list(t.ca, NULL, count, &all), CS_OK);
	assert_true(all >= 3);
	/* software profile: 90 days. */
	f.status = -1;
	f.expiring_before = (int64_t)time(NULL) + 91LL * 86400;
	assert_int_equal(cs_ca_list(t.ca, &f, count, &exp), CS_OK);
	assert_true(exp >= 1);
	exp = 0;
	f.expiring_before = (int64_t)time(NULL) + 10LL * 86400;
	assert_int_equal(cs_ca_list(t.ca, &f, count, &exp), CS_OK);
	assert_int_equal(exp, 0);
}

static void
test_ca_store_crl_numbers_increase(void **state)
{
	char *a = NULL, *b = NULL;
	size_t al, bl;
	X509_CRL *c1, *c2;
	BIO *m;
	ASN1_INTEGER *n1, *n2;

	(void)state;
	assert_int_equal(cs_ca_crl(t.ca, 7, &a, &al), CS_OK);
	assert_int_equal(cs_ca_crl(t.ca, 7, &b, &bl), CS_OK);
	m = BIO_new_mem_buf(a, (int)al);
	c1 = PEM_read_bio_X509_CRL(m, NULL, NULL, NULL);
	BIO_free(m);
	m = BIO_new_mem_buf(b, (int)bl);
	c2 = PEM_read_bio_X509_CRL(m, NULL, NULL, NULL);
	BIO_free(m);
	assert_non_null(c1);
	assert_non_null(c2);
	n1 = X509_CRL_get_ext_d2i(c1, NID_crl_number, NULL, NULL);
	n2 = X509_CRL_get_ext_d2i(c2, NID_crl_number, NULL, NULL);
	assert_int_equal(ASN1_INTEGER_get(n2), ASN1_INTEGER_get(n1) + 1);
	assert_non_null(X509_CRL_get0_nextUpdate(c1));
	assert_true(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(c1)) >= 1);
	ASN1_INTEGER_free(n1);
	ASN1_INTEGER_free(n2);
	X509_CRL_free(c1);
	X509_CRL_free(c2);
	cs_free(a);
	cs_free(b);
}

static void
test_ca_store_locked_ca_refuses(void **state)
{
	struct cs_ca *ca = NULL;
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	char *csr, *pem = NULL;
	size_t len, pl;

	(void)state;
	assert_int_equal(cs_ca_open(t.ctx, t.dir, &ca), CS_OK);
	csr = tca_software_csr("Locked", false, NULL, &len);
	tca_req_init(&req, sw, csr, len);
	assert_int_equal(cs_ca_issue(ca, &req, &res), CS_ERR_ARG);
	assert_null(res.der);
	req.flags = CS_CA_ISSUE_DRYRUN;
	assert_int_equal(cs_ca_issue(ca, &req, &res), CS_OK);
	assert_int_equal(res.decision.level, CS_CA_LEVEL_SOFTWARE);
	assert_null(res.der);
	assert_int_equal(cs_ca_crl(ca, 7, &pem, &pl), CS_ERR_ARG);
	cs_ca_close(ca);
	free(csr);
}

static void
test_ca_store_init_refuses_existing(void **state)
{
	struct cs_ca_init_opts o;
	struct cs_ca *ca = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(
	    cs_ca_init(t.ctx, t.dir, &o, TCA_PASS, strlen(TCA_PASS), &ca),
	    CS_ERR_IO);
	assert_null(ca);
	assert_non_null(strstr(cs_ctx_errmsg(t.ctx), "not empty"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_store_modes_and_wal),
		cmocka_unit_test(test_ca_store_wrong_passphrase),
		cmocka_unit_test(test_ca_store_issue_deliver_revoke),
		cmocka_unit_test(test_ca_store_unique_serial),
		cmocka_unit_test(test_ca_store_reconcile_voids_pending),
		cmocka_unit_test(test_ca_store_list_filters),
		cmocka_unit_test(test_ca_store_crl_numbers_increase),
		cmocka_unit_test(test_ca_store_locked_ca_refuses),
		cmocka_unit_test(test_ca_store_init_refuses_existing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
