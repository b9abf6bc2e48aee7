/*
 * Unit tests for the OIDs a CA writes (ca/ca.c, ca/lint.c): the default
 * policy arc is Microsoft's GUID-based 1.2.840.113556.1.8000.2554 arc with
 * seven arcs below 2^24; every OID the CA would write (arc, extra policy,
 * sub-level, profile policy_oid, anything in the TBS the lint sees) stays
 * within the portable limits (each arc below 2^28, at most 63 content
 * octets) unless the CA was made with CS_CA_INIT_LONG_OID_ARCS; limits are
 * checked on the parsed OID, never on the text; a CA directory from before
 * the option keeps working and is flagged.
 *
 * Evidence for the hardware-attested case comes from tests/data/ca/mint.sh.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_ca_util.h"

#include "../../ca/ca_int.h"

#include "banned.h"

#define GUID_ARC "1.2.840.113556.1.8000.2554"
#define UUID_ARC "2.25.329800735698586629295641978511506172918"

struct fx {
	struct tca t; /* mint + a default CA */
	int n; /* CA directories made so far */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || tca_setup(&f->t, true, 0) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tca_teardown(&f->t);
	free(f);
	return 0;
}

/* A fresh CA directory name under the fixture's temporary directory. */
static void
new_dir(struct fx *f, char *dst, size_t cap)
{
	char name[32];

	snprintf(name, sizeof(name), "ca%d", ++f->n);
	tca_path(dst, cap, f->t.tmp, name);
}

/* cs_ca_init with the given arc / extra policies / sub-levels / flags. */
static enum cs_err
init_ca(struct fx *f, const char *dir, const char *arc, const char *extra,
    const char *sub, unsigned int flags, struct cs_ca **out)
{
	struct cs_ca_init_opts o;
	const char *subs[2] = { sub, NULL };
	char roots[1024], prof[1024];
	enum cs_err r;

	memset(&o, 0, sizeof(o));
	tca_path(roots, sizeof(roots), f->t.mint, "root.pem");
	tca_path(prof, sizeof(prof), tca_src(), "profiles");
	o.roots_path = roots;
	o.profiles_dir = prof;
	o.arc = arc;
	o.extra_policies = extra;
	o.sublevels = sub != NULL ? subs : NULL;
	o.flags = flags;
	*out = NULL;
	r = cs_ca_init(f->t.ctx, dir, &o, TCA_PASS, strlen(TCA_PASS), out);
	if (r == CS_OK &&
	    cs_ca_unlock(*out, TCA_PASS, strlen(TCA_PASS)) != CS_OK)
		r = CS_ERR_INTERNAL;
	return r;
}

static bool
dir_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* Refused at init: code, the OID named, and no directory left behind. */
static void
expect_init_refused(struct fx *f, const char *arc, const char *extra,
    const char *sub, const char *oid)
{
	struct cs_ca *ca = NULL;
	char dir[600];
	enum cs_err r;

	new_dir(f, dir, sizeof(dir));
	r = init_ca(f, dir, arc, extra, sub, 0, &ca);
	if (r != CS_ERR_ARG || strstr(cs_ctx_errmsg(f->t.ctx), oid) == NULL)
		fprintf(stderr, "# %s: %s\n", cs_errname(r),
		    cs_ctx_errmsg(f->t.ctx));
	assert_int_equal(r, CS_ERR_ARG);
	assert_null(ca);
	assert_non_null(strstr(cs_ctx_errmsg(f->t.ctx), oid));
	assert_non_null(strstr(cs_ctx_errmsg(f->t.ctx), "2^28"));
	assert_non_null(
	    strstr(cs_ctx_errmsg(f->t.ctx), "--allow-long-oid-arcs"));
	assert_false(dir_exists(dir));
}

