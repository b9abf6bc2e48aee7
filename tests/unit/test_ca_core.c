/*
 * The CA core (ca/README.md "Where each thing lives"): the subject order of
 * CA certificates (one DN parser for lib/ and ca/), cs_ca_import failing
 * on its certificate after the key decoded (nothing may leak), the
 * manufacturer trust store that the CA lends to assurance and keeps, and
 * the intakes every file of ca/ shares: certificate bundles through lib's
 * cs_pem_next (csa_certs_decode) and comma lists (csa_list_each).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cardsmith/x509_ossl.h"

#include "test_ca_util.h"

#include "../../ca/ca_int.h"

#include "banned.h"

static struct tca t;

static int
setup(void **state)
{
	(void)state;
	return tca_setup(&t, true, 0);
}

static int
teardown(void **state)
{
	(void)state;
	tca_teardown(&t);
	return 0;
}

/*
 * The subject of a certificate file of dir, one line, in DER order; it
 * must be the name lib's parser (the one lib/csr.c uses for --subject)
 * makes of text.
 */
static void
subject_of(const char *dir, const char *file, const char *text, char *dst,
    size_t cap)
{
	X509_NAME *want = NULL;
	char p[1024];
	X509 *x;
	FILE *f;

	tca_path(p, sizeof(p), dir, file);
	assert_non_null(f = fopen(p, "r"));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	X509_NAME_oneline(X509_get_subject_name(x), dst, (int)cap);
	assert_int_equal(cs_x509_name_parse(NULL, text, &want), CS_OK);
	assert_int_equal(X509_NAME_cmp(want, X509_get_subject_name(x)), 0);
	X509_NAME_free(want);
	X509_free(x);
}

/*
 * "CN=Root,O=Example,C=DE" is RFC 4514 text: the last RDN is written
 * first, so the DER (and OpenSSL's one-line form) starts with C, as
 * lib/csr.c builds the same string for a CSR.
 */
static void
test_ca_core_subject_order(void **state)
{
	struct cs_ca_init_opts o;
	struct cs_ca *ca = NULL;
	char dir[600], prof[1024], s[256];

	(void)state;
	memset(&o, 0, sizeof(o));
	tca_path(prof, sizeof(prof), tca_src(), "profiles");
	o.profiles_dir = prof;
	o.root_subject = "CN=Root,O=Example,C=DE";
	o.issuing_subject = "CN=Issuing,O=Example,C=DE";
	snprintf(dir, sizeof(dir), "%s/named", t.tmp);
	if (cs_ca_init(t.ctx, dir, &o, TCA_PASS, strlen(TCA_PASS), &ca) !=
	    CS_OK)
		fail_msg("init: %s", cs_ctx_errmsg(t.ctx));
	cs_ca_close(ca);
	subject_of(dir, "root.crt.pem", o.root_subject, s, sizeof(s));
	assert_string_equal(s, "/C=DE/O=Example/CN=Root");
	subject_of(dir, "issuing.crt.pem", o.issuing_subject, s, sizeof(s));
	assert_string_equal(s, "/C=DE/O=Example/CN=Issuing");
}

/* A good key and a certificate that does not decode: nothing leaks. */
static void
test_ca_core_import_bad_cert(void **state)
{
	static const uint8_t garbage[] = "this is no certificate";
	struct cs_ca_init_opts o;
	struct cs_ca *ca = NULL;
	uint8_t *key;
	size_t kl;
	char dir[600], p[1024];

	(void)state;
	memset(&o, 0, sizeof(o));
	tca_path(p, sizeof(p), t.dir, "issuing.key.pem");
	assert_non_null(key = tca_read(p, &kl));
	snprintf(dir, sizeof(dir), "%s/imported", t.tmp);
	assert_int_equal(cs_ca_import(t.ctx, dir, &o, key, kl, garbage,
	                     sizeof(garbage) - 1, NULL, 0, TCA_PASS,
	                     strlen(TCA_PASS), &ca),
	    CS_ERR_MALFORMED);
	assert_null(ca);
	free(key);
}

static enum cs_err
assess_with_chain(struct cs_ca_decision *d)
{
	struct cs_ca_profile *p;
	struct cs_ca_issue_req req;
	uint8_t *c, *s, *n, *ch;
	size_t cl, sl, nl, chl;
	enum cs_err r;

	assert_non_null(p = tca_profile(&t, "piv-auth"));
	assert_non_null(c = tca_mint_file(&t, "leaf.csr.pem", &cl));
	assert_non_null(s = tca_mint_file(&t, "stmt-9a.pem", &sl));
	assert_non_null(n = tca_mint_file(&t, "f9.pem", &nl));
	/* The trusted root itself, sent along: known, so redundant. */
	assert_non_null(ch = tca_mint_file(&t, "root.pem", &chl));
	tca_req_init(&req, p, c, cl);
	req.stmt = s;
	req.stmt_len = sl;
	req.f9 = n;
	req.f9_len = nl;
	req.intermediates = ch;
	req.intermediates_len = chl;
	r = cs_ca_assess(t.ca, &req, d);
	free(c);
	free(s);
	free(n);
	free(ch);
	cs_ca_profile_free(p);
	return r;
}

