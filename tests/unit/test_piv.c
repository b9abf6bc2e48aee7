/*
 * Unit tests for lib/piv.c, lib/piv_mgm.c and lib/piv_key.c against the
 * scripted fake transport: every APDU the library sends is compared byte
 * for byte with piv-apdu.md (section numbers below), and every status word
 * the PIV code maps is checked for its code and message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ZLIB_CONST
#include <zlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/piv.h"
#include "fake_transport.h"
#include "piv_int.h"

#include "banned.h"

#define SEL "00 A4 04 00 05 A0 00 00 03 08"
#define APT "4F 06 00 00 10 00 01 00 79 07 4F 05 A0 00 00 03 08"
#define PIN_123456 "31 32 33 34 35 36 FF FF"
#define DEFKEY "010203040506070801020304050607080102030405060708"
#define ATR_YK5 "3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 " \
	"69 4B 65 79 40"

struct T {
	struct cs_ctx *ctx;
	struct cs_fake *f;
	struct cs_transport *t;
	struct cs_card *card;
};

/* --- helpers --- */

static int
setup(void **state)
{
	struct T *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	assert_int_equal(cs_ctx_new(&x->ctx), CS_OK);
	assert_int_equal(cs_fake_new(&x->f, &x->t), CS_OK);
	*state = x;
	return 0;
}

static int
teardown(void **state)
{
	struct T *x = *state;

	cs_card_close(x->card); /* closes x->t */
	cs_fake_free(x->f);
	cs_ctx_free(x->ctx);
	free(x);
	return 0;
}

static void
ex(struct T *x, const char *cmd, const char *resp)
{
	assert_int_equal(cs_fake_expect_hex(x->f, cmd, resp), CS_OK);
}

static void
ex_bytes(struct T *x, const uint8_t *cmd, size_t clen, const uint8_t *resp,
    size_t rlen)
{
	assert_int_equal(cs_fake_expect(x->f, cmd, clen, resp, rlen), CS_OK);
}

static void
assert_script_done(struct T *x)
{
	if (!cs_fake_ok(x->f))
		fail_msg("fake: %s", cs_fake_error(x->f));
	assert_int_equal(cs_fake_nbegin(x->f), cs_fake_nend(x->f));
}

static void
assert_msg_has(struct T *x, const char *needle)
{
	if (strstr(cs_ctx_errmsg(x->ctx), needle) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", cs_ctx_errmsg(x->ctx),
		    needle);
}

/* Deterministic "random" source: 00 01 02 ... or a fixed pattern. */
struct rng {
	uint8_t start;
};

static enum cs_err
counting_rng(void *arg, uint8_t *buf, size_t n)
{
	struct rng *g = arg;
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(g->start + i);
	return CS_OK;
}

static struct rng rng_from1 = { 1 }, rng_from0 = { 0 };

/* YubiKey 5.4.3, serial 12345678 (§2.2, §4.9, §4.10). */
static void
open_yk(struct T *x)
{
	size_t n;
	uint8_t *atr = cs_fake_hex(ATR_YK5, &n);

	assert_non_null(atr);
	assert_int_equal(cs_fake_set_atr(x->f, atr, n), CS_OK);
	free(atr);
	ex(x, SEL, "61 11");
	ex(x, "00 C0 00 00 11", APT " 90 00");
	ex(x, "00 FD 00 00 00", "05 04 03 90 00");
	ex(x, "00 F8 00 00 00 00 00", "00 BC 61 4E 90 00");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card), CS_OK);
	csi_piv_set_rng(x->card, counting_rng, &rng_from1);
}

/* A PIV card without Yubico extensions (GET VERSION → 6D00). */
static void
open_plain(struct T *x)
{
	ex(x, SEL, APT " 90 00");
	ex(x, "00 FD 00 00 00", "6D 00");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card), CS_OK);
	csi_piv_set_rng(x->card, counting_rng, &rng_from1);
}

static char *
hex(const uint8_t *p, size_t n)
{
	char *s = malloc(n * 3 + 1);
	size_t i;

	assert_non_null(s);
	s[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(s + i * 3, 4, "%02X ", p[i]);
	return s;
}

static EVP_PKEY *
gen_key(const char *type, const char *param)
{
	EVP_PKEY *pk = NULL;

	if (strcmp(type, "RSA") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	assert_non_null(pk);
	return pk;
}

/* 65-byte uncompressed point of an EC key. */
static void
ec_point(EVP_PKEY *pk, uint8_t *pt, size_t cap, size_t *n)
{
	assert_int_equal(EVP_PKEY_get_octet_string_param(pk,
	    OSSL_PKEY_PARAM_PUB_KEY, pt, cap, n), 1);
}

static void
assert_spki_is(const uint8_t *spki, size_t len, EVP_PKEY *want)
{
	const unsigned char *p = spki;
	EVP_PKEY *got = d2i_PUBKEY(NULL, &p, (long)len);

	assert_non_null(got);
	assert_ptr_equal(p, spki + len);
	assert_int_equal(EVP_PKEY_eq(got, want), 1);
	EVP_PKEY_free(got);
}

/* --- open / identify --- */

static void
test_piv_open_yubikey(void **state)
{
	struct T *x = *state;
	struct cs_card_info info;

	open_yk(x);
	cs_card_get_info(x->card, &info);
	assert_true(info.yubikey);
	assert_int_equal(info.firmware[0], 5);
	assert_int_equal(info.firmware[1], 4);
	assert_int_equal(info.firmware[2], 3);
	assert_true(info.has_serial);
	assert_int_equal(info.serial, 12345678);
	assert_int_equal(info.atr_len, 23);
	assert_int_equal(info.atr[0], 0x3B);
	assert_string_equal(info.reader, "fake");
	assert_true(cs_card_has(x->card, CS_CAP_YUBIKEY));
	assert_true(cs_card_has(x->card, CS_CAP_SERIAL));
	assert_true(cs_card_has(x->card, CS_CAP_METADATA));
	assert_true(cs_card_has(x->card, CS_CAP_ATTEST));
	assert_true(cs_card_has(x->card, CS_CAP_AES_MGM));
	assert_true(cs_card_has(x->card, CS_CAP_P384));
	assert_true(cs_card_has(x->card, CS_CAP_POLICY));
	assert_false(cs_card_has(x->card, CS_CAP_RSA_LARGE));
	assert_false(cs_card_has(x->card, CS_CAP_MOVE_KEY));
	assert_false(cs_card_has(x->card, CS_CAP_ROCA));
	assert_int_equal(cs_fake_nbegin(x->f), 1);
	assert_script_done(x);
}

static void
test_piv_open_plain_card(void **state)
{
	struct T *x = *state;
	struct cs_card_info info;

	open_plain(x);
	cs_card_get_info(x->card, &info);
	assert_false(info.yubikey);
	assert_false(info.has_serial);
	assert_int_equal(info.atr_len, 0);
	assert_false(cs_card_has(x->card, CS_CAP_YUBIKEY));
	assert_false(cs_card_has(x->card, CS_CAP_METADATA));
	assert_false(cs_card_has(x->card, CS_CAP_SERIAL));
	assert_script_done(x);
}

static void
test_piv_open_yubikey4_otp_serial(void **state)
{
	struct T *x = *state;
	struct cs_card_info info;

	/* §4.10: OTP application, short APDUs, then PIV again */
	ex(x, SEL, "90 00");
	ex(x, "00 FD 00 00 00", "04 03 04 90 00");
	ex(x, "00 A4 04 00 08 A0 00 00 05 27 20 01 01", "90 00");
	ex(x, "00 01 10 00 00", "00 BC 61 4E 90 00");
	ex(x, SEL, "90 00");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card), CS_OK);
	cs_card_get_info(x->card, &info);
	assert_true(info.has_serial);
	assert_int_equal(info.serial, 12345678);
	assert_true(cs_card_has(x->card, CS_CAP_SERIAL));
	/* extended APDUs from 4.0 on */
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "90 00");
	assert_int_equal(cs_piv_verify_pin(x->card, "123456", 6, NULL), CS_OK);
	assert_script_done(x);
}

static void
test_piv_open_yubikey4_no_serial(void **state)
{
	struct T *x = *state;
	struct cs_card_info info;

	ex(x, SEL, "90 00");
	ex(x, "00 FD 00 00 00", "04 03 04 90 00");
	ex(x, "00 A4 04 00 08 A0 00 00 05 27 20 01 01", "6A 82");
	ex(x, SEL, "90 00");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card), CS_OK);
	cs_card_get_info(x->card, &info);
	assert_false(info.has_serial);
	assert_true(cs_card_has(x->card, CS_CAP_ROCA));
	assert_true(cs_card_has(x->card, CS_CAP_ATTEST));
	assert_false(cs_card_has(x->card, CS_CAP_METADATA));
	assert_script_done(x);
}

static void
test_piv_open_no_piv_app(void **state)
{
	struct T *x = *state;

	ex(x, SEL, "6A 82");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card),
	    CS_ERR_NOT_FOUND);
	assert_null(x->card);
	assert_false(cs_fake_closed(x->f));
	assert_msg_has(x, "no PIV application");
	assert_script_done(x);
}

static void
test_piv_open_bad_version(void **state)
{
	struct T *x = *state;

	ex(x, SEL, "90 00");
	ex(x, "00 FD 00 00 00", "05 04 90 00");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card),
	    CS_ERR_MALFORMED);
	assert_null(x->card);
	assert_script_done(x);
}

