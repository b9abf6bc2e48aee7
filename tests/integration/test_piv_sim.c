/*
 * lib/piv against the in-process simulator (sim/applet.h) through
 * tests/support/sim_transport: real cryptography end to end. Keys are
 * generated on the card, signatures and ECDH results are checked with
 * OpenSSL against the returned public keys, attestation statements are
 * matched with the generated key, and the ykman-compatible protected
 * management key and the reset flow run against the card's own logic.
 */
#include <sys/stat.h>

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/piv.h"
#include "applet.h"
#include "simcrypto.h"
#include "sim_transport.h"
#include "harness.h"

#include "banned.h"

struct S {
	struct cs_ctx *ctx;
	struct sim_card *sim;
	struct cs_card *card;
	struct cs_transport *t; /* borrowed from card */
	char vendor[64];
};

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
card_open(struct S *s)
{
	struct cs_transport *t = NULL;

	assert_int_equal(cs_sim_transport_new(s->sim, &t), CS_OK);
	if (cs_card_open(s->ctx, t, 0, &s->card) != CS_OK) {
		cs_transport_close(t);
		fail_msg("open: %s", cs_ctx_errmsg(s->ctx));
	}
	s->t = t;
}

static int
setup(void **state)
{
	struct S *s = calloc(1, sizeof(*s));
	struct sim_card_config cfg = { { 5, 4, 3 }, 12345678 };
	struct sim_device_info dev = { { 5, 4, 3 }, 12345678, 1, false, false, false };
	struct sim_key *f9 = NULL;
	uint8_t *cert = NULL;
	size_t certlen = 0;

	if (s == NULL || cs_ctx_new(&s->ctx) != CS_OK ||
	    sim_card_new(&cfg, &s->sim) != CS_OK)
		return -1;
	snprintf(s->vendor, sizeof(s->vendor), "/tmp/cs-piv-sim-XXXXXX");
	if (mkdtemp(s->vendor) == NULL)
		return -1;
	/* sim_vendor_init creates the directory itself */
	if (rmdir(s->vendor) != 0 || sim_vendor_init(s->vendor) != CS_OK ||
	    sim_vendor_issue_f9(s->vendor, &dev, &f9, &cert, &certlen) !=
	    CS_OK ||
	    sim_card_set_attestation(s->sim, f9, cert, certlen) != CS_OK) {
		cs_free(cert);
		return -1;
	}
	cs_free(cert);
	card_open(s);
	*state = s;
	return 0;
}

static int
teardown(void **state)
{
	struct S *s = *state;

	cs_card_close(s->card);
	sim_card_free(s->sim);
	cs_ctx_free(s->ctx);
	if (s->vendor[0] != '\0')
		(void)nftw(s->vendor, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(s);
	return 0;
}

#define CHECK(s, call) \
	do { \
		enum cs_err r_ = (call); \
		if (r_ != CS_OK) \
			fail_msg("%s: %s (%s)", #call, cs_errname(r_), \
			    cs_ctx_errmsg((s)->ctx)); \
	} while (0)

#define CHECK_CTX(ctx, call) \
	do { \
		enum cs_err r_ = (call); \
		if (r_ != CS_OK) \
			fail_msg("%s: %s (%s)", #call, cs_errname(r_), \
			    cs_ctx_errmsg(ctx)); \
	} while (0)

static EVP_PKEY *
spki_key(const uint8_t *spki, size_t len)
{
	const unsigned char *p = spki;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);

	assert_non_null(pk);
	return pk;
}

static void
auth_default(struct S *s)
{
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	CHECK(s, cs_piv_authenticate(s->card, 0, key, klen));
}