static void
expect_init_ok(struct fx *f, const char *arc, unsigned int flags)
{
	struct cs_ca *ca = NULL;
	char dir[600];
	enum cs_err r;

	new_dir(f, dir, sizeof(dir));
	r = init_ca(f, dir, arc, NULL, NULL, flags, &ca);
	if (r != CS_OK)
		fprintf(stderr, "# %s: %s: %s\n", arc, cs_errname(r),
		    cs_ctx_errmsg(f->t.ctx));
	assert_int_equal(r, CS_OK);
	cs_ca_close(ca);
}

/* Parse a decimal arc strictly; false on anything else. */
static bool
arc_value(const char *s, size_t len, unsigned long *v)
{
	char buf[32], *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoul(buf, &end, 10);
	return errno == 0 && *end == '\0' && buf[0] >= '0' && buf[0] <= '9';
}

static void
test_ca_oid_default_arc_is_guid_arc(void **state)
{
	struct fx *f = *state;
	const char *arc = cs_ca_arc(f->t.ca), *p, *dot;
	struct cs_ca *ca = NULL;
	unsigned long v[7];
	char want[CS_CA_OID_MAX], dir[600];
	size_t n = 0;

	assert_int_equal(strncmp(arc, GUID_ARC ".", strlen(GUID_ARC) + 1), 0);
	for (p = arc + strlen(GUID_ARC) + 1; n < 7; p = dot + 1) {
		dot = strchr(p, '.');
		assert_true(arc_value(p,
		    dot != NULL ? (size_t)(dot - p) : strlen(p), &v[n]));
		assert_true(v[n] < (n < 5 ? 1ul << 16 : 1ul << 24));
		n++;
		if (dot == NULL)
			break;
	}
	assert_int_equal(n, 7);
	assert_null(dot); /* exactly seven arcs after the base */
	/* A version 4, variant 10 UUID: dddd = 4xxx, eeee = 8xxx..bxxx. */
	assert_int_equal(v[3] >> 12, 4);
	assert_int_equal(v[4] >> 14, 2);
	snprintf(want, sizeof(want), "%s.1.1", arc);
	assert_string_equal(cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_HW_ATTESTED),
	    want);
	snprintf(want, sizeof(want), "%s.1.3", arc);
	assert_string_equal(cs_ca_level_oid(f->t.ca, CS_CA_LEVEL_SOFTWARE),
	    want);
	assert_int_equal(cs_ca_oid_arcs(f->t.ca, NULL), CS_CA_OID_ARCS_SHORT);
	/* Random per CA. */
	new_dir(f, dir, sizeof(dir));
	assert_int_equal(init_ca(f, dir, NULL, NULL, NULL, 0, &ca), CS_OK);
	assert_string_not_equal(cs_ca_arc(ca), arc);
	cs_ca_close(ca);
}

/* Every OID in the root's certificatePolicies and level map is short. */
static void
test_ca_oid_default_ca_certs_within_limits(void **state)
{
	struct fx *f = *state;
	uint8_t *der;
	size_t len;
	X509 *x = tca_ca_cert(&f->t, "root.crt.pem");
	char findings[CS_CA_REASON_MAX];
	enum cs_err r;

	assert_non_null(x);
	der = tca_der(x, &len);
	/* The lint's OID walk covers every OID; only that finding matters. */
	r = cs_ca_lint(f->t.ctx, der, len, NULL, 0, CS_CA_LINT_CA, findings,
	    sizeof(findings));
	(void)r;
	assert_null(strstr(findings, "2^28"));
	assert_null(strstr(findings, "63 octets"));
	free(der);
	X509_free(x);
}

static void
test_ca_oid_uuid_arc_refused_without_option(void **state)
{
	expect_init_refused(*state, UUID_ARC, NULL, NULL, UUID_ARC);
}