/* --- data objects --- */

static void
test_piv_get_data_61xx(void **state)
{
	struct T *x = *state;
	uint8_t resp[304 + 2], gr[48 + 2], *val = NULL;
	size_t len = 0, i;

	open_plain(x);
	resp[0] = 0x53;
	resp[1] = 0x82;
	resp[2] = 0x01;
	resp[3] = 0x2C;
	for (i = 4; i < 304; i++)
		resp[i] = (uint8_t)i;
	/* first 256 bytes then 61 30, the remaining 48 after GET RESPONSE */
	memcpy(gr, resp + 256, 48);
	gr[48] = 0x90;
	gr[49] = 0x00;
	resp[256] = 0x61;
	resp[257] = 0x30;
	ex_bytes(x, (const uint8_t *)"\x00\xCB\x3F\xFF\x05\x5C\x03\x5F\xC1\x02"
	    "\x00", 11, resp, 258);
	ex_bytes(x, (const uint8_t *)"\x00\xC0\x00\x00\x30", 5, gr, 50);
	assert_int_equal(cs_piv_read_object(x->card, 0x5FC102, &val, &len),
	    CS_OK);
	assert_int_equal(len, 300);
	assert_int_equal(val[0], 4);
	assert_int_equal(val[299], (uint8_t)303);
	cs_free(val);
	assert_script_done(x);
}

static void
test_piv_get_data_errors(void **state)
{
	struct T *x = *state;
	uint8_t *val = NULL;
	size_t len = 0;

	open_yk(x);
	ex(x, "00 CB 3F FF 00 00 03 5C 01 7E 00 00",
	    "7E 12 4F 0B A0 00 00 03 08 00 00 10 00 01 00 5F 2F 02 40 00 "
	    "90 00");
	assert_int_equal(cs_piv_read_object(x->card, 0x7E, &val, &len), CS_OK);
	assert_int_equal(len, 18);
	cs_free(val);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 09 00 00", "69 82");
	assert_int_equal(cs_piv_read_object(x->card, 0x5FC109, &val, &len),
	    CS_ERR_ACCESS);
	assert_null(val);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 02 00 00", "6A 82");
	assert_int_equal(cs_piv_read_object(x->card, 0x5FC102, &val, &len),
	    CS_ERR_NOT_FOUND);
	assert_msg_has(x, "5fc102");
	/* trailing bytes after the 53 TLV */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 02 00 00",
	    "53 01 00 FE 90 00");
	assert_int_equal(cs_piv_read_object(x->card, 0x5FC102, &val, &len),
	    CS_ERR_MALFORMED);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 02 00 00", "6F 00");
	assert_int_equal(cs_piv_read_object(x->card, 0x5FC102, &val, &len),
	    CS_ERR_SW);
	assert_int_equal(cs_ctx_last_sw(x->ctx), 0x6F00);
	assert_script_done(x);
}

static void
test_piv_put_data_chained(void **state)
{
	struct T *x = *state;
	uint8_t val[300], all[309], c1[5 + 255], c2[5 + 54];
	size_t i;

	open_plain(x);
	for (i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)(i * 7);
	memcpy(all, "\x5C\x03\x5F\xC1\x0A\x53\x82\x01\x2C", 9);
	memcpy(all + 9, val, sizeof(val));
	memcpy(c1, "\x10\xDB\x3F\xFF\xFF", 5);
	memcpy(c1 + 5, all, 255);
	memcpy(c2, "\x00\xDB\x3F\xFF\x36", 5);
	memcpy(c2 + 5, all + 255, 54);
	ex_bytes(x, c1, sizeof(c1), (const uint8_t *)"\x90\x00", 2);
	ex_bytes(x, c2, sizeof(c2), (const uint8_t *)"\x90\x00", 2);
	assert_int_equal(cs_piv_write_object(x->card, 0x5FC10A, val,
	    sizeof(val)), CS_OK);
	/* without management key: 6982 on the first piece */
	ex_bytes(x, c1, sizeof(c1), (const uint8_t *)"\x69\x82", 2);
	assert_int_equal(cs_piv_write_object(x->card, 0x5FC10A, val,
	    sizeof(val)), CS_ERR_ACCESS);
	assert_msg_has(x, "management key");
	assert_script_done(x);
}

/* --- certificates --- */

static X509 *
make_cert(EVP_PKEY *pk)
{
	X509 *c = X509_new();
	X509_NAME *n;

	assert_non_null(c);
	assert_int_equal(X509_set_version(c, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(c), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(c), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(c), 3600));
	n = X509_get_subject_name(c);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"piv test", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(c, n), 1);
	assert_int_equal(X509_set_pubkey(c, pk), 1);
	assert_true(X509_sign(c, pk, EVP_sha256()) > 0);
	return c;
}

static void
cert_der(uint8_t **der, size_t *len)
{
	EVP_PKEY *pk = gen_key("EC", "P-256");
	X509 *c = make_cert(pk);
	unsigned char *p = NULL;
	int n = i2d_X509(c, &p);

	assert_true(n > 0);
	*der = malloc((size_t)n);
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	X509_free(c);
	EVP_PKEY_free(pk);
}

static void
test_piv_read_cert_plain(void **state)
{
	struct T *x = *state;
	uint8_t *der = NULL;
	size_t len = 0;

	open_yk(x);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 05 00 00",
	    "53 0C 70 05 30 03 02 01 05 71 01 00 FE 00 90 00");
	assert_int_equal(cs_piv_read_cert(x->card, 0x9A, &der, &len), CS_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(der, "\x30\x03\x02\x01\x05", 5);
	cs_free(der);
	/* F9: 70 only (§5.2) */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 01 00 00",
	    "53 07 70 05 30 03 02 01 06 90 00");
	assert_int_equal(cs_piv_read_cert(x->card, 0xF9, &der, &len), CS_OK);
	assert_int_equal(len, 5);
	cs_free(der);
	/* empty slot */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 0A 00 00", "6A 82");
	assert_int_equal(cs_piv_read_cert(x->card, 0x9C, &der, &len),
	    CS_ERR_NOT_FOUND);
	assert_msg_has(x, "slot 9c has no certificate");
	/* duplicate 70 */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 0B 00 00",
	    "53 06 70 01 30 70 01 30 90 00");
	assert_int_equal(cs_piv_read_cert(x->card, 0x9D, &der, &len),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_piv_read_cert(x->card, 0x9B, &der, &len),
	    CS_ERR_ARG);
	assert_script_done(x);
}

static size_t
gzip_buf(const uint8_t *in, size_t n, uint8_t *out, size_t cap, int wbits)
{
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, wbits, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	n = cap - zs.avail_out;
	deflateEnd(&zs);
	return n;
}

static void
test_piv_read_cert_compressed(void **state)
{
	struct T *x = *state;
	uint8_t plain[600], gz[700], resp[800], *der = NULL;
	size_t i, gzlen, rlen, len = 0;
	int wbits[2] = { 15 + 16, 15 }; /* gzip, zlib */
	int k;

	open_yk(x);
	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i % 13);
	for (k = 0; k < 2; k++) {
		gzlen = gzip_buf(plain, sizeof(plain), gz, sizeof(gz),
		    wbits[k]);
		assert_true(gzlen < 120);
		rlen = 0;
		resp[rlen++] = 0x53;
		resp[rlen++] = (uint8_t)(gzlen + 2 + 3 + 2);
		resp[rlen++] = 0x70;
		resp[rlen++] = (uint8_t)gzlen;
		memcpy(resp + rlen, gz, gzlen);
		rlen += gzlen;
		memcpy(resp + rlen, k == 0 ? "\x71\x01\x01\xFE\x00\x90\x00" :
		    "\x71\x01\x80\xFE\x00\x90\x00", 7);
		rlen += 7;
		ex_bytes(x, (const uint8_t *)"\x00\xCB\x3F\xFF\x00\x00\x05\x5C"
		    "\x03\x5F\xC1\x05\x00\x00", 14, resp, rlen);
		assert_int_equal(cs_piv_read_cert(x->card, 0x9A, &der, &len),
		    CS_OK);
		assert_int_equal(len, sizeof(plain));
		assert_memory_equal(der, plain, sizeof(plain));
		cs_free(der);
	}
	/* truncated stream */
	rlen = 0;
	resp[rlen++] = 0x53;
	resp[rlen++] = 10 + 2 + 3;
	resp[rlen++] = 0x70;
	resp[rlen++] = 10;
	memcpy(resp + rlen, gz, 10);
	rlen += 10;
	memcpy(resp + rlen, "\x71\x01\x01\x90\x00", 5);
	rlen += 5;
	ex_bytes(x, (const uint8_t *)"\x00\xCB\x3F\xFF\x00\x00\x05\x5C\x03\x5F"
	    "\xC1\x05\x00\x00", 14, resp, rlen);
	assert_int_not_equal(cs_piv_read_cert(x->card, 0x9A, &der, &len),
	    CS_OK);
	assert_null(der);
	assert_script_done(x);
}