/* Sign sha256/384 of a message on the card and verify with OpenSSL. */
static void
sign_and_verify(struct S *s, uint8_t slot, uint8_t alg, EVP_PKEY *pub)
{
	static const char msg[] = "cardsmith sim signing test";
	const EVP_MD *md = alg == CS_PIV_ALG_P384 ? EVP_sha384() :
	    EVP_sha256();
	const char *mdname = alg == CS_PIV_ALG_P384 ? "sha384" : "sha256";
	uint8_t dig[64], *sig = NULL;
	unsigned int dlen = 0;
	size_t slen = 0;
	EVP_PKEY_CTX *vc;

	assert_int_equal(EVP_Digest(msg, sizeof(msg) - 1, dig, &dlen, md,
	    NULL), 1);
	CHECK(s, cs_piv_sign(s->card, slot, 0, mdname, dig, dlen, &sig,
	    &slen));
	vc = EVP_PKEY_CTX_new(pub, NULL);
	assert_non_null(vc);
	assert_int_equal(EVP_PKEY_verify_init(vc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(vc, md), 1);
	assert_int_equal(EVP_PKEY_verify(vc, sig, slen, dig, dlen), 1);
	/* a different digest must not verify */
	dig[0] ^= 1;
	assert_int_not_equal(EVP_PKEY_verify(vc, sig, slen, dig, dlen), 1);
	EVP_PKEY_CTX_free(vc);
	cs_free(sig);
}

static void
check_attestation(struct S *s, uint8_t slot, EVP_PKEY *pub)
{
	uint8_t *der = NULL;
	size_t len = 0;
	const unsigned char *p;
	X509 *x;
	EVP_PKEY *ak;
	char cn[64], want[64];

	CHECK(s, cs_piv_attest(s->card, slot, &der, &len));
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_non_null(x);
	ak = X509_get0_pubkey(x);
	assert_non_null(ak);
	assert_int_equal(EVP_PKEY_eq(ak, pub), 1);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0);
	snprintf(want, sizeof(want), "YubiKey PIV Attestation %02x", slot);
	assert_string_equal(cn, want);
	X509_free(x);
	cs_free(der);
}

static uint8_t
default_pin_policy(uint8_t slot)
{
	return slot == 0x9C ? CS_PIV_PIN_ALWAYS :
	    slot == 0x9E ? CS_PIV_PIN_NEVER : CS_PIV_PIN_ONCE;
}

static void
keys_for_alg(struct S *s, uint8_t alg)
{
	static const uint8_t slots[] = { 0x9A, 0x9C, 0x9D, 0x9E };
	struct cs_piv_keygen kg;
	struct cs_piv_key_meta m;
	uint8_t *spki = NULL, *mspki = NULL;
	size_t slen = 0, mlen = 0, i;
	EVP_PKEY *pub;

	CHECK(s, cs_card_set_pin(s->card, "123456", 6));
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	auth_default(s);
	for (i = 0; i < sizeof(slots); i++) {
		memset(&kg, 0, sizeof(kg));
		kg.slot = slots[i];
		kg.alg = alg;
		CHECK(s, cs_piv_generate(s->card, &kg, &spki, &slen));
		pub = spki_key(spki, slen);
		sign_and_verify(s, slots[i], alg, pub);
		CHECK(s, cs_piv_key_metadata(s->card, slots[i], &m, &mspki,
		    &mlen));
		assert_int_equal(m.alg, alg);
		assert_int_equal(m.origin, 1);
		assert_int_equal(m.pin_policy, default_pin_policy(slots[i]));
		assert_int_equal(m.touch_policy, CS_PIV_TOUCH_NEVER);
		assert_int_equal(mlen, slen);
		assert_memory_equal(mspki, spki, slen);
		check_attestation(s, slots[i], pub);
		EVP_PKEY_free(pub);
		cs_free(spki);
		cs_free(mspki);
	}
	assert_int_equal(cs_sim_transport_nbegin(s->t),
	    cs_sim_transport_nend(s->t));
}

static void
test_piv_sim_p256(void **state)
{
	keys_for_alg(*state, CS_PIV_ALG_P256);
}

static void
test_piv_sim_p384(void **state)
{
	keys_for_alg(*state, CS_PIV_ALG_P384);
}

static void
test_piv_sim_rsa2048(void **state)
{
	keys_for_alg(*state, CS_PIV_ALG_RSA2048);
}

static void
test_piv_sim_pin_always_needs_cached_pin(void **state)
{
	struct S *s = *state;
	struct cs_piv_keygen kg = { 0x9C, CS_PIV_ALG_P256, 0, 0 };
	struct cs_piv_retries rt;
	uint8_t *spki = NULL, *sig = NULL, dig[32];
	size_t slen = 0, siglen = 0;

	memset(dig, 0x42, sizeof(dig));
	auth_default(s);
	CHECK(s, cs_piv_generate(s->card, &kg, &spki, &slen));
	cs_free(spki);
	/* a verified session is not enough for a PIN-always key */
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	CHECK(s, cs_piv_get_retries(s->card, 0x80, &rt));
	assert_true(rt.verified);
	assert_int_equal(cs_piv_sign(s->card, 0x9C, 0, "sha256", dig, 32,
	    &sig, &siglen), CS_ERR_ACCESS);
	CHECK(s, cs_card_set_pin(s->card, "123456", 6));
	CHECK(s, cs_piv_sign(s->card, 0x9C, 0, "sha256", dig, 32, &sig,
	    &siglen));
	cs_free(sig);
}