static void
test_ca_oid_uuid_arc_allowed_with_option(void **state)
{
	struct fx *f = *state;
	struct cs_ca *ca = NULL, *again = NULL;
	struct cs_ca_profile *p = NULL;
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	const char *w = NULL;
	char dir[600], cnf[700];
	uint8_t *text;
	char *csr;
	size_t len, csrlen;

	new_dir(f, dir, sizeof(dir));
	assert_int_equal(init_ca(f, dir, UUID_ARC, NULL, NULL,
	                     CS_CA_INIT_LONG_OID_ARCS, &ca),
	    CS_OK);
	assert_string_equal(cs_ca_arc(ca), UUID_ARC);
	assert_int_equal(cs_ca_oid_arcs(ca, &w), CS_CA_OID_ARCS_ALLOWED);
	assert_non_null(w);
	assert_non_null(strstr(w, "Go's crypto/x509"));
	assert_non_null(strstr(w, "Traefik"));
	assert_non_null(strstr(w, "python3-cryptography 38"));
	assert_non_null(strstr(w, "ykman"));
	tca_path(cnf, sizeof(cnf), dir, "ca.cnf");
	assert_non_null(text = tca_read(cnf, &len));
	assert_non_null(strstr((char *)text, "\nallow_long_oid_arcs = yes\n"));
	free(text);
	/* Recorded: a reopened CA still allows them and issues. */
	assert_int_equal(cs_ca_open(f->t.ctx, dir, &again), CS_OK);
	assert_int_equal(cs_ca_oid_arcs(again, NULL), CS_CA_OID_ARCS_ALLOWED);
	assert_int_equal(cs_ca_unlock(again, TCA_PASS, strlen(TCA_PASS)),
	    CS_OK);
	assert_int_equal(cs_ca_profile_load(again, "software", &p), CS_OK);
	csr = tca_software_csr("Long Arc", false, NULL, &csrlen);
	tca_req_init(&req, p, csr, csrlen);
	assert_int_equal(cs_ca_issue(again, &req, &res), CS_OK);
	assert_string_equal(res.decision.policy_oid, UUID_ARC ".1.3");
	cs_ca_issue_res_release(&res);
	free(csr);
	cs_ca_profile_free(p);
	cs_ca_close(again);
	cs_ca_close(ca);
}

/*
 * The limit is on the value: 2^28 - 1 is the largest arc in four base-128
 * octets (what Debian 12's python3-cryptography reads); 2^31 - 1 still
 * parses in Go but not there, so it is refused too.
 */
static void
test_ca_oid_arc_limit_boundary(void **state)
{
	struct fx *f = *state;

	expect_init_ok(f, "1.3.6.1.4.1.268435455", 0);
	expect_init_refused(f, "1.3.6.1.4.1.268435456", NULL, NULL,
	    "1.3.6.1.4.1.268435456");
	expect_init_refused(f, "1.3.6.1.4.1.2147483647", NULL, NULL,
	    "1.3.6.1.4.1.2147483647");
	expect_init_refused(f, "1.3.6.1.4.1.2147483648", NULL, NULL,
	    "1.3.6.1.4.1.2147483648");
	/* The first sub-identifier is 80 + Y for 2.Y (X.690 8.19.4). */
	expect_init_ok(f, "2.268435375", 0);
	expect_init_refused(f, "2.268435376", NULL, NULL, "2.268435376");
	expect_init_ok(f, "1.3.6.1.4.1.2147483648", CS_CA_INIT_LONG_OID_ARCS);
}

static void
test_ca_oid_der_limits(void **state)
{
	/* 1.2.268435455 and 1.2.268435456 as content octets. */
	static const uint8_t max[] = { 0x2a, 0xff, 0xff, 0xff, 0x7f };
	static const uint8_t over[] = { 0x2a, 0x81, 0x80, 0x80, 0x80, 0x00 };
	static const uint8_t nonmin[] = { 0x2a, 0x80, 0x01 };
	static const uint8_t open[] = { 0x2a, 0x81 };
	uint8_t big[CSA_OID_DER_MAX + 1];

	(void)state;
	assert_true(csa_oid_der_short(max, sizeof(max)));
	assert_false(csa_oid_der_short(over, sizeof(over)));
	assert_false(csa_oid_der_short(nonmin, sizeof(nonmin)));
	assert_false(csa_oid_der_short(open, sizeof(open)));
	assert_false(csa_oid_der_short(max, 0));
	memset(big, 0x01, sizeof(big));
	big[0] = 0x2a;
	assert_true(csa_oid_der_short(big, CSA_OID_DER_MAX));
	assert_false(csa_oid_der_short(big, sizeof(big)));
}