/* Build the expected extended PUT DATA APDU for tag and 53 value. */
static uint8_t *
put_apdu(const char *tag5c, const uint8_t *val, size_t vlen, size_t *n)
{
	struct cs_buf b = CS_BUF_INIT(65536), d = CS_BUF_INIT(65536);
	uint8_t *out;
	size_t tl;
	uint8_t *t = cs_fake_hex(tag5c, &tl);

	assert_int_equal(cs_buf_put(&d, t, tl), CS_OK);
	assert_int_equal(cs_tlv_put(&d, 0x53, val, vlen), CS_OK);
	assert_int_equal(cs_buf_put(&b, "\x00\xDB\x3F\xFF\x00", 5), CS_OK);
	assert_int_equal(cs_buf_put_u16(&b, (uint16_t)d.len), CS_OK);
	assert_int_equal(cs_buf_put(&b, d.data, d.len), CS_OK);
	assert_int_equal(cs_buf_take(&b, &out, n), CS_OK);
	free(t);
	cs_buf_release(&d);
	return out;
}

static void
test_piv_write_cert_creates_chuid(void **state)
{
	struct T *x = *state;
	struct cs_buf obj = CS_BUF_INIT(8192);
	uint8_t *der, *apdu;
	size_t len, n;

	open_yk(x);
	cert_der(&der, &len);
	assert_int_equal(cs_tlv_put(&obj, 0x70, der, len), CS_OK);
	assert_int_equal(cs_buf_put(&obj, "\x71\x01\x00\xFE\x00", 5), CS_OK);
	apdu = put_apdu("5C 03 5F C1 05", obj.data, obj.len, &n);
	ex_bytes(x, apdu, n, (const uint8_t *)"\x90\x00", 2);
	free(apdu);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 02 00 00", "6A 82");
	/* §5.3 CHUID, GUID 01..10 with the RFC 4122 v4 bits */
	ex(x, "00 DB 3F FF 00 00 42 5C 03 5F C1 02 53 3B "
	    "30 19 D4 E7 39 DA 73 9C ED 39 CE 73 9D 83 68 58 21 08 42 10 84 21 "
	    "C8 42 10 C3 EB "
	    "34 10 01 02 03 04 05 06 47 08 89 0A 0B 0C 0D 0E 0F 10 "
	    "35 08 32 30 33 30 30 31 30 31 3E 00 FE 00", "90 00");
	assert_int_equal(cs_piv_write_cert(x->card, 0x9A, der, len, 0), CS_OK);
	/* an existing CHUID is kept */
	cs_buf_reset(&obj);
	assert_int_equal(cs_tlv_put(&obj, 0x70, der, len), CS_OK);
	assert_int_equal(cs_buf_put(&obj, "\x71\x01\x00\xFE\x00", 5), CS_OK);
	apdu = put_apdu("5C 03 5F C1 0A", obj.data, obj.len, &n);
	ex_bytes(x, apdu, n, (const uint8_t *)"\x90\x00", 2);
	free(apdu);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 02 00 00",
	    "53 04 34 02 01 02 90 00");
	assert_int_equal(cs_piv_write_cert(x->card, 0x9C, der, len, 0), CS_OK);
	/* not a certificate: nothing sent */
	assert_int_equal(cs_piv_write_cert(x->card, 0x9C, der, len - 1, 0),
	    CS_ERR_MALFORMED);
	/* delete: 53 00 */
	ex(x, "00 DB 3F FF 00 00 07 5C 03 5F C1 0A 53 00", "90 00");
	assert_int_equal(cs_piv_delete_cert(x->card, 0x9C), CS_OK);
	free(der);
	cs_buf_release(&obj);
	assert_script_done(x);
}

static void
test_piv_write_cert_compressed_roundtrip(void **state)
{
	struct T *x = *state;
	const uint8_t *sent;
	uint8_t *der, *back = NULL, *resp;
	size_t len, slen, blen = 0, at;

	open_yk(x);
	at = cs_fake_ncmds(x->f);
	cert_der(&der, &len);
	ex(x, "*", "90 00");
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 02 00 00",
	    "53 04 34 02 01 02 90 00");
	assert_int_equal(cs_piv_write_cert(x->card, 0x9D, der, len,
	    CS_PIV_CERT_COMPRESS), CS_OK);
	assert_true(cs_fake_cmd(x->f, at, &sent, &slen));
	/* 00 DB 3F FF 00 Lc Lc 5C 03 5F C1 0B | 53 ... */
	assert_true(slen > 12);
	assert_memory_equal(sent, "\x00\xDB\x3F\xFF\x00", 5);
	assert_memory_equal(sent + 7, "\x5C\x03\x5F\xC1\x0B", 5);
	resp = malloc(slen - 12 + 2);
	memcpy(resp, sent + 12, slen - 12);
	memcpy(resp + slen - 12, "\x90\x00", 2);
	ex_bytes(x, (const uint8_t *)"\x00\xCB\x3F\xFF\x00\x00\x05\x5C\x03\x5F"
	    "\xC1\x0B\x00\x00", 14, resp, slen - 12 + 2);
	assert_int_equal(cs_piv_read_cert(x->card, 0x9D, &back, &blen), CS_OK);
	assert_int_equal(blen, len);
	assert_memory_equal(back, der, len);
	free(resp);
	free(der);
	cs_free(back);
	assert_script_done(x);
}

/* --- PIN and PUK --- */

static void
test_piv_verify_ok_wrong_blocked(void **state)
{
	struct T *x = *state;
	int tries = 99;

	open_plain(x);
	ex(x, "00 20 00 80 08 " PIN_123456, "90 00");
	assert_int_equal(cs_piv_verify_pin(x->card, "123456", 6, &tries),
	    CS_OK);
	ex(x, "00 20 00 80 08 31 31 31 31 31 31 31 31", "63 C2");
	assert_int_equal(cs_piv_verify_pin(x->card, "11111111", 8, &tries),
	    CS_ERR_AUTH);
	assert_int_equal(tries, 2);
	assert_int_equal(cs_ctx_tries_left(x->ctx), 2);
	assert_msg_has(x, "2 tries left");
	assert_msg_has(x, "PIN");
	ex(x, "00 20 00 80 08 31 31 31 31 31 31 FF FF", "63 C1");
	assert_int_equal(cs_piv_verify_pin(x->card, "111111", 6, &tries),
	    CS_ERR_AUTH);
	assert_msg_has(x, "1 try left");
	ex(x, "00 20 00 80 08 31 31 31 31 31 31 FF FF", "69 83");
	assert_int_equal(cs_piv_verify_pin(x->card, "111111", 6, &tries),
	    CS_ERR_BLOCKED);
	assert_int_equal(tries, 0);
	ex(x, "00 20 00 80 08 31 31 31 31 31 31 FF FF", "63 C0");
	assert_int_equal(cs_piv_verify_pin(x->card, "111111", 6, &tries),
	    CS_ERR_BLOCKED);
	/* argument checks send nothing */
	assert_int_equal(cs_piv_verify_pin(x->card, "123456789", 9, &tries),
	    CS_ERR_ARG);
	assert_int_equal(cs_piv_verify_pin(x->card, "", 0, &tries), CS_ERR_ARG);
	/* 6A80 and a removed card */
	ex(x, "00 20 00 80 08 " PIN_123456, "6A 80");
	assert_int_equal(cs_piv_verify_pin(x->card, "123456", 6, &tries),
	    CS_ERR_SW);
	assert_int_equal(cs_fake_expect_err(x->f, "00 20 00 80 08 " PIN_123456,
	    CS_ERR_REMOVED), CS_OK);
	assert_int_equal(cs_piv_verify_pin(x->card, "123456", 6, &tries),
	    CS_ERR_REMOVED);
	assert_script_done(x);
}

static void
test_piv_verify_extended(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "90 00");
	assert_int_equal(cs_piv_verify_pin(x->card, "123456", 6, NULL), CS_OK);
	assert_script_done(x);
}

static void
test_piv_retries_status(void **state)
{
	struct T *x = *state;
	struct cs_piv_retries rt;

	open_plain(x);
	ex(x, "00 20 00 80", "63 C3");
	assert_int_equal(cs_piv_get_retries(x->card, 0x80, &rt), CS_OK);
	assert_int_equal(rt.remaining, 3);
	assert_int_equal(rt.total, -1);
	assert_false(rt.verified);
	assert_false(rt.known_default);
	ex(x, "00 20 00 80", "90 00");
	assert_int_equal(cs_piv_get_retries(x->card, 0x80, &rt), CS_OK);
	assert_true(rt.verified);
	ex(x, "00 20 00 80", "69 83");
	assert_int_equal(cs_piv_get_retries(x->card, 0x80, &rt), CS_OK);
	assert_int_equal(rt.remaining, 0);
	/* PUK without metadata: unknown, nothing sent */
	assert_int_equal(cs_piv_get_retries(x->card, 0x81, &rt), CS_OK);
	assert_int_equal(rt.remaining, -1);
	assert_int_equal(cs_piv_get_retries(x->card, 0x9A, &rt), CS_ERR_ARG);
	assert_script_done(x);
}