static void
test_piv_sim_ecdh(void **state)
{
	struct S *s = *state;
	struct cs_piv_keygen kg = { 0x9D, CS_PIV_ALG_P256, 0, 0 };
	uint8_t *spki = NULL, *sec = NULL, pt[65], host[32];
	size_t slen = 0, seclen = 0, ptlen = 0, hlen = sizeof(host);
	EVP_PKEY *peer, *pub;
	EVP_PKEY_CTX *dc;

	auth_default(s);
	CHECK(s, cs_piv_generate(s->card, &kg, &spki, &slen));
	pub = spki_key(spki, slen);
	peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(peer);
	assert_int_equal(EVP_PKEY_get_octet_string_param(peer, "pub", pt,
	    sizeof(pt), &ptlen), 1);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	CHECK(s, cs_piv_ecdh(s->card, 0x9D, 0, pt, ptlen, &sec, &seclen));
	dc = EVP_PKEY_CTX_new(peer, NULL);
	assert_int_equal(EVP_PKEY_derive_init(dc), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(dc, pub), 1);
	assert_int_equal(EVP_PKEY_derive(dc, host, &hlen), 1);
	assert_int_equal(seclen, hlen);
	assert_memory_equal(sec, host, hlen);
	EVP_PKEY_CTX_free(dc);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(pub);
	cs_free(spki);
	cs_free(sec);
}

static void
test_piv_sim_mgm_metadata(void **state)
{
	struct S *s = *state;
	struct cs_piv_mgm_meta m;
	uint8_t newkey[24];
	size_t klen, i;
	const uint8_t *def = cs_piv_default_mgm_key(&klen);

	CHECK(s, cs_piv_mgm_metadata(s->card, &m));
	assert_int_equal(m.alg, CS_PIV_ALG_3DES);
	assert_true(m.known_default);
	assert_true(m.is_default);
	for (i = 0; i < sizeof(newkey); i++)
		newkey[i] = (uint8_t)(0x11 * (i + 1));
	auth_default(s);
	CHECK(s, cs_piv_set_mgm_key(s->card, CS_PIV_ALG_AES192, newkey,
	    sizeof(newkey), CS_PIV_MGM_TOUCH));
	CHECK(s, cs_piv_mgm_metadata(s->card, &m));
	assert_int_equal(m.alg, CS_PIV_ALG_AES192);
	assert_true(m.known_default);
	assert_false(m.is_default);
	assert_int_equal(m.touch_policy, CS_PIV_TOUCH_ALWAYS);
	/* authentication picks the algorithm from the metadata */
	CHECK(s, cs_piv_authenticate(s->card, 0, newkey, sizeof(newkey)));
	assert_int_equal(cs_piv_authenticate(s->card, 0, def, klen),
	    CS_ERR_AUTH);
}

static void
test_piv_sim_protected_mgm_roundtrip(void **state)
{
	struct S *s = *state;
	uint8_t newkey[24];
	size_t klen, i;
	const uint8_t *def = cs_piv_default_mgm_key(&klen);
	bool prot = false;
	uint8_t *val = NULL;
	size_t vlen = 0;
	struct cs_piv_keygen kg = { 0x9A, CS_PIV_ALG_P256, 0, 0 };
	uint8_t *spki = NULL;

	for (i = 0; i < sizeof(newkey); i++)
		newkey[i] = (uint8_t)(0x40 + i * 3);
	CHECK(s, cs_card_set_pin(s->card, "123456", 6));
	auth_default(s);
	CHECK(s, cs_piv_set_mgm_key(s->card, CS_PIV_ALG_AES192, newkey,
	    sizeof(newkey), CS_PIV_MGM_PROTECT));
	CHECK(s, cs_piv_mgm_is_protected(s->card, &prot));
	assert_true(prot);
	CHECK(s, cs_piv_read_object(s->card, 0x5FFF00, &val, &vlen));
	assert_int_equal(vlen, 5);
	assert_memory_equal(val, "\x80\x03\x81\x01\x02", 5);
	cs_free(val);
	/* new session: the old key fails, the stored one works */
	cs_card_close(s->card);
	s->card = NULL;
	sim_card_power(s->sim);
	card_open(s);
	assert_int_equal(cs_piv_authenticate(s->card, 0, def, klen),
	    CS_ERR_AUTH);
	assert_int_equal(cs_piv_authenticate_protected(s->card),
	    CS_ERR_ACCESS);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	CHECK(s, cs_piv_authenticate_protected(s->card));
	CHECK(s, cs_piv_generate(s->card, &kg, &spki, &klen));
	cs_free(spki);
	/* and back to an unprotected default key */
	CHECK(s, cs_piv_set_mgm_key(s->card, CS_PIV_ALG_3DES, def, 24, 0));
	CHECK(s, cs_piv_mgm_is_protected(s->card, &prot));
	assert_false(prot);
	auth_default(s);
}