static void
test_ca_oid_text_parsed_strictly(void **state)
{
	static const char *const bad[] = {
		"",
		"1",
		"1..2",
		"1.2.",
		".1.2",
		"1.2 ",
		" 1.2",
		"1.2.+3",
		"1.2.-3",
		"1.40",
		"3.1",
		"1.2.x",
		NULL,
	};
	char c[CS_CA_OID_MAX];
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		if (csa_oid_parse(bad[i], 0, c, sizeof(c)) != CS_ERR_MALFORMED)
			fprintf(stderr, "# accepted '%s'\n", bad[i]);
		assert_int_equal(csa_oid_parse(bad[i], 0, c, sizeof(c)),
		    CS_ERR_MALFORMED);
		assert_string_equal(c, "");
	}
	/* Non-canonical spellings are read as the OID they encode. */
	assert_int_equal(
	    csa_oid_parse("1.3.6.1.4.1.0099999.01", 0, c, sizeof(c)), CS_OK);
	assert_string_equal(c, "1.3.6.1.4.1.99999.1");
	/* Long text, short arc: the value counts, not the length. */
	assert_int_equal(csa_oid_parse("1.2.0000000000000000000000000000000"
	                               "000000000000000000005",
	                     0, c, sizeof(c)),
	    CS_OK);
	assert_string_equal(c, "1.2.5");
	/* Short text, long arc. */
	assert_int_equal(csa_oid_parse("1.2.268435456", 0, c, sizeof(c)),
	    CS_ERR_LIMIT);
	assert_int_equal(
	    csa_oid_parse("1.2.000000000000268435456", 0, c, sizeof(c)),
	    CS_ERR_LIMIT);
	assert_int_equal(csa_oid_parse("1.2.000000000000268435456",
	                     CSA_OID_LONG_ARCS, c, sizeof(c)),
	    CS_OK);
	assert_string_equal(c, "1.2.268435456");
	/* anyPolicy in any spelling is not a specific policy. */
	assert_int_equal(
	    csa_oid_parse("2.5.29.32.00", CSA_OID_POLICY, c, sizeof(c)),
	    CS_ERR_MALFORMED);
	assert_int_equal(csa_oid_parse("2.5.29.32.0", 0, c, sizeof(c)), CS_OK);
}

static void
test_ca_oid_noncanonical_arc_stored_canonical(void **state)
{
	struct fx *f = *state;
	struct cs_ca *ca = NULL, *again = NULL;
	char dir[600];

	new_dir(f, dir, sizeof(dir));
	assert_int_equal(init_ca(f, dir, "1.3.6.1.4.1.0099999.007",
	                     "software=1.3.6.1.4.1.099999.9", NULL, 0, &ca),
	    CS_OK);
	assert_string_equal(cs_ca_arc(ca), "1.3.6.1.4.1.99999.7");
	assert_string_equal(cs_ca_level_oid(ca, CS_CA_LEVEL_HW_ATTESTED),
	    "1.3.6.1.4.1.99999.7.1.1");
	cs_ca_close(ca);
	assert_int_equal(cs_ca_open(f->t.ctx, dir, &again), CS_OK);
	assert_string_equal(cs_ca_arc(again), "1.3.6.1.4.1.99999.7");
	cs_ca_close(again);
	/* A long arc hidden behind leading zeros is still long. */
	expect_init_refused(f, "1.3.6.1.4.1.0000000002147483648", NULL, NULL,
	    "1.3.6.1.4.1.2147483648");
}