static void
test_piv_retries_metadata(void **state)
{
	struct T *x = *state;
	struct cs_piv_retries rt;

	open_yk(x);
	/* §4.16 real YubiKey answer: default PIN, 5 of 5 */
	ex(x, "00 F7 00 80 00 00 00", "01 01 FF 05 01 01 06 02 05 05 90 00");
	ex(x, "00 20 00 80", "63 C5");
	assert_int_equal(cs_piv_get_retries(x->card, 0x80, &rt), CS_OK);
	assert_int_equal(rt.total, 5);
	assert_int_equal(rt.remaining, 5);
	assert_true(rt.known_default);
	assert_true(rt.is_default);
	ex(x, "00 F7 00 81 00 00 00", "01 01 FF 05 01 00 06 02 03 01 90 00");
	assert_int_equal(cs_piv_get_retries(x->card, 0x81, &rt), CS_OK);
	assert_int_equal(rt.total, 3);
	assert_int_equal(rt.remaining, 1);
	assert_false(rt.is_default);
	ex(x, "00 F7 00 81 00 00 00", "01 01 FF 05 01 00 90 00");
	assert_int_equal(cs_piv_get_retries(x->card, 0x81, &rt),
	    CS_ERR_MALFORMED);
	assert_script_done(x);
}

static void
test_piv_change_and_unblock(void **state)
{
	struct T *x = *state;
	int tries = 99;

	open_plain(x);
	/* §4.5 example */
	ex(x, "00 24 00 80 10 " PIN_123456 " 36 35 34 33 32 31 FF FF", "90 00");
	assert_int_equal(cs_piv_change_ref(x->card, 0x80, "123456", 6,
	    "654321", 6, &tries), CS_OK);
	ex(x, "00 24 00 81 10 31 32 33 34 35 36 37 38 "
	    "38 37 36 35 34 33 32 31", "63 C2");
	assert_int_equal(cs_piv_change_ref(x->card, 0x81, "12345678", 8,
	    "87654321", 8, &tries), CS_ERR_AUTH);
	assert_int_equal(tries, 2);
	assert_msg_has(x, "PUK");
	assert_msg_has(x, "2 tries left");
	/* §4.6 RESET RETRY COUNTER */
	ex(x, "00 2C 00 80 10 31 32 33 34 35 36 37 38 " PIN_123456, "90 00");
	assert_int_equal(cs_piv_unblock_pin(x->card, "12345678", 8, "123456",
	    6, &tries), CS_OK);
	ex(x, "00 2C 00 80 10 31 32 33 34 35 36 37 38 " PIN_123456, "69 83");
	assert_int_equal(cs_piv_unblock_pin(x->card, "12345678", 8, "123456",
	    6, &tries), CS_ERR_BLOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(cs_piv_change_ref(x->card, 0x9B, "1", 1, "2", 1,
	    &tries), CS_ERR_ARG);
	assert_script_done(x);
}

static void
test_piv_set_retries(void **state)
{
	struct T *x = *state;

	open_yk(x);
	assert_int_equal(cs_card_set_pin(x->card, "123456", 6), CS_OK);
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "90 00");
	ex(x, "00 FA 05 06", "90 00");
	assert_int_equal(cs_piv_set_retries(x->card, 5, 6), CS_OK);
	/* PIN back to default: cache dropped, so no VERIFY now */
	ex(x, "00 FA 05 06", "69 82");
	assert_int_equal(cs_piv_set_retries(x->card, 5, 6), CS_ERR_ACCESS);
	assert_int_equal(cs_piv_set_retries(x->card, 0, 6), CS_ERR_ARG);
	assert_script_done(x);
}

/* --- management key --- */

static void
test_piv_mgm_3des_worked_example(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	open_plain(x);
	/* §4.7.1: card W = A1..A8, our C = 01..08 */
	ex(x, "00 87 03 9B 04 7C 02 80 00 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	ex(x, "00 87 03 9B 16 7C 14 80 08 A1 A2 A3 A4 A5 A6 A7 A8 "
	    "81 08 01 02 03 04 05 06 07 08 00",
	    "7C 0A 82 08 77 A7 D6 BC F5 79 62 B9 90 00");
	assert_int_equal(cs_piv_authenticate(x->card, 0, key, klen), CS_OK);
	assert_int_equal(cs_fake_nbegin(x->f), 2);
	assert_script_done(x);
}

static void
test_piv_mgm_alg_from_metadata(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	open_yk(x);
	ex(x, "00 F7 00 9B 00 00 00", "01 01 03 02 02 00 01 05 01 01 90 00");
	ex(x, "00 87 03 9B 00 00 04 7C 02 80 00 00 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	ex(x, "00 87 03 9B 00 00 16 7C 14 80 08 A1 A2 A3 A4 A5 A6 A7 A8 "
	    "81 08 01 02 03 04 05 06 07 08 00 00",
	    "7C 0A 82 08 77 A7 D6 BC F5 79 62 B9 90 00");
	assert_int_equal(cs_piv_authenticate(x->card, 0, key, klen), CS_OK);
	assert_script_done(x);
}

static void
test_piv_mgm_aes192(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	open_yk(x);
	csi_piv_set_rng(x->card, counting_rng, &rng_from0);
	ex(x, "00 87 0A 9B 00 00 04 7C 02 80 00 00 00",
	    "7C 12 80 10 CE 3F 05 39 7D F2 47 8F B5 C4 0D E1 E9 B1 7C BD "
	    "90 00");
	ex(x, "00 87 0A 9B 00 00 26 7C 24 "
	    "80 10 A1 A2 A3 A4 A5 A6 A7 A8 A9 AA AB AC AD AE AF B0 "
	    "81 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 00 00",
	    "7C 12 82 10 3F 92 E2 FC E7 3F 9D 83 18 7C 14 0D 03 5F 7E DC "
	    "90 00");
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_AES192, key,
	    klen), CS_OK);
	assert_script_done(x);
}

static void
test_piv_mgm_wrong_key(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);
	uint8_t other[24];

	open_plain(x);
	memset(other, 0x11, sizeof(other));
	/* the card refuses our W */
	ex(x, "00 87 03 9B 04 7C 02 80 00 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	ex(x, "*", "69 82");
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_3DES, other,
	    sizeof(other)), CS_ERR_AUTH);
	assert_msg_has(x, "wrong key");
	/* the card's E(C) does not match */
	ex(x, "00 87 03 9B 04 7C 02 80 00 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	ex(x, "*", "7C 0A 82 08 77 A7 D6 BC F5 79 62 B8 90 00");
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_3DES, key,
	    klen), CS_ERR_AUTH);
	/* algorithm mismatch on the card */
	ex(x, "00 87 08 9B 04 7C 02 80 00 00", "6A 80");
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_AES128, key,
	    16), CS_ERR_SW);
	assert_msg_has(x, "aes128");
	/* malformed witness */
	ex(x, "00 87 03 9B 04 7C 02 80 00 00", "7C 09 80 07 19 9F A3 74 70 5A "
	    "69 90 00");
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_3DES, key,
	    klen), CS_ERR_MALFORMED);
	/* wrong key length: nothing sent */
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_3DES, key,
	    16), CS_ERR_ARG);
	assert_script_done(x);
}

static void
test_piv_mgm_removed_mid_auth(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	open_plain(x);
	ex(x, "00 87 03 9B 04 7C 02 80 00 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	cs_fake_remove_at(x->f, cs_fake_ncmds(x->f) + 1);
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_3DES, key,
	    klen), CS_ERR_REMOVED);
	assert_int_equal(cs_fake_nbegin(x->f), cs_fake_nend(x->f));
	assert_int_equal(cs_fake_nbegin(x->f), 2);
	assert_script_done(x);
}

static void
test_piv_set_mgm_protect_ykman_bytes(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);
	bool prot = true;

	open_yk(x);
	assert_int_equal(cs_card_set_pin(x->card, "123456", 6), CS_OK);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00", "6A 82");
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "90 00");
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 09 00 00", "6A 82");
	/*
	 * §5.8: ykman's bytes after change-management-key --protect, but
	 * written before the card changes, so that a card pulled after the
	 * SET still has the key behind the PIN (issue 12).
	 */
	ex(x, "00 DB 3F FF 00 00 23 5C 03 5F C1 09 53 1C 88 1A 89 18 " DEFKEY,
	    "90 00");
	ex(x, "00 DB 3F FF 00 00 0C 5C 03 5F FF 00 53 05 80 03 81 01 02",
	    "90 00");
	ex(x, "00 FF FF FF 00 00 1B 03 9B 18 " DEFKEY, "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_3DES, key,
	    klen, CS_PIV_MGM_PROTECT), CS_OK);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00",
	    "53 05 80 03 81 01 02 90 00");
	assert_int_equal(cs_piv_mgm_is_protected(x->card, &prot), CS_OK);
	assert_true(prot);
	assert_script_done(x);
}

struct logbuf {
	char text[16384];
	size_t len;
};

static void
collect(void *arg, enum cs_log_level level, const char *line)
{
	struct logbuf *lb = arg;
	int n;

	(void)level;
	n = snprintf(lb->text + lb->len, sizeof(lb->text) - lb->len, "%s\n",
	    line);
	if (n > 0 && (size_t)n < sizeof(lb->text) - lb->len)
		lb->len += (size_t)n;
}