static void
test_piv_sim_reset_flow(void **state)
{
	struct S *s = *state;
	struct cs_piv_keygen kg = { 0x9A, CS_PIV_ALG_P256, 0, 0 };
	struct cs_piv_key_meta m;
	struct cs_piv_retries rt;
	uint8_t *spki = NULL;
	size_t slen = 0;
	int tries = -1, i;
	enum cs_err r;

	auth_default(s);
	CHECK(s, cs_piv_generate(s->card, &kg, &spki, &slen));
	cs_free(spki);
	assert_int_equal(cs_piv_reset(s->card), CS_ERR_SW);
	for (i = 0; i < 5; i++) {
		r = cs_piv_verify_pin(s->card, "000000", 6, &tries);
		if (r == CS_ERR_BLOCKED)
			break;
		assert_int_equal(r, CS_ERR_AUTH);
		assert_int_equal(tries, 2 - i);
	}
	assert_int_equal(r, CS_ERR_BLOCKED);
	CHECK(s, cs_piv_get_retries(s->card, 0x80, &rt));
	assert_int_equal(rt.remaining, 0);
	for (i = 0; i < 5; i++) {
		r = cs_piv_unblock_pin(s->card, "00000000", 8, "123456", 6,
		    &tries);
		if (r == CS_ERR_BLOCKED)
			break;
		assert_int_equal(r, CS_ERR_AUTH);
	}
	assert_int_equal(r, CS_ERR_BLOCKED);
	CHECK(s, cs_piv_reset(s->card));
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, &tries));
	auth_default(s);
	assert_int_equal(cs_piv_key_metadata(s->card, 0x9A, &m, NULL, NULL),
	    CS_ERR_NOT_FOUND);
	CHECK(s, cs_piv_get_retries(s->card, 0x81, &rt));
	assert_int_equal(rt.remaining, 3);
	assert_true(rt.is_default);
}

static void
test_piv_sim_certificates(void **state)
{
	struct S *s = *state;
	struct cs_piv_keygen kg = { 0x9A, CS_PIV_ALG_P256, 0, 0 };
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	unsigned char *der = NULL;
	uint8_t *back = NULL, *chuid = NULL, *spki = NULL;
	size_t blen = 0, clen = 0, slen = 0;
	int len;

	assert_non_null(k);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 60));
	n = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"sim cert", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	auth_default(s);
	CHECK(s, cs_piv_generate(s->card, &kg, &spki, &slen));
	assert_int_equal(cs_piv_read_cert(s->card, 0x9A, &back, &blen),
	    CS_ERR_NOT_FOUND);
	CHECK(s, cs_piv_write_cert(s->card, 0x9A, der, (size_t)len,
	    CS_PIV_CERT_COMPRESS));
	CHECK(s, cs_piv_read_cert(s->card, 0x9A, &back, &blen));
	assert_int_equal(blen, (size_t)len);
	assert_memory_equal(back, der, blen);
	cs_free(back);
	CHECK(s, cs_piv_read_object(s->card, 0x5FC102, &chuid, &clen));
	assert_int_equal(clen, 0x3B);
	assert_memory_equal(chuid, "\x30\x19\xD4\xE7\x39", 5);
	cs_free(chuid);
	CHECK(s, cs_piv_delete_cert(s->card, 0x9A));
	assert_int_equal(cs_piv_read_cert(s->card, 0x9A, &back, &blen),
	    CS_ERR_NOT_FOUND);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	cs_free(spki);
}

