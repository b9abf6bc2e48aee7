/*
 * Unit tests for ca/profile.c: the shipped profiles parse with the values
 * their comments promise, and every kind of bad profile is refused with a
 * message naming the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_ca_util.h"

#include "banned.h"

static struct cs_ctx *ctx;

static int
setup(void **state)
{
	(void)state;
	return cs_ctx_new(&ctx) == CS_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	cs_ctx_free(ctx);
	return 0;
}

static enum cs_err
parse_shipped(const char *name, struct cs_ca_profile_info *info)
{
	struct cs_ca_profile *p = NULL;
	char path[1024], rel[128];
	uint8_t *text;
	size_t len;
	enum cs_err r;

	snprintf(rel, sizeof(rel), "profiles/%s.cnf", name);
	tca_path(path, sizeof(path), tca_src(), rel);
	text = tca_read(path, &len);
	assert_non_null(text);
	r = cs_ca_profile_parse(ctx, name, text, len, &p);
	if (r == CS_OK)
		cs_ca_profile_get_info(p, info);
	else
		fprintf(stderr, "# %s: %s\n", name, cs_ctx_errmsg(ctx));
	cs_ca_profile_free(p);
	free(text);
	return r;
}

static enum cs_err
parse_text(const char *text, struct cs_ca_profile_info *info)
{
	struct cs_ca_profile *p = NULL;
	enum cs_err r;

	r = cs_ca_profile_parse(ctx, "t", (const uint8_t *)text, strlen(text),
	    &p);
	if (r == CS_OK && info != NULL)
		cs_ca_profile_get_info(p, info);
	cs_ca_profile_free(p);
	return r;
}

#define SLOT(s) ((uint32_t)1 << ((s)-0x80))

static void
test_ca_profile_shipped_piv_auth(void **state)
{
	struct cs_ca_profile_info in;

	(void)state;
	assert_int_equal(parse_shipped("piv-auth", &in), CS_OK);
	assert_int_equal(in.level, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(in.max_level, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(in.slots, SLOT(0x9a));
	assert_int_equal(in.min_pin_policy, 2);
	assert_int_equal(in.validity_days, 365);
	assert_true(in.permanent_identifier);
	assert_true(in.marker);
	assert_int_equal(in.fw_roca, CS_CA_FW_DENY);
	assert_int_equal(in.fw_ysa_2024_03, CS_CA_FW_WARN);
	assert_true(in.algs & CS_CA_ALG_P256);
	assert_false(in.algs & CS_CA_ALG_ED25519);
}

static void
test_ca_profile_shipped_all(void **state)
{
	struct cs_ca_profile_info in;

	(void)state;
	assert_int_equal(parse_shipped("piv-sign", &in), CS_OK);
	assert_int_equal(in.slots, SLOT(0x9c));
	assert_int_equal(in.min_pin_policy, 3);
	assert_int_equal(parse_shipped("piv-keymgmt", &in), CS_OK);
	assert_int_equal(in.slots, SLOT(0x9d));
	assert_int_equal(parse_shipped("piv-cardauth", &in), CS_OK);
	assert_int_equal(in.slots, SLOT(0x9e));
	assert_int_equal(in.min_pin_policy, 0);
	assert_int_equal(parse_shipped("smartcard-logon", &in), CS_OK);
	assert_int_equal(parse_shipped("fpki-common-hardware", &in), CS_OK);
	assert_string_equal(in.policy_oid, "2.16.840.1.101.3.2.1.3.7");
	assert_int_equal(parse_shipped("software", &in), CS_OK);
	assert_int_equal(in.level, CS_CA_LEVEL_SOFTWARE);
	assert_int_equal(in.max_level, CS_CA_LEVEL_SOFTWARE);
	assert_int_equal(in.slots, 0);
}

#define EXT "[extensions]\nkeyUsage = critical, digitalSignature\n"

static void
expect_bad(const char *text, const char *msg)
{
	assert_int_equal(parse_text(text, NULL), CS_ERR_MALFORMED);
	if (strstr(cs_ctx_errmsg(ctx), msg) == NULL)
		fprintf(stderr, "# message: %s\n", cs_ctx_errmsg(ctx));
	assert_non_null(strstr(cs_ctx_errmsg(ctx), msg));
}

static void
test_ca_profile_rejects_bad(void **state)
{
	(void)state;
	expect_bad("[cardsmith]\nslots = 9a\n" EXT, "level is required");
	expect_bad("[cardsmith]\nlevel = hardware\n" EXT, "level: bad value");
	expect_bad("[cardsmith]\nlevel = software\nslotz = 9a\n" EXT,
	    "unknown key 'slotz'");
	expect_bad("[cardsmith]\nlevel = software\nslots = 9a,zz\n" EXT,
	    "'zz' is not a PIV key slot");
	expect_bad("[cardsmith]\nlevel = software\nslots = 7f\n" EXT,
	    "not a PIV key slot");
	expect_bad("[cardsmith]\nlevel = software\nalgs = p256,dsa\n" EXT,
	    "unknown algorithm 'dsa'");
	expect_bad(
	    "[cardsmith]\nlevel = software\nmin_pin_policy = sometimes\n" EXT,
	    "min_pin_policy: bad value");
	expect_bad("[cardsmith]\nlevel = software\nvalidity_days = 0\n" EXT,
	    "validity_days: bad value");
	expect_bad("[cardsmith]\nlevel = software\nvalidity_days = 12x\n" EXT,
	    "validity_days: bad value");
	expect_bad("[cardsmith]\nlevel = software\nfirmware_roca = maybe\n" EXT,
	    "firmware_roca: bad value");
	expect_bad("[cardsmith]\nlevel = software\npolicy_oid = 2.5.29.32.0\n"
	           "max_level = software\n" EXT,
	    "policy_oid: bad value");
	expect_bad("[cardsmith]\nlevel = software\npolicy_oid = 1.2.3.4\n" EXT,
	    "policy_oid needs max_level = level");
	expect_bad("[cardsmith]\nlevel = hardware-attested\n"
	           "max_level = software\n" EXT,
	    "max_level is below level");
	expect_bad("[cardsmith]\nlevel = software\n[extensions]\n"
	           "certificatePolicies = 1.2.3.4\n",
	    "set by the CA");
	expect_bad("[cardsmith]\nlevel = software\n[extensions]\n"
	           "subjectAltName = email:a@b\n",
	    "set by the CA");
	expect_bad("[cardsmith]\nlevel = software\n[extensions]\n"
	           "keyUsage = critical, fooBar\n",
	    "does not parse");
	expect_bad("[cardsmith]\nlevel = software\n", "no [extensions]");
	expect_bad("[other]\nlevel = software\n" EXT, "no [cardsmith]");
	expect_bad("[cardsmith\nlevel = software\n", "syntax error");
	expect_bad(
	    "[cardsmith]\nlevel = software\nsubject = CN=$undefined\n" EXT,
	    "syntax error");
}

static void
test_ca_profile_defaults_and_sections(void **state)
{
	struct cs_ca_profile_info in;

	(void)state;
	assert_int_equal(
	    parse_text(
	        "[cardsmith]\nlevel = hardware-enrolled\n"
	        "extensions = leaf\n[leaf]\nkeyUsage = critical,digitalSignature\n",
	        &in),
	    CS_OK);
	assert_int_equal(in.level, CS_CA_LEVEL_HW_ENROLLED);
	assert_int_equal(in.max_level, CS_CA_LEVEL_HW_ATTESTED);
	assert_int_equal(in.validity_days, 365);
	assert_int_equal(in.fw_roca, CS_CA_FW_DENY);
	assert_int_equal(in.fw_fips_rng, CS_CA_FW_DENY);
	assert_int_equal(in.slots, 0);
	assert_int_equal(
	    parse_text("[cardsmith]\nlevel = software\n"
	               "slots = 82, 95 ,9e\nmin_touch_policy = cached\n" EXT,
	        &in),
	    CS_OK);
	assert_int_equal(in.slots, SLOT(0x82) | SLOT(0x95) | SLOT(0x9e));
	assert_int_equal(in.min_touch_policy, 3);
}

static void
test_ca_profile_rejects_binary(void **state)
{
	static const uint8_t nul[] = "[cardsmith]\0level = software\n";
	struct cs_ca_profile *p = NULL;

	(void)state;
	assert_int_equal(cs_ca_profile_parse(ctx, "t", nul, sizeof(nul), &p),
	    CS_ERR_MALFORMED);
	assert_null(p);
	assert_int_equal(parse_text("", NULL), CS_ERR_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ca_profile_shipped_piv_auth),
		cmocka_unit_test(test_ca_profile_shipped_all),
		cmocka_unit_test(test_ca_profile_rejects_bad),
		cmocka_unit_test(test_ca_profile_defaults_and_sections),
		cmocka_unit_test(test_ca_profile_rejects_binary),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