/* PIN, management key and protected data never reach the APDU trace. */
static void
test_piv_trace_redacts_secrets(void **state)
{
	struct T *x = *state;
	struct logbuf lb;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	memset(&lb, 0, sizeof(lb));
	open_yk(x);
	cs_ctx_set_log(x->ctx, CS_LOG_APDU, collect, &lb);
	assert_int_equal(cs_card_set_pin(x->card, "123456", 6), CS_OK);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00", "6A 82");
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "90 00");
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 09 00 00",
	    "53 1C 88 1A 89 18 " DEFKEY " 90 00");
	ex(x, "*", "90 00");
	ex(x, "*", "90 00");
	ex(x, "*", "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_3DES, key,
	    klen, CS_PIV_MGM_PROTECT), CS_OK);
	ex(x, "00 87 03 9B 00 00 04 7C 02 80 00 00 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	ex(x, "*", "7C 0A 82 08 77 A7 D6 BC F5 79 62 B9 90 00");
	assert_int_equal(cs_piv_authenticate(x->card, CS_PIV_ALG_3DES, key,
	    klen), CS_OK);
	assert_true(lb.len > 0);
	assert_non_null(strstr(lb.text, "redacted"));
	assert_null(strstr(lb.text, "31 32 33 34 35 36"));
	assert_null(strstr(lb.text, "05 06 07 08 01 02"));
	assert_null(strstr(lb.text, "A1 A2 A3"));
	assert_null(strstr(lb.text, "77 A7 D6"));
	assert_script_done(x);
}

static void
test_piv_set_mgm_keeps_subtags(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	open_yk(x);
	/* PUK-blocked flag, salt (dropped), timestamp and unknown 84 kept */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00",
	    "53 1F 80 1D 81 01 01 82 10 00 01 02 03 04 05 06 07 08 09 0A 0B "
	    "0C 0D 0E 0F 83 04 5F 00 00 01 84 00 90 00");
	ex(x, "00 FF FF FE 00 00 1B 03 9B 18 " DEFKEY, "90 00");
	ex(x, "00 DB 3F FF 00 00 14 5C 03 5F FF 00 53 0D 80 0B 81 01 01 "
	    "83 04 5F 00 00 01 84 00", "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_3DES, key,
	    klen, CS_PIV_MGM_TOUCH), CS_OK);
	/* 24 bytes for AES-128: refused before anything is sent */
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES128, key,
	    klen, 0), CS_ERR_ARG);
	/* fresh card without --protect: ykman writes 53 02 80 00 */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00", "6A 82");
	ex(x, "00 FF FF FF 00 00 13 08 9B 10 01 02 03 04 05 06 07 08 01 02 03 "
	    "04 05 06 07 08", "90 00");
	ex(x, "00 DB 3F FF 00 00 09 5C 03 5F FF 00 53 02 80 00", "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_AES128, key,
	    16, 0), CS_OK);
	assert_script_done(x);
}

static void
test_piv_set_mgm_unprotect(void **state)
{
	struct T *x = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	open_yk(x);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00",
	    "53 05 80 03 81 01 02 90 00");
	/* no PIN cached: protected data unreadable, nothing changed */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 09 00 00", "69 82");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_3DES, key,
	    klen, 0), CS_ERR_ACCESS);
	assert_msg_has(x, "verify the PIN first");
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00",
	    "53 05 80 03 81 01 02 90 00");
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 09 00 00",
	    "53 1F 88 1D 89 18 " DEFKEY " 81 01 01 90 00");
	ex(x, "00 FF FF FF 00 00 1B 03 9B 18 " DEFKEY, "90 00");
	ex(x, "00 DB 3F FF 00 00 0C 5C 03 5F FF 00 53 05 80 03 81 01 00",
	    "90 00");
	ex(x, "00 DB 3F FF 00 00 0C 5C 03 5F C1 09 53 05 88 03 81 01 01",
	    "90 00");
	assert_int_equal(cs_piv_set_mgm_key(x->card, CS_PIV_ALG_3DES, key,
	    klen, 0), CS_OK);
	assert_script_done(x);
}

static void
test_piv_authenticate_protected(void **state)
{
	struct T *x = *state;
	bool prot = true;

	open_yk(x);
	assert_int_equal(cs_card_set_pin(x->card, "123456", 6), CS_OK);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00",
	    "53 05 80 03 81 01 02 90 00");
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "90 00");
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F C1 09 00 00",
	    "53 1C 88 1A 89 18 " DEFKEY " 90 00");
	ex(x, "00 F7 00 9B 00 00 00", "01 01 03 02 02 00 01 05 01 00 90 00");
	ex(x, "00 87 03 9B 00 00 04 7C 02 80 00 00 00",
	    "7C 0A 80 08 19 9F A3 74 70 5A 69 EB 90 00");
	ex(x, "00 87 03 9B 00 00 16 7C 14 80 08 A1 A2 A3 A4 A5 A6 A7 A8 "
	    "81 08 01 02 03 04 05 06 07 08 00 00",
	    "7C 0A 82 08 77 A7 D6 BC F5 79 62 B9 90 00");
	assert_int_equal(cs_piv_authenticate_protected(x->card), CS_OK);
	/* none stored */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00", "53 02 80 00 90 00");
	assert_int_equal(cs_piv_authenticate_protected(x->card),
	    CS_ERR_NOT_FOUND);
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00", "6A 82");
	assert_int_equal(cs_piv_mgm_is_protected(x->card, &prot), CS_OK);
	assert_false(prot);
	/* ykman 4.0.9 crashes on malformed admin data; we report it */
	ex(x, "00 CB 3F FF 00 00 05 5C 03 5F FF 00 00 00", "53 02 81 00 90 00");
	assert_int_equal(cs_piv_mgm_is_protected(x->card, &prot),
	    CS_ERR_MALFORMED);
	assert_script_done(x);
}

/* --- keys --- */

static void
test_piv_generate_p256(void **state)
{
	struct T *x = *state;
	EVP_PKEY *pk = gen_key("EC", "P-256");
	uint8_t pt[65], resp[5 + 65 + 2], *spki = NULL;
	size_t n = 0, slen = 0;
	struct cs_piv_keygen kg = { 0x9A, CS_PIV_ALG_P256, 0, 0 };

	open_yk(x);
	ec_point(pk, pt, sizeof(pt), &n);
	assert_int_equal(n, 65);
	memcpy(resp, "\x7F\x49\x43\x86\x41", 5);
	memcpy(resp + 5, pt, 65);
	memcpy(resp + 70, "\x90\x00", 2);
	ex_bytes(x, (const uint8_t *)"\x00\x47\x00\x9A\x00\x00\x05\xAC\x03\x80"
	    "\x01\x11\x00\x00", 14, resp, 72);
	assert_int_equal(cs_piv_generate(x->card, &kg, &spki, &slen), CS_OK);
	assert_spki_is(spki, slen, pk);
	cs_free(spki);
	/* with policies; 6982 without management key */
	kg.slot = 0x9C;
	kg.pin_policy = CS_PIV_PIN_ALWAYS;
	kg.touch_policy = CS_PIV_TOUCH_NEVER;
	ex(x, "00 47 00 9C 00 00 0B AC 09 80 01 11 AA 01 03 AB 01 01 00 00",
	    "69 82");
	assert_int_equal(cs_piv_generate(x->card, &kg, &spki, &slen),
	    CS_ERR_ACCESS);
	assert_null(spki);
	assert_msg_has(x, "management key");
	/* a point off the curve */
	kg.pin_policy = kg.touch_policy = 0;
	resp[40] ^= 1;
	ex_bytes(x, (const uint8_t *)"\x00\x47\x00\x9C\x00\x00\x05\xAC\x03\x80"
	    "\x01\x11\x00\x00", 14, resp, 72);
	assert_int_equal(cs_piv_generate(x->card, &kg, &spki, &slen),
	    CS_ERR_MALFORMED);
	/* bad slot / alg: nothing sent */
	kg.slot = 0x9B;
	assert_int_equal(cs_piv_generate(x->card, &kg, &spki, &slen),
	    CS_ERR_ARG);
	kg.slot = 0x9A;
	kg.alg = CS_PIV_ALG_ED25519;
	assert_int_equal(cs_piv_generate(x->card, &kg, &spki, &slen),
	    CS_ERR_UNSUPPORTED);
	EVP_PKEY_free(pk);
	assert_script_done(x);
}

static void
test_piv_generate_rsa2048_chained(void **state)
{
	struct T *x = *state;
	EVP_PKEY *pk = gen_key("RSA", NULL);
	BIGNUM *n = NULL;
	uint8_t full[270], r1[258], r2[16], *spki = NULL;
	size_t slen = 0;
	struct cs_piv_keygen kg = { 0x9A, CS_PIV_ALG_RSA2048, 0, 0 };

	open_plain(x);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n),
	    1);
	/* §4.8: 7F 49 82 01 09 81 82 01 00 <n> 82 03 01 00 01 */
	memcpy(full, "\x7F\x49\x82\x01\x09\x81\x82\x01\x00", 9);
	assert_int_equal(BN_bn2binpad(n, full + 9, 256), 256);
	memcpy(full + 265, "\x82\x03\x01\x00\x01", 5);
	memcpy(r1, full, 256);
	memcpy(r1 + 256, "\x61\x0E", 2);
	memcpy(r2, full + 256, 14);
	memcpy(r2 + 14, "\x90\x00", 2);
	ex_bytes(x, (const uint8_t *)"\x00\x47\x00\x9A\x05\xAC\x03\x80\x01\x07"
	    "\x00", 11, r1, sizeof(r1));
	ex_bytes(x, (const uint8_t *)"\x00\xC0\x00\x00\x0E", 5, r2, sizeof(r2));
	assert_int_equal(cs_piv_generate(x->card, &kg, &spki, &slen), CS_OK);
	assert_spki_is(spki, slen, pk);
	cs_free(spki);
	/* a policy on a card without Yubico extensions: refused locally */
	kg.pin_policy = CS_PIV_PIN_ONCE;
	assert_int_equal(cs_piv_generate(x->card, &kg, &spki, &slen),
	    CS_ERR_UNSUPPORTED);
	BN_free(n);
	EVP_PKEY_free(pk);
	assert_script_done(x);
}