static void
test_piv_sim_removed(void **state)
{
	struct S *s = *state;
	size_t klen;
	const uint8_t *key = cs_piv_default_mgm_key(&klen);

	cs_sim_transport_remove_after(s->t, 2); /* metadata, witness */
	assert_int_equal(cs_piv_authenticate(s->card, 0, key, klen),
	    CS_ERR_REMOVED);
	assert_int_equal(cs_sim_transport_nbegin(s->t),
	    cs_sim_transport_nend(s->t));
}

static void
import_one(struct S *s, uint8_t slot, EVP_PKEY *k, uint8_t alg)
{
	struct cs_piv_key_meta m;
	unsigned char *der = NULL;
	uint8_t *spki = NULL, *att = NULL;
	size_t slen = 0, alen = 0;
	int n;
	EVP_PKEY *pub;

	n = i2d_PrivateKey(k, &der);
	assert_true(n > 0);
	CHECK(s, cs_piv_import_key(s->card, slot, der, (size_t)n,
	    CS_PIV_PIN_ONCE, CS_PIV_TOUCH_NEVER));
	OPENSSL_clear_free(der, (size_t)n);
	CHECK(s, cs_piv_key_metadata(s->card, slot, &m, &spki, &slen));
	assert_int_equal(m.alg, alg);
	assert_int_equal(m.origin, 2);
	assert_int_equal(m.pin_policy, CS_PIV_PIN_ONCE);
	pub = spki_key(spki, slen);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	sign_and_verify(s, slot, alg, pub);
	/* imported keys are never attested */
	assert_int_not_equal(cs_piv_attest(s->card, slot, &att, &alen), CS_OK);
	assert_null(att);
	EVP_PKEY_free(pub);
	cs_free(spki);
}