static void
test_ca_oid_long_extra_policy_refused(void **state)
{
	struct fx *f = *state;
	struct cs_ca *ca = NULL;
	char dir[600];

	expect_init_refused(f, NULL, "software=1.2.3.4294967296", NULL,
	    "1.2.3.4294967296");
	expect_init_refused(f, NULL, "2.25.123456789012345678901234567890",
	    NULL, "2.25.123456789012345678901234567890");
	new_dir(f, dir, sizeof(dir));
	assert_int_equal(init_ca(f, dir, NULL, "software=1.2.3.4294967296",
	                     NULL, CS_CA_INIT_LONG_OID_ARCS, &ca),
	    CS_OK);
	cs_ca_close(ca);
}

static void
test_ca_oid_long_sublevel_refused(void **state)
{
	struct fx *f = *state;
	struct cs_ca *ca = NULL;
	char dir[600];

	expect_init_refused(f, NULL, NULL,
	    "strict=pin:always,oid:1.2.3.4294967296", "1.2.3.4294967296");
	/* The default sub-level OID under a long arc is long too. */
	new_dir(f, dir, sizeof(dir));
	assert_int_equal(init_ca(f, dir, UUID_ARC, NULL, "strict=pin:always",
	                     CS_CA_INIT_LONG_OID_ARCS, &ca),
	    CS_OK);
	assert_string_equal(cs_ca_sublevel_at(ca, 0)->oid, UUID_ARC ".1.1.1");
	cs_ca_close(ca);
}

static struct cs_ca_profile *
parse_profile(struct fx *f, const char *text)
{
	struct cs_ca_profile *p = NULL;

	if (cs_ca_profile_parse(f->t.ctx, "t", (const uint8_t *)text,
	        strlen(text), &p) != CS_OK)
		fprintf(stderr, "# profile: %s\n", cs_ctx_errmsg(f->t.ctx));
	assert_non_null(p);
	return p;
}

/* Issue (dry run) the minted attested leaf under profile text on ca. */
static enum cs_err
issue_attested(struct fx *f, struct cs_ca *ca, const char *text)
{
	struct cs_ca_profile *p = parse_profile(f, text);
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	uint8_t *csr, *st, *f9;
	size_t cl, sl, fl;
	enum cs_err r;

	assert_non_null(csr = tca_mint_file(&f->t, "leaf.csr.pem", &cl));
	assert_non_null(st = tca_mint_file(&f->t, "stmt-9a.pem", &sl));
	assert_non_null(f9 = tca_mint_file(&f->t, "f9.pem", &fl));
	tca_req_init(&req, p, csr, cl);
	req.stmt = st;
	req.stmt_len = sl;
	req.f9 = f9;
	req.f9_len = fl;
	req.flags = CS_CA_ISSUE_DRYRUN;
	r = cs_ca_issue(ca, &req, &res);
	cs_ca_issue_res_release(&res);
	free(csr);
	free(st);
	free(f9);
	cs_ca_profile_free(p);
	return r;
}

#define HW_PROFILE(extra)                                                      \
	"[cardsmith]\nlevel = hardware-attested\nmax_level = "                 \
	"hardware-attested\nslots = 9a\n" extra                                \
	"[extensions]\nbasicConstraints = critical,CA:FALSE\n"                 \
	"keyUsage = critical,digitalSignature\n"                               \
	"extendedKeyUsage = clientAuth\n"