static void
test_piv_metadata(void **state)
{
	struct T *x = *state;
	EVP_PKEY *pk = gen_key("EC", "P-256");
	struct cs_piv_key_meta m;
	uint8_t pt[65], resp[81], *spki = NULL;
	size_t n = 0, slen = 0;

	open_yk(x);
	ec_point(pk, pt, sizeof(pt), &n);
	/* §4.16 slot 9A example */
	memcpy(resp, "\x01\x01\x11\x02\x02\x02\x01\x03\x01\x01\x04\x43\x86\x41",
	    14);
	memcpy(resp + 14, pt, 65);
	memcpy(resp + 79, "\x90\x00", 2);
	ex_bytes(x, (const uint8_t *)"\x00\xF7\x00\x9A\x00\x00\x00", 7, resp,
	    81);
	assert_int_equal(cs_piv_key_metadata(x->card, 0x9A, &m, &spki, &slen),
	    CS_OK);
	assert_int_equal(m.alg, CS_PIV_ALG_P256);
	assert_int_equal(m.pin_policy, CS_PIV_PIN_ONCE);
	assert_int_equal(m.touch_policy, CS_PIV_TOUCH_NEVER);
	assert_int_equal(m.origin, 1);
	assert_spki_is(spki, slen, pk);
	cs_free(spki);
	/* empty slot */
	ex(x, "00 F7 00 9D 00 00 00", "6A 88");
	assert_int_equal(cs_piv_key_metadata(x->card, 0x9D, &m, NULL, NULL),
	    CS_ERR_NOT_FOUND);
	assert_msg_has(x, "slot 9d is empty");
	/* duplicate tag, missing alg */
	ex(x, "00 F7 00 9D 00 00 00", "01 01 11 01 01 11 90 00");
	assert_int_equal(cs_piv_key_metadata(x->card, 0x9D, &m, NULL, NULL),
	    CS_ERR_MALFORMED);
	ex(x, "00 F7 00 9D 00 00 00", "02 02 02 01 90 00");
	assert_int_equal(cs_piv_key_metadata(x->card, 0x9D, &m, NULL, NULL),
	    CS_ERR_MALFORMED);
	ex(x, "00 F7 00 9D 00 00 00", "01 01 11 02 01 02 90 00");
	assert_int_equal(cs_piv_key_metadata(x->card, 0x9D, &m, NULL, NULL),
	    CS_ERR_MALFORMED);
	EVP_PKEY_free(pk);
	assert_script_done(x);
}

static void
test_piv_metadata_unsupported(void **state)
{
	struct T *x = *state;
	struct cs_piv_key_meta m;

	open_plain(x);
	assert_int_equal(cs_piv_key_metadata(x->card, 0x9A, &m, NULL, NULL),
	    CS_ERR_UNSUPPORTED);
	assert_script_done(x);
}

#define DIGEST32 "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF " \
	"00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF"
#define SIG_DER "30 06 02 01 01 02 01 02"

static const uint8_t digest32[32] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA,
	0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
	0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF,
};

static void
test_piv_sign_pin_always_verify_placement(void **state)
{
	struct T *x = *state;
	uint8_t *sig = NULL;
	size_t slen = 0;

	open_yk(x);
	assert_int_equal(cs_card_set_pin(x->card, "123456", 6), CS_OK);
	/* metadata first, then VERIFY immediately before the sign (§4.18) */
	ex(x, "00 F7 00 9C 00 00 00", "01 01 11 02 02 03 01 03 01 01 90 00");
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "90 00");
	ex(x, "00 87 11 9C 00 00 26 7C 24 82 00 81 20 " DIGEST32 " 00 00",
	    "7C 0A 82 08 " SIG_DER " 90 00");
	assert_int_equal(cs_piv_sign(x->card, 0x9C, 0, "sha256", digest32, 32,
	    &sig, &slen), CS_OK);
	assert_int_equal(slen, 8);
	assert_memory_equal(sig, "\x30\x06\x02\x01\x01\x02\x01\x02", 8);
	cs_free(sig);
	assert_int_equal(cs_fake_nbegin(x->f), 2);
	/* PIN-once key: no VERIFY; a longer digest is cut to 32 bytes */
	ex(x, "00 F7 00 9A 00 00 00", "01 01 11 02 02 02 01 03 01 01 90 00");
	ex(x, "00 87 11 9A 00 00 26 7C 24 82 00 81 20 " DIGEST32 " 00 00",
	    "7C 0A 82 08 " SIG_DER " 90 00");
	{
		uint8_t d48[48];

		memcpy(d48, digest32, 32);
		memset(d48 + 32, 0xEE, 16);
		assert_int_equal(cs_piv_sign(x->card, 0x9A, 0, "sha384", d48,
		    48, &sig, &slen), CS_OK);
		cs_free(sig);
	}
	/* wrong PIN on the PIN-always VERIFY: no sign sent */
	ex(x, "00 F7 00 9C 00 00 00", "01 01 11 02 02 03 01 03 01 01 90 00");
	ex(x, "00 20 00 80 00 00 08 " PIN_123456, "63 C1");
	assert_int_equal(cs_piv_sign(x->card, 0x9C, 0, "sha256", digest32, 32,
	    &sig, &slen), CS_ERR_AUTH);
	assert_null(sig);
	assert_msg_has(x, "1 try left");
	/* empty slot */
	ex(x, "00 F7 00 9E 00 00 00", "6A 88");
	assert_int_equal(cs_piv_sign(x->card, 0x9E, 0, "sha256", digest32, 32,
	    &sig, &slen), CS_ERR_NOT_FOUND);
	assert_msg_has(x, "slot 9e is empty");
	/* alg given but different from the key's */
	ex(x, "00 F7 00 9A 00 00 00", "01 01 11 02 02 02 01 03 01 01 90 00");
	assert_int_equal(cs_piv_sign(x->card, 0x9A, CS_PIV_ALG_P384, "sha256",
	    digest32, 32, &sig, &slen), CS_ERR_ARG);
	assert_int_equal(cs_fake_nbegin(x->f), cs_fake_nend(x->f));
	assert_script_done(x);
}

static void
test_piv_sign_plain_card_defaults(void **state)
{
	struct T *x = *state;
	uint8_t *sig = NULL;
	size_t slen = 0;

	open_plain(x);
	/* 9C without metadata: PIN always by default, but no PIN cached */
	ex(x, "00 87 11 9C 26 7C 24 82 00 81 20 " DIGEST32 " 00", "69 82");
	assert_int_equal(cs_piv_sign(x->card, 0x9C, CS_PIV_ALG_P256, "sha256",
	    digest32, 32, &sig, &slen), CS_ERR_ACCESS);
	assert_msg_has(x, "PIN");
	assert_int_equal(cs_card_set_pin(x->card, "123456", 6), CS_OK);
	ex(x, "00 20 00 80 08 " PIN_123456, "90 00");
	ex(x, "00 87 11 9C 26 7C 24 82 00 81 20 " DIGEST32 " 00",
	    "7C 0A 82 08 " SIG_DER " 90 00");
	assert_int_equal(cs_piv_sign(x->card, 0x9C, CS_PIV_ALG_P256, "sha256",
	    digest32, 32, &sig, &slen), CS_OK);
	cs_free(sig);
	/* 9A PIN-once: sign, 6982, VERIFY, sign again */
	ex(x, "00 87 11 9A 26 7C 24 82 00 81 20 " DIGEST32 " 00", "69 82");
	ex(x, "00 20 00 80 08 " PIN_123456, "90 00");
	ex(x, "00 87 11 9A 26 7C 24 82 00 81 20 " DIGEST32 " 00",
	    "7C 0A 82 08 " SIG_DER " 90 00");
	assert_int_equal(cs_piv_sign(x->card, 0x9A, CS_PIV_ALG_P256, "sha256",
	    digest32, 32, &sig, &slen), CS_OK);
	cs_free(sig);
	/* no alg and no metadata */
	assert_int_equal(cs_piv_sign(x->card, 0x9A, 0, "sha256", digest32, 32,
	    &sig, &slen), CS_ERR_ARG);
	/* removed during the sign: error, transaction ended */
	assert_int_equal(cs_fake_expect_err(x->f, "*", CS_ERR_REMOVED), CS_OK);
	assert_int_equal(cs_piv_sign(x->card, 0x9A, CS_PIV_ALG_P256, "sha256",
	    digest32, 32, &sig, &slen), CS_ERR_REMOVED);
	assert_int_equal(cs_fake_nbegin(x->f), cs_fake_nend(x->f));
	assert_script_done(x);
}