static void
test_piv_sim_import(void **state)
{
	struct S *s = *state;
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	assert_non_null(ec);
	assert_non_null(rsa);
	CHECK(s, cs_card_set_pin(s->card, "123456", 6));
	auth_default(s);
	import_one(s, 0x9D, ec, CS_PIV_ALG_P384);
	import_one(s, 0x82, rsa, CS_PIV_ALG_RSA2048);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

/* A 5.7 card: Ed25519, X25519, MOVE and DELETE KEY. */
static void
test_piv_sim_fw57(void **state)
{
	struct S *s = *state;
	struct sim_card_config cfg = { { 5, 7, 2 }, 7654321 };
	struct cs_piv_keygen kg = { 0x9A, CS_PIV_ALG_ED25519, 0, 0 };
	struct cs_piv_key_meta m;
	static const uint8_t msg[] = "ed25519 message";
	uint8_t *spki = NULL, *sig = NULL;
	size_t slen = 0, siglen = 0;
	EVP_PKEY *pub;
	EVP_MD_CTX *mc;

	cs_card_close(s->card);
	s->card = NULL;
	sim_card_free(s->sim);
	assert_int_equal(sim_card_new(&cfg, &s->sim), CS_OK);
	card_open(s);
	assert_true(cs_card_has(s->card, CS_CAP_25519));
	CHECK(s, cs_card_set_pin(s->card, "123456", 6));
	auth_default(s);
	CHECK(s, cs_piv_generate(s->card, &kg, &spki, &slen));
	pub = spki_key(spki, slen);
	CHECK(s, cs_piv_verify_pin(s->card, "123456", 6, NULL));
	CHECK(s, cs_piv_sign(s->card, 0x9A, 0, NULL, msg, sizeof(msg) - 1,
	    &sig, &siglen));
	assert_int_equal(siglen, 64);
	mc = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(mc, NULL, NULL, NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(mc, sig, siglen, msg,
	    sizeof(msg) - 1), 1);
	EVP_MD_CTX_free(mc);
	CHECK(s, cs_piv_move_key(s->card, 0x9A, 0x85));
	assert_int_equal(cs_piv_key_metadata(s->card, 0x9A, &m, NULL, NULL),
	    CS_ERR_NOT_FOUND);
	CHECK(s, cs_piv_key_metadata(s->card, 0x85, &m, NULL, NULL));
	assert_int_equal(m.alg, CS_PIV_ALG_ED25519);
	CHECK(s, cs_piv_delete_key(s->card, 0x85));
	assert_int_equal(cs_piv_key_metadata(s->card, 0x85, &m, NULL, NULL),
	    CS_ERR_NOT_FOUND);
	EVP_PKEY_free(pub);
	cs_free(spki);
	cs_free(sig);
}

/* cardsmith-sim next to this program's build tree, or under $CS_BUILD. */
static bool
sim_binary(char *path, size_t cap)
{
	const char *build = getenv("CS_BUILD");
	char self[4096];
	ssize_t n;
	char *cut;

	if (build != NULL && build[0] != '\0') {
		snprintf(path, cap, "%s/bin/cardsmith-sim", build);
		return access(path, X_OK) == 0;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return false;
	self[n] = '\0';
	if ((cut = strstr(self, "/tests/integration/")) == NULL)
		return false;
	*cut = '\0';
	snprintf(path, cap, "%s/bin/cardsmith-sim", self);
	return access(path, X_OK) == 0;
}

static void
start_sim(struct cs_harness *h, int slot, const char *bin, unsigned serial)
{
	char cmd[4600];

	snprintf(cmd, sizeof(cmd), "exec '%s' --vpcd-port \"$CS_VPCD_PORT\" "
	    "--state \"$CS_HARNESS_DIR/piv%d.state\" --no-attestation "
	    "--serial %u", bin, slot, serial);
	assert_int_equal(cs_harness_start_card(h, slot, cmd), CS_OK);
	assert_int_equal(cs_harness_wait_card(h, slot, true, 10000), CS_OK);
}

/* cs_card_find over a private pcscd with two simulated YubiKeys. */
static void
test_piv_sim_card_find(void **state)
{
	struct cs_harness *h = NULL;
	struct cs_ctx *ctx = NULL;
	struct cs_card *card = NULL;
	struct cs_card_info info;
	char why[256], bin[4200];

	(void)state;
	if (!cs_harness_available(why, sizeof(why))) {
		print_message("# %s\n", why);
		skip();
	}
	assert_true(sim_binary(bin, sizeof(bin)));
	assert_int_equal(cs_ctx_new(&ctx), CS_OK);
	assert_int_equal(cs_harness_start(&h), CS_OK);
	start_sim(h, 0, bin, 11111111);
	start_sim(h, 1, bin, 22222222);
	/* two cards, no way to choose */
	assert_int_equal(cs_card_find(ctx, NULL, 0, 0, &card), CS_ERR_ARG);
	assert_null(card);
	assert_non_null(strstr(cs_ctx_errmsg(ctx), "11111111"));
	assert_non_null(strstr(cs_ctx_errmsg(ctx), "22222222"));
	/* by serial */
	CHECK_CTX(ctx, cs_card_find(ctx, NULL, 22222222, 0, &card));
	cs_card_get_info(card, &info);
	assert_int_equal(info.serial, 22222222);
	assert_string_equal(info.reader, cs_harness_reader(h, 1));
	assert_int_equal(info.atr_len, 23);
	cs_card_close(card);
	card = NULL;
	/* by reader name, case-insensitive */
	CHECK_CTX(ctx, cs_card_find(ctx, "virtual pcd 00 00", 0, 0, &card));
	cs_card_get_info(card, &info);
	assert_int_equal(info.serial, 11111111);
	cs_card_close(card);
	card = NULL;
	assert_int_equal(cs_card_find(ctx, NULL, 33333333, 0, &card),
	    CS_ERR_NO_CARD);
	assert_int_equal(cs_card_find(ctx, "no such reader", 0, 0, &card),
	    CS_ERR_NO_CARD);
	cs_harness_stop(h);
	cs_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T_(test_piv_sim_p256),
		T_(test_piv_sim_p384),
		T_(test_piv_sim_rsa2048),
		T_(test_piv_sim_pin_always_needs_cached_pin),
		T_(test_piv_sim_ecdh),
		T_(test_piv_sim_protected_mgm_roundtrip),
		T_(test_piv_sim_mgm_metadata),
		T_(test_piv_sim_reset_flow),
		T_(test_piv_sim_certificates),
		T_(test_piv_sim_removed),
		T_(test_piv_sim_import),
		T_(test_piv_sim_fw57),
		cmocka_unit_test(test_piv_sim_card_find),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