static void
test_ca_oid_long_profile_policy_oid_refused(void **state)
{
	struct fx *f = *state;
	struct cs_ca *ca = NULL;
	const char *msg;
	char dir[600];

	/* The control: a short fixed policy OID issues. */
	assert_int_equal(issue_attested(f, f->t.ca,
	                     HW_PROFILE("policy_oid = 1.3.6.1.4.1.99999.1\n")),
	    CS_OK);
	assert_int_equal(issue_attested(f, f->t.ca,
	                     HW_PROFILE("policy_oid = 1.2.3.4294967296\n")),
	    CS_ERR_POLICY);
	msg = cs_ctx_errmsg(f->t.ctx);
	assert_non_null(strstr(msg, "lint"));
	assert_non_null(strstr(msg, "OID 1.2.3.4294967296 has an arc of 2^28"));
	/* Allowed at a CA made with the option. */
	new_dir(f, dir, sizeof(dir));
	assert_int_equal(
	    init_ca(f, dir, NULL, NULL, NULL, CS_CA_INIT_LONG_OID_ARCS, &ca),
	    CS_OK);
	assert_int_equal(issue_attested(f, ca,
	                     HW_PROFILE("policy_oid = 1.2.3.4294967296\n")),
	    CS_OK);
	cs_ca_close(ca);
}

/* The lint walks extension values and extension IDs as well. */
static void
test_ca_oid_lint_sees_extension_oids(void **state)
{
	struct fx *f = *state;
	static const char eku[] =
	    "[cardsmith]\nlevel = software\nmax_level = software\n"
	    "[extensions]\nbasicConstraints = critical,CA:FALSE\n"
	    "keyUsage = critical,digitalSignature\n"
	    "extendedKeyUsage = clientAuth, 1.3.6.1.4.1.311.2147483648\n";
	static const char extid[] =
	    "[cardsmith]\nlevel = software\nmax_level = software\n"
	    "[extensions]\nbasicConstraints = critical,CA:FALSE\n"
	    "keyUsage = critical,digitalSignature\n"
	    "extendedKeyUsage = clientAuth\n"
	    "1.3.6.1.4.1.99999.4294967296 = ASN1:NULL\n";
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	struct cs_ca_profile *p;
	size_t csrlen;
	char *csr = tca_software_csr("Ext Oid", false, NULL, &csrlen);

	p = parse_profile(f, eku);
	tca_req_init(&req, p, csr, csrlen);
	req.flags = CS_CA_ISSUE_DRYRUN;
	assert_int_equal(cs_ca_issue(f->t.ca, &req, &res), CS_ERR_POLICY);
	assert_non_null(strstr(cs_ctx_errmsg(f->t.ctx),
	    "Extended Key Usage: OID 1.3.6.1.4.1.311.2147483648"));
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	p = parse_profile(f, extid);
	tca_req_init(&req, p, csr, csrlen);
	req.flags = CS_CA_ISSUE_DRYRUN;
	assert_int_equal(cs_ca_issue(f->t.ca, &req, &res), CS_ERR_POLICY);
	assert_non_null(strstr(cs_ctx_errmsg(f->t.ctx),
	    "OID 1.3.6.1.4.1.99999.4294967296 has an arc of 2^28"));
	cs_ca_issue_res_release(&res);
	cs_ca_profile_free(p);
	free(csr);
}

/* cs_ca_lint on a finished certificate, with and without the flag. */
static void
test_ca_oid_lint_flag(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	CERTIFICATEPOLICIES *cp;
	POLICYINFO *pi;
	char findings[CS_CA_REASON_MAX];
	uint8_t *der;
	size_t len;
	enum cs_err r;

	assert_non_null(k);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"t", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	assert_non_null(cp = sk_POLICYINFO_new_null());
	assert_non_null(pi = POLICYINFO_new());
	assert_non_null(pi->policyid = OBJ_txt2obj("1.2.3.268435456", 1));
	assert_true(sk_POLICYINFO_push(cp, pi) > 0);
	assert_int_equal(X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0,
	                     X509V3_ADD_DEFAULT),
	    1);
	CERTIFICATEPOLICIES_free(cp);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	der = tca_der(x, &len);
	assert_int_equal(cs_ca_lint(f->t.ctx, der, len, NULL, 0, 0, findings,
	                     sizeof(findings)),
	    CS_ERR_POLICY);
	assert_non_null(strstr(findings,
	    "Certificate Policies: OID 1.2.3.268435456 has an arc of 2^28"));
	r = cs_ca_lint(f->t.ctx, der, len, NULL, 0, CS_CA_LINT_LONG_OID_ARCS,
	    findings, sizeof(findings));
	(void)r;
	assert_null(strstr(findings, "2^28"));
	free(der);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
}