static void
test_piv_sign_rsa_pkcs1_chained(void **state)
{
	struct T *x = *state;
	static const uint8_t di[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
		0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
		0x00, 0x04, 0x20 };
	uint8_t data[266], c1[5 + 255], c2[5 + 11 + 1], resp[260], r2[10];
	uint8_t *sig = NULL;
	size_t slen = 0;

	open_plain(x);
	/* 7C 82 01 06 82 00 81 82 01 00 <EM> (§4.7.3) */
	memcpy(data, "\x7C\x82\x01\x06\x82\x00\x81\x82\x01\x00", 10);
	data[10] = 0x00;
	data[11] = 0x01;
	memset(data + 12, 0xFF, 256 - 3 - 19 - 32);
	data[10 + 256 - 19 - 32 - 1] = 0x00;
	memcpy(data + 10 + 256 - 19 - 32, di, 19);
	memcpy(data + 10 + 256 - 32, digest32, 32);
	memcpy(c1, "\x10\x87\x07\x9A\xFF", 5);
	memcpy(c1 + 5, data, 255);
	memcpy(c2, "\x00\x87\x07\x9A\x0B", 5);
	memcpy(c2 + 5, data + 255, 11);
	c2[16] = 0x00;
	memcpy(resp, "\x7C\x82\x01\x04\x82\x82\x01\x00", 8);
	memset(resp + 8, 0x5A, 248);
	memcpy(resp + 256, "\x61\x08", 2);
	memset(r2, 0x5A, 8);
	memcpy(r2 + 8, "\x90\x00", 2);
	ex_bytes(x, c1, sizeof(c1), (const uint8_t *)"\x90\x00", 2);
	ex_bytes(x, c2, sizeof(c2), resp, 258);
	ex_bytes(x, (const uint8_t *)"\x00\xC0\x00\x00\x08", 5, r2, sizeof(r2));
	assert_int_equal(cs_piv_sign(x->card, 0x9A, CS_PIV_ALG_RSA2048,
	    "sha256", digest32, 32, &sig, &slen), CS_OK);
	assert_int_equal(slen, 256);
	assert_int_equal(sig[0], 0x5A);
	cs_free(sig);
	/* digest name unknown or length mismatch: nothing sent */
	assert_int_equal(cs_piv_sign(x->card, 0x9A, CS_PIV_ALG_RSA2048, "md5",
	    digest32, 16, &sig, &slen), CS_ERR_ARG);
	assert_int_equal(cs_piv_sign(x->card, 0x9A, CS_PIV_ALG_RSA2048,
	    "sha384", digest32, 32, &sig, &slen), CS_ERR_ARG);
	assert_script_done(x);
}

static void
test_piv_ecdh_and_decipher(void **state)
{
	struct T *x = *state;
	EVP_PKEY *pk = gen_key("EC", "P-256");
	uint8_t pt[65], *sec = NULL, ct[256];
	size_t n = 0, slen = 0;
	char *ph, cmd[400];

	open_plain(x);
	ec_point(pk, pt, sizeof(pt), &n);
	ph = hex(pt, sizeof(pt));
	snprintf(cmd, sizeof(cmd), "00 87 11 9D 47 7C 45 82 00 85 41 %s 00",
	    ph);
	ex(x, cmd, "7C 22 82 20 " DIGEST32 " 90 00");
	assert_int_equal(cs_piv_ecdh(x->card, 0x9D, CS_PIV_ALG_P256, pt, 65,
	    &sec, &slen), CS_OK);
	assert_int_equal(slen, 32);
	assert_memory_equal(sec, digest32, 32);
	cs_free(sec);
	assert_int_equal(cs_piv_ecdh(x->card, 0x9D, CS_PIV_ALG_P256, pt, 64,
	    &sec, &slen), CS_ERR_ARG);
	memset(ct, 0x33, sizeof(ct));
	assert_int_equal(cs_piv_decipher(x->card, 0x9D, CS_PIV_ALG_P256, ct,
	    256, &sec, &slen), CS_ERR_ARG);
	free(ph);
	EVP_PKEY_free(pk);
	assert_script_done(x);
}

static void
test_piv_import_p256(void **state)
{
	struct T *x = *state;
	EVP_PKEY *pk = gen_key("EC", "P-256");
	BIGNUM *d = NULL;
	uint8_t scalar[32], *der = NULL;
	unsigned char *p = NULL;
	char *sh, cmd[200];
	int n;

	open_yk(x);
	assert_int_equal(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY,
	    &d), 1);
	assert_int_equal(BN_bn2binpad(d, scalar, 32), 32);
	sh = hex(scalar, 32);
	/* §4.15 example: 00 FE 11 9A 22 06 20 <32>, here extended + AA */
	snprintf(cmd, sizeof(cmd), "00 FE 11 9A 00 00 25 06 20 %s AA 01 03",
	    sh);
	ex(x, cmd, "90 00");
	n = i2d_PrivateKey(pk, &p);
	assert_true(n > 0);
	der = p;
	assert_int_equal(cs_piv_import_key(x->card, 0x9A, der, (size_t)n,
	    CS_PIV_PIN_ALWAYS, 0), CS_OK);
	assert_int_equal(cs_piv_import_key(x->card, 0x9A, der, (size_t)n - 3,
	    0, 0), CS_ERR_MALFORMED);
	OPENSSL_free(p);
	free(sh);
	BN_free(d);
	EVP_PKEY_free(pk);
	assert_script_done(x);
}

/* DER of a key built from OSSL_PARAMs (fromdata), for the import tests. */
static uint8_t *
key_der_from(const char *type, OSSL_PARAM_BLD *bld, int *n)
{
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY *pk = NULL;
	unsigned char *der = NULL;

	assert_non_null(kc);
	assert_non_null(params);
	assert_int_equal(EVP_PKEY_fromdata_init(kc), 1);
	assert_int_equal(EVP_PKEY_fromdata(kc, &pk, EVP_PKEY_KEYPAIR, params),
	    1);
	*n = i2d_PrivateKey(pk, &der);
	assert_true(*n > 0);
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(kc);
	EVP_PKEY_free(pk);
	return der;
}

/*
 * A P-256 key whose curve is written out with generator 2G instead of G:
 * valid, but matching no named curve, so the key has no group name.
 * import_tlvs used to strcmp its group[] buffer uninitialised on this
 * path (valgrind: "depends on uninitialised value").
 */
static void
test_piv_import_ec_explicit_curve(void **state)
{
	struct T *x = *state;
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *two = BN_new();
	BIGNUM *d = BN_new();
	EC_POINT *g2 = NULL, *q = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	uint8_t gen[65], pub[65], *der;
	int n;

	open_yk(x);
	assert_non_null(g);
	assert_non_null(bld);
	assert_int_equal(EC_GROUP_get_curve(g, p, a, b, bc), 1);
	assert_int_equal(BN_set_word(two, 2), 1);
	assert_int_equal(BN_set_word(d, 12345), 1);
	g2 = EC_POINT_new(g);
	q = EC_POINT_new(g);
	assert_int_equal(EC_POINT_mul(g, g2, two, NULL, NULL, bc), 1);
	/* the public key on the new generator: d * 2G */
	assert_int_equal(EC_POINT_mul(g, q, NULL, g2, d, bc), 1);
	assert_int_equal(EC_POINT_point2oct(g, g2,
	    POINT_CONVERSION_UNCOMPRESSED, gen, sizeof(gen), bc), 65);
	assert_int_equal(EC_POINT_point2oct(g, q,
	    POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), bc), 65);
	assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_EC_FIELD_TYPE, SN_X9_62_prime_field, 0), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_P, p),
	    1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_A, a),
	    1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_B, b),
	    1);
	assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld,
	    OSSL_PKEY_PARAM_EC_GENERATOR, gen, sizeof(gen)), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_EC_ORDER,
	    EC_GROUP_get0_order(g)), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_EC_COFACTOR, BN_value_one()), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld,
	    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY,
	    d), 1);
	der = key_der_from("EC", bld, &n);
	/* no APDU: refused before anything goes to the card */
	assert_int_equal(cs_piv_import_key(x->card, 0x9A, der, (size_t)n, 0,
	    0), CS_ERR_UNSUPPORTED);
	assert_string_equal(cs_ctx_errmsg(x->ctx),
	    "import: only P-256 and P-384 EC keys");
	OPENSSL_free(der);
	OSSL_PARAM_BLD_free(bld);
	EC_POINT_free(g2);
	EC_POINT_free(q);
	BN_free(p);
	BN_free(a);
	BN_free(b);
	BN_free(two);
	BN_free(d);
	BN_CTX_free(bc);
	EC_GROUP_free(g);
	assert_script_done(x);
}

/*
 * RSA-2048 from a 1100-bit and a 948-bit prime: the modulus has 2048
 * bits but p needs 138 bytes, more than the 128 of its tag. That is
 * CS_ERR_LIMIT with its own message, not "without CRT parameters".
 */