/*
 * Assurance borrows the CA's trust store, with intermediates too: after
 * the first load the trust directory is not read again (it is gone here),
 * so the second request is still judged against the same roots.
 */
static void
test_ca_core_trust_loaded_once(void **state)
{
	struct cs_ca_decision d;
	char from[1024], to[1024];

	(void)state;
	assert_int_equal(assess_with_chain(&d), CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ATTESTED);
	tca_path(from, sizeof(from), t.dir, "trust");
	tca_path(to, sizeof(to), t.tmp, "trust.moved");
	assert_int_equal(rename(from, to), 0);
	if (assess_with_chain(&d) != CS_OK)
		fail_msg("second assessment: %s", d.reason);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(assess_with_chain(&d), CS_OK);
	assert_int_equal(d.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(rename(to, from), 0);
}

/* Text of a file of the CA directory, NUL-terminated. */
static char *
ca_text(const char *file, size_t *len)
{
	char p[1024];

	tca_path(p, sizeof(p), t.dir, file);
	return (char *)tca_read(p, len);
}

static char *
join3(const char *a, const char *b, const char *c, size_t *len)
{
	size_t n = strlen(a) + strlen(b) + strlen(c);
	char *s = malloc(n + 1);

	assert_non_null(s);
	snprintf(s, n + 1, "%s%s%s", a, b, c);
	*len = n;
	return s;
}

/*
 * A bundle: every CERTIFICATE block, other kinds skipped; a corrupt
 * CERTIFICATE block fails the whole bundle (OpenSSL's reader loop that
 * was here stopped at it and kept the certificates before it).
 */
static void
test_ca_core_certs_bundle(void **state)
{
	static const char key[] = "-----BEGIN PRIVATE KEY-----\n"
				  "MC4CAQAwBQYDK2VwBCIEIA==\n"
				  "-----END PRIVATE KEY-----\n";
	static const char bad[] = "-----BEGIN CERTIFICATE-----\n"
				  "MIIB!!not*base64\n"
				  "-----END CERTIFICATE-----\n";
	STACK_OF(X509) *sk = NULL;
	char *root, *iss, *s;
	size_t rl, il, len;

	(void)state;
	assert_non_null(root = ca_text("root.crt.pem", &rl));
	assert_non_null(iss = ca_text("issuing.crt.pem", &il));
	s = join3(root, key, iss, &len);
	assert_int_equal(csa_certs_decode(t.ctx, "chain", (uint8_t *)s, len,
	                     &sk),
	    CS_OK);
	assert_int_equal(sk_X509_num(sk), 2);
	sk_X509_pop_free(sk, X509_free);
	sk = NULL;
	free(s);
	s = join3(root, bad, iss, &len);
	assert_int_equal(csa_certs_decode(t.ctx, "chain", (uint8_t *)s, len,
	                     &sk),
	    CS_ERR_MALFORMED);
	assert_null(sk);
	assert_string_equal(cs_ctx_errmsg(t.ctx),
	    "chain: PEM certificate 2 is corrupt");
	free(s);
	assert_int_equal(csa_certs_decode(t.ctx, "chain",
	                     (const uint8_t *)"no PEM here\n", 12, &sk),
	    CS_ERR_MALFORMED);
	assert_string_equal(cs_ctx_errmsg(t.ctx), "chain: no certificate");
	free(root);
	free(iss);
}

static enum cs_err
collect(char *item, void *arg)
{
	char *acc = arg;
	size_t n = strlen(acc);

	if (strcmp(item, "stop") == 0)
		return CS_ERR_ARG;
	snprintf(acc + n, 256 - n, "[%s]", item);
	return CS_OK;
}

/* Items trimmed of spaces and tabs, empty ones skipped, fn's error kept. */
static void
test_ca_core_list_each(void **state)
{
	char acc[256] = "", big[CSA_LIST_MAX + 1];

	/* collect() appends to 256 bytes; the long list is one item */

	(void)state;
	assert_int_equal(csa_list_each(t.ctx, "x", " 9a ,,\t9c\t, ,82", collect,
	                     acc),
	    CS_OK);
	assert_string_equal(acc, "[9a][9c][82]");
	acc[0] = '\0';
	assert_int_equal(csa_list_each(t.ctx, "x", "a, stop, b", collect, acc),
	    CS_ERR_ARG);
	assert_string_equal(acc, "[a]");
	memset(big, 'a', CSA_LIST_MAX);
	big[CSA_LIST_MAX] = '\0';
	assert_int_equal(csa_list_each(t.ctx, "profile p: slots", big, collect,
	                     acc),
	    CS_ERR_LIMIT);
	assert_string_equal(cs_ctx_errmsg(t.ctx), "profile p: slots too long");
	big[CSA_LIST_MAX - 1] = '\0';
	acc[0] = '\0';
	assert_int_equal(csa_list_each(t.ctx, "x", big, collect, acc), CS_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ca_core_subject_order,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_core_import_bad_cert,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_core_trust_loaded_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_core_certs_bundle,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_core_list_each,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