/*
 * Rewrite ca.cnf of dir: drop its allow_long_oid_arcs line and put line
 * (may be "") right after "[ca]".
 */
static void
set_allow_line(const char *dir, const char *line)
{
	char cnf[700], *s, *at, *end;
	uint8_t *text;
	size_t len;
	FILE *fp;

	tca_path(cnf, sizeof(cnf), dir, "ca.cnf");
	assert_non_null(text = tca_read(cnf, &len));
	s = (char *)text;
	if ((at = strstr(s, "allow_long_oid_arcs = ")) != NULL) {
		assert_non_null(end = strchr(at, '\n'));
		memmove(at, end + 1, strlen(end + 1) + 1);
	}
	assert_non_null(at = strstr(s, "[ca]\n"));
	at += strlen("[ca]\n");
	assert_non_null(fp = fopen(cnf, "w"));
	fwrite(s, 1, (size_t)(at - s), fp);
	fputs(line, fp);
	fputs(at, fp);
	fclose(fp);
	free(text);
}

/* A CA directory from before the option: opens, issues, is flagged. */
static void
test_ca_oid_legacy_ca_keeps_working(void **state)
{
	struct fx *f = *state;
	struct cs_ca *ca = NULL;
	struct cs_ca_profile *p = NULL;
	struct cs_ca_issue_req req;
	struct cs_ca_issue_res res;
	const char *w = NULL;
	char dir[600], sdir[600];
	char *csr;
	size_t csrlen;

	new_dir(f, dir, sizeof(dir));
	assert_int_equal(init_ca(f, dir, UUID_ARC, NULL, NULL,
	                     CS_CA_INIT_LONG_OID_ARCS, &ca),
	    CS_OK);
	cs_ca_close(ca);
	set_allow_line(dir, "");
	assert_int_equal(cs_ca_open(f->t.ctx, dir, &ca), CS_OK);
	assert_int_equal(cs_ca_oid_arcs(ca, &w), CS_CA_OID_ARCS_LEGACY);
	assert_non_null(w);
	assert_non_null(strstr(w, "move to a new CA"));
	assert_non_null(strstr(w, "allow_long_oid_arcs = yes"));
	assert_int_equal(cs_ca_unlock(ca, TCA_PASS, strlen(TCA_PASS)), CS_OK);
	assert_int_equal(cs_ca_profile_load(ca, "software", &p), CS_OK);
	csr = tca_software_csr("Legacy", false, NULL, &csrlen);
	tca_req_init(&req, p, csr, csrlen);
	assert_int_equal(cs_ca_issue(ca, &req, &res), CS_OK);
	assert_string_equal(res.decision.policy_oid, UUID_ARC ".1.3");
	cs_ca_issue_res_release(&res);
	free(csr);
	cs_ca_profile_free(p);
	cs_ca_close(ca);
	/* The operator acknowledges: allowed, no legacy flag. */
	set_allow_line(dir, "allow_long_oid_arcs = yes\n");
	assert_int_equal(cs_ca_open(f->t.ctx, dir, &ca), CS_OK);
	assert_int_equal(cs_ca_oid_arcs(ca, NULL), CS_CA_OID_ARCS_ALLOWED);
	cs_ca_close(ca);
	/* "no" with long OIDs, or a value that is neither: refused. */
	set_allow_line(dir, "allow_long_oid_arcs = no\n");
	assert_int_equal(cs_ca_open(f->t.ctx, dir, &ca), CS_ERR_MALFORMED);
	assert_non_null(strstr(cs_ctx_errmsg(f->t.ctx), UUID_ARC));
	set_allow_line(dir, "allow_long_oid_arcs = maybe\n");
	assert_int_equal(cs_ca_open(f->t.ctx, dir, &ca), CS_ERR_MALFORMED);
	/* An old CA with short OIDs is simply short. */
	new_dir(f, sdir, sizeof(sdir));
	assert_int_equal(init_ca(f, sdir, NULL, NULL, NULL, 0, &ca), CS_OK);
	cs_ca_close(ca);
	set_allow_line(sdir, "");
	assert_int_equal(cs_ca_open(f->t.ctx, sdir, &ca), CS_OK);
	assert_int_equal(cs_ca_oid_arcs(ca, &w), CS_CA_OID_ARCS_SHORT);
	assert_null(w);
	cs_ca_close(ca);
}