static void
test_piv_import_rsa_oversized_component(void **state)
{
	struct T *x = *state;
	BN_CTX *bc = BN_CTX_new();
	BIGNUM *p = BN_new(), *q = BN_new(), *nn = BN_new(), *e = BN_new();
	BIGNUM *d = BN_new(), *p1 = BN_new(), *q1 = BN_new();
	BIGNUM *phi = BN_new(), *dp = BN_new(), *dq = BN_new();
	BIGNUM *qi = BN_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	uint8_t *der;
	int n;

	open_yk(x);
	assert_non_null(bld);
	assert_int_equal(BN_set_word(e, 65537), 1);
	do {
		assert_int_equal(BN_generate_prime_ex2(p, 1100, 0, NULL, NULL,
		    NULL, bc), 1);
		assert_int_equal(BN_generate_prime_ex2(q, 948, 0, NULL, NULL,
		    NULL, bc), 1);
		assert_int_equal(BN_mul(nn, p, q, bc), 1);
		assert_int_equal(BN_sub(p1, p, BN_value_one()), 1);
		assert_int_equal(BN_sub(q1, q, BN_value_one()), 1);
		assert_int_equal(BN_mul(phi, p1, q1, bc), 1);
	} while (BN_num_bits(nn) != 2048 ||
	    BN_mod_inverse(d, e, phi, bc) == NULL);
	assert_int_equal(BN_mod(dp, d, p1, bc), 1);
	assert_int_equal(BN_mod(dq, d, q1, bc), 1);
	assert_non_null(BN_mod_inverse(qi, q, p, bc));
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
	    nn), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
	    e), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D,
	    d), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_RSA_FACTOR1, p), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_RSA_FACTOR2, q), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_RSA_EXPONENT1, dp), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_RSA_EXPONENT2, dq), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld,
	    OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi), 1);
	der = key_der_from("RSA", bld, &n);
	assert_int_equal(cs_piv_import_key(x->card, 0x9A, der, (size_t)n, 0,
	    0), CS_ERR_LIMIT);
	assert_string_equal(cs_ctx_errmsg(x->ctx),
	    "import: RSA prime p (tag 01) is longer than 128 bytes");
	OPENSSL_free(der);
	OSSL_PARAM_BLD_free(bld);
	BN_free(p);
	BN_free(q);
	BN_free(nn);
	BN_free(e);
	BN_clear_free(d);
	BN_free(p1);
	BN_free(q1);
	BN_free(phi);
	BN_clear_free(dp);
	BN_clear_free(dq);
	BN_free(qi);
	BN_CTX_free(bc);
	assert_script_done(x);
}

static void
test_piv_attest(void **state)
{
	struct T *x = *state;
	uint8_t *der, *resp, *got = NULL;
	size_t len, glen = 0;

	open_yk(x);
	cert_der(&der, &len);
	resp = malloc(len + 2);
	memcpy(resp, der, len);
	memcpy(resp + len, "\x90\x00", 2);
	ex_bytes(x, (const uint8_t *)"\x00\xF9\x9A\x00\x00\x00\x00", 7, resp,
	    len + 2);
	assert_int_equal(cs_piv_attest(x->card, 0x9A, &got, &glen), CS_OK);
	assert_int_equal(glen, len);
	assert_memory_equal(got, der, len);
	cs_free(got);
	ex(x, "00 F9 9C 00 00 00 00", "6A 80");
	assert_int_equal(cs_piv_attest(x->card, 0x9C, &got, &glen), CS_ERR_SW);
	assert_msg_has(x, "imported");
	ex(x, "00 F9 9C 00 00 00 00", "30 03 02 01 90 00");
	assert_int_equal(cs_piv_attest(x->card, 0x9C, &got, &glen),
	    CS_ERR_MALFORMED);
	ex(x, "00 F9 9C 00 00 00 00", "6D 00");
	assert_int_equal(cs_piv_attest(x->card, 0x9C, &got, &glen),
	    CS_ERR_UNSUPPORTED);
	free(resp);
	free(der);
	assert_script_done(x);
}

static void
test_piv_reset_move_delete(void **state)
{
	struct T *x = *state;

	open_yk(x);
	ex(x, "00 FB 00 00", "69 85");
	assert_int_equal(cs_piv_reset(x->card), CS_ERR_SW);
	assert_msg_has(x, "blocked");
	ex(x, "00 FB 00 00", "90 00");
	assert_int_equal(cs_piv_reset(x->card), CS_OK);
	/* 5.4.3 has no MOVE KEY: refused without an APDU */
	assert_int_equal(cs_piv_move_key(x->card, 0x9A, 0x9C),
	    CS_ERR_UNSUPPORTED);
	assert_int_equal(cs_piv_delete_key(x->card, 0x9A), CS_ERR_UNSUPPORTED);
	assert_script_done(x);
}

static void
test_piv_move_delete_57(void **state)
{
	struct T *x = *state;

	ex(x, SEL, "90 00");
	ex(x, "00 FD 00 00 00", "05 07 02 90 00");
	ex(x, "00 F8 00 00 00 00 00", "01 02 03 04 90 00");
	assert_int_equal(cs_card_open(x->ctx, x->t, 0, &x->card), CS_OK);
	assert_true(cs_card_has(x->card, CS_CAP_MOVE_KEY));
	assert_true(cs_card_has(x->card, CS_CAP_25519));
	ex(x, "00 F6 9C 9A", "90 00");
	assert_int_equal(cs_piv_move_key(x->card, 0x9A, 0x9C), CS_OK);
	ex(x, "00 F6 FF 9C", "69 82");
	assert_int_equal(cs_piv_delete_key(x->card, 0x9C), CS_ERR_ACCESS);
	assert_int_equal(cs_piv_move_key(x->card, 0xF9, 0x9C), CS_ERR_ARG);
	assert_script_done(x);
}

static void
test_piv_names(void **state)
{
	(void)state;
	assert_int_equal(cs_piv_slot_parse("9a"), 0x9A);
	assert_int_equal(cs_piv_slot_parse("9C"), 0x9C);
	assert_int_equal(cs_piv_slot_parse("sign"), 0x9C);
	assert_int_equal(cs_piv_slot_parse("cardauth"), 0x9E);
	assert_int_equal(cs_piv_slot_parse("f9"), 0xF9);
	assert_int_equal(cs_piv_slot_parse("82"), 0x82);
	assert_int_equal(cs_piv_slot_parse("retired20"), 0x95);
	assert_int_equal(cs_piv_slot_parse("retired21"), -1);
	assert_int_equal(cs_piv_slot_parse("96"), -1);
	assert_int_equal(cs_piv_slot_parse("9a0"), -1);
	assert_int_equal(cs_piv_slot_parse("-1"), -1);
	assert_int_equal(cs_piv_slot_parse(""), -1);
	assert_int_equal(cs_piv_alg_parse("P256"), CS_PIV_ALG_P256);
	assert_int_equal(cs_piv_alg_parse("eccp384"), CS_PIV_ALG_P384);
	assert_int_equal(cs_piv_alg_parse("rsa2048"), CS_PIV_ALG_RSA2048);
	assert_int_equal(cs_piv_alg_parse("aes192"), CS_PIV_ALG_AES192);
	assert_int_equal(cs_piv_alg_parse("dsa"), 0);
	assert_string_equal(cs_piv_alg_name(CS_PIV_ALG_ED25519), "ed25519");
	assert_null(cs_piv_alg_name(0x42));
	assert_int_equal(cs_piv_cert_object(0x9A), 0x5FC105);
	assert_int_equal(cs_piv_cert_object(0x9E), 0x5FC101);
	assert_int_equal(cs_piv_cert_object(0x82), 0x5FC10D);
	assert_int_equal(cs_piv_cert_object(0x95), 0x5FC120);
	assert_int_equal(cs_piv_cert_object(0x9B), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T_(test_piv_open_yubikey),
		T_(test_piv_open_plain_card),
		T_(test_piv_open_yubikey4_otp_serial),
		T_(test_piv_open_yubikey4_no_serial),
		T_(test_piv_open_no_piv_app),
		T_(test_piv_open_bad_version),
		T_(test_piv_get_data_61xx),
		T_(test_piv_get_data_errors),
		T_(test_piv_put_data_chained),
		T_(test_piv_read_cert_plain),
		T_(test_piv_read_cert_compressed),
		T_(test_piv_write_cert_creates_chuid),
		T_(test_piv_write_cert_compressed_roundtrip),
		T_(test_piv_verify_ok_wrong_blocked),
		T_(test_piv_verify_extended),
		T_(test_piv_retries_status),
		T_(test_piv_retries_metadata),
		T_(test_piv_change_and_unblock),
		T_(test_piv_set_retries),
		T_(test_piv_mgm_3des_worked_example),
		T_(test_piv_mgm_alg_from_metadata),
		T_(test_piv_mgm_aes192),
		T_(test_piv_mgm_wrong_key),
		T_(test_piv_mgm_removed_mid_auth),
		T_(test_piv_set_mgm_protect_ykman_bytes),
		T_(test_piv_trace_redacts_secrets),
		T_(test_piv_set_mgm_keeps_subtags),
		T_(test_piv_set_mgm_unprotect),
		T_(test_piv_authenticate_protected),
		T_(test_piv_generate_p256),
		T_(test_piv_generate_rsa2048_chained),
		T_(test_piv_metadata),
		T_(test_piv_metadata_unsupported),
		T_(test_piv_sign_pin_always_verify_placement),
		T_(test_piv_sign_plain_card_defaults),
		T_(test_piv_sign_rsa_pkcs1_chained),
		T_(test_piv_ecdh_and_decipher),
		T_(test_piv_import_p256),
		T_(test_piv_import_ec_explicit_curve),
		T_(test_piv_import_rsa_oversized_component),
		T_(test_piv_attest),
		T_(test_piv_reset_move_delete),
		T_(test_piv_move_delete_57),
		cmocka_unit_test(test_piv_names),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