/* Importing a CA certificate whose level map has long OIDs. */
static void
test_ca_oid_import_long_level_map(void **state)
{
	struct fx *f = *state;
	struct cs_ca_init_opts o;
	struct cs_ca *ca = NULL, *imp = NULL;
	char dir[600], p[700];
	uint8_t *key, *cert;
	size_t kl, cl;

	new_dir(f, dir, sizeof(dir));
	assert_int_equal(init_ca(f, dir, UUID_ARC, NULL, NULL,
	                     CS_CA_INIT_LONG_OID_ARCS, &ca),
	    CS_OK);
	cs_ca_close(ca);
	tca_path(p, sizeof(p), dir, "issuing.key.pem");
	assert_non_null(key = tca_read(p, &kl));
	tca_path(p, sizeof(p), dir, "issuing.crt.pem");
	assert_non_null(cert = tca_read(p, &cl));
	memset(&o, 0, sizeof(o));
	new_dir(f, dir, sizeof(dir));
	assert_int_equal(cs_ca_import(f->t.ctx, dir, &o, key, kl, cert, cl,
	                     NULL, 0, TCA_PASS, strlen(TCA_PASS), &imp),
	    CS_ERR_ARG);
	assert_non_null(strstr(cs_ctx_errmsg(f->t.ctx), UUID_ARC));
	new_dir(f, dir, sizeof(dir));
	o.flags = CS_CA_INIT_LONG_OID_ARCS;
	assert_int_equal(cs_ca_import(f->t.ctx, dir, &o, key, kl, cert, cl,
	                     NULL, 0, TCA_PASS, strlen(TCA_PASS), &imp),
	    CS_OK);
	assert_string_equal(cs_ca_level_oid(imp, CS_CA_LEVEL_SOFTWARE),
	    UUID_ARC ".1.3");
	cs_ca_close(imp);
	cs_free_secret(key, kl);
	free(cert);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_oid_default_arc_is_guid_arc),
		cmocka_unit_test(test_ca_oid_default_ca_certs_within_limits),
		cmocka_unit_test(test_ca_oid_uuid_arc_refused_without_option),
		cmocka_unit_test(test_ca_oid_uuid_arc_allowed_with_option),
		cmocka_unit_test(test_ca_oid_arc_limit_boundary),
		cmocka_unit_test(test_ca_oid_der_limits),
		cmocka_unit_test(test_ca_oid_text_parsed_strictly),
		cmocka_unit_test(test_ca_oid_noncanonical_arc_stored_canonical),
		cmocka_unit_test(test_ca_oid_long_extra_policy_refused),
		cmocka_unit_test(test_ca_oid_long_sublevel_refused),
		cmocka_unit_test(test_ca_oid_long_profile_policy_oid_refused),
		cmocka_unit_test(test_ca_oid_lint_sees_extension_oids),
		cmocka_unit_test(test_ca_oid_lint_flag),
		cmocka_unit_test(test_ca_oid_legacy_ca_keeps_working),
		cmocka_unit_test(test_ca_oid_import_long_level_map),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
