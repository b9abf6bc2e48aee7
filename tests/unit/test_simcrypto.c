/*
 * Simulator crypto (sim/crypto.c, crypto_import.c, crypto_op.c), the
 * simulated vendor CA and F9 (sim/vendor.c) and attestation (sim/attest.c).
 * Every signature and key agreement is checked independently with OpenSSL
 * against the key's SubjectPublicKeyInfo.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <valgrind/valgrind.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/tlv.h"
#include "../../sim/simcrypto.h"
#include "../../sim/simcrypto_ext.h"

#include "banned.h"

#define BUF_MAX 8192

/* Keys generated once per run (RSA keygen is slow under valgrind). */
static const uint8_t gen_algs[] = { SIM_ALG_RSA1024, SIM_ALG_RSA2048,
	SIM_ALG_P256, SIM_ALG_P384, SIM_ALG_ED25519, SIM_ALG_X25519 };
static struct sim_key *gen_keys[sizeof(gen_algs)];

/* clang-format off */
/* Fixed software keys for the sizes too slow to generate under valgrind. */
static const char rsa3072_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIG/AIBADANBgkqhkiG9w0BAQEFAASCBuYwggbiAgEAAoIBgQDANih8TgzEE4vB\n"
    "KmlV+6hNbOUQ0Mli/LYO0usKJ10tyWeMj5vz/1qSHQE6wxGLHtLV+TiNMRyUF/zn\n"
    "r72HB0sZim0++2aYTYY/GuHnn8ktxVn+Pd0WzdX/wgOYuGgRhEyCls5qZidsIY7O\n"
    "yMG458YI1CH4SJyRJ2qnW/YoYyJYIWHFF6wIvleO/GVTHkMlfga+IogqzFu1o2in\n"
    "ld4WjA8u7Pcqs++c4eNOPLp+kTaG3W+cMF1Yf42rV7iqUISHDHqxlB4Re7gUz8HB\n"
    "kQ1yrh1AJ2mF31E8JlhQMnZgRO/C/ZZkfWL4GoCd9tKXRiWIz1LURHwxplszNios\n"
    "Z7gHpm+3EyE1DsV7vPNgC8b+OgI+99U45BJgWtVDcj+SfvPXKyE3gO9Hv75VP7hx\n"
    "MtytjvnW9hd+6cN7DjiXA6TGXBJ5Dllm4+1zK6O3gOci/3q46P/a9za3sdYgikdr\n"
    "HxBiuAqZBT3Koe6ZccwyAR2/TK/BFxQXYc0FQ0O6k0KVWvGLTI8CAwEAAQKCAYAt\n"
    "Gggx8taIA9YdQ2hoJp79W/n8EiHPOmE15UQFo+r3XXUQxHnhrR+BfZDWSwOI03jB\n"
    "gLNGXinIjkBn1RLx5kI3AgZUawVN45MGp7YudY3tUYumXrnMKgx28P2LDmpNAfA6\n"
    "DEzvJn1FoDI0T2M1kh0j4TL/YXprjQY3sxp1q51ZdKvOZZmWi6NcB9l2wXkcCRBn\n"
    "+Q5ejIlQe8GI4V+1hrPhXPU6bfJhq5d8uj9Ah651wuv3iFm+9F83v2OzgyU10zVm\n"
    "qL9/iPv8tdUfJn3Fkr8OR+sXBy5Xk+LsVXW6lVp2h9Uver9Xx6r1da70/3fPnRgb\n"
    "DyABRpufu1ySBpKTvuljWeSFc63c8xrlXpTM4z2pHU5yYZSDSku7EiTgZJKPOhz1\n"
    "zB1g1tn4MuLK9/6esphZXI9SqnDvYiih4kaD1Wxz/9JTYfw9urda8rlM0ijBXTDw\n"
    "jBLrHuJLSW2rBLuzMeW4eOjkiqTCWDLykoJ0GeOujyMXdyCZFFPJS7EEaupt6aEC\n"
    "gcEA7ptW6YaZRZsR023ropNGz9wsNk604N8kGacIFHPUdG9oV7ejTeKAoSG0jli9\n"
    "xWdbyKymSKaIGAdoEVUw/Vc5u/blzABnr3SHYBdajcTth/145MgC2NuDlThVuSlS\n"
    "qO/0L9hks0p+TLvyhJ9MTCNEtqrou9rR70iUDmZWri8RAW24ZtLeaoX18QxpWx16\n"
    "FwIgHrg7O9S+iYRAqAemLaGE7cfRFYIOOSUAI0OY5pxCEkx1lS8F6B/l8Fg9/0Dr\n"
    "ziaHAoHBAM45CIqZvENn7hMIpdLklzqbdLrmuGk5gvvXJB2enXTOPi0AofUlvgvN\n"
    "4rFsPkK1YQS/ThALGK+GlWbUyjCKMIQpYqzfkOTwGDkySBc6VzKVa2qEKDgcN9rP\n"
    "NMCSm+PfrhSGfrYU2YCo4TpWvft0DAZoq4dVEWlcXaY7Np7AoMHE8pWnH1pNXT3p\n"
    "6o+XVJNJWn7vL02fAguxApfE1T/y2UPItJDXaAi4UPSlh6qSIl0S1yHXSLEdsSHF\n"
    "HhaE2YsjuQKBwDo0lKAE4JDVQiT0dH3FNYnxKKvayU7twA2t7E+o7dO1dZuoRWLz\n"
    "dPNZmIT86tYj34T1cN7aGOrbq6xGvtueEoxiry3zj1eCsp9jMwjQWC1LTNlqXR9v\n"
    "dQrKoka36N0jI8skG3SNIIAxfPiTL3aHR/TTflCNEZcwekWE+3IkMx7JGCmlGPKd\n"
    "WSCDKZQ7fZPtRc6YnIJ85DoBlBApRYVuGFI04zE+959DAmSX0c23onp6QlixDtzQ\n"
    "IzRdIkqJGLzCMwKBwCCybEdFftMVLGs6KMiaU9wH/+cOY9jTNJBnmSNVHdQCS1tp\n"
    "SUSMOmi2uSW2aty602okRuVGTSCvbwrB3Fj74BtkUG/mdpvF8aFH9qQwLNkpVcGq\n"
    "uJHE75oy1kNeO3dS5M/+TyLhhWbf3+4XCMJQsQNnHyMy+rLA4VxU8SEUm6h9aJUP\n"
    "zWnM8Ga7quQfc1py+/U6ST6+Yl2mMCoOHF2qTIZx0SdR7/3J85QGls8VonstXIzS\n"
    "DIWAlrArB808PR3RiQKBwHjxYIu01N77hrKSaLvyiSKQxkCHN47VYgNk57KP7OV8\n"
    "QeEI7FtzbRUnI3kE6nR0jPpH/HkzNR4UNlvXaa4fb/cgBcLH7vFtW/bfPR/ebFhR\n"
    "XjmnyZKWSQpXouNiEkD8wHGU0xK8dT0lYt8sfu5wnDypUy7XlzzHOfROBMnoWAbl\n"
    "CQRWzz06g4ZA6hZnPPZi+SzGubu/ZjvDhq0ln0PlTEIgze7jyg+Ra97NYPKySV3Y\n"
    "m3VrV20eASJHU6uQVVIvGA==\n"
    "-----END PRIVATE KEY-----\n";
static const char rsa4096_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIJQgIBADANBgkqhkiG9w0BAQEFAASCCSwwggkoAgEAAoICAQCxqzJsepUCE4Wd\n"
    "ol7nlOQLCv6sglfkY5ncHA+fGDxZ26pxTllVkfVSCLvImRSjYXIlC0gJ58Bh5c+L\n"
    "qRSWF+T6bPKnIne0YzoOcMyQkXqIjED/sX2/0NigQ6vPEmZJcK4G+f27xBoJFA0J\n"
    "HPIs04i2WrvZv5/D/83p4ksoFo9WCJ11RgtHQ/mdLr6/p3CN+YwZ7ZmCoBxAVJqe\n"
    "hJAUFZP2buIm6ZFIshmfGSmS540m9sgBGZ3DsDvelt0Hp4Hsblbul9RDTbFv+AJ5\n"
    "GTYHOnAoUOaqzZwXm9CY0knsw0lUm79PHzzA6lTdKdR2gps9Fdv4XdVwIPdQ62ut\n"
    "liwyrUcBrULJXVtimraVQEWmbCszPMaqTqYPvXJuIqtzY75aHNSgVFsiIGeZMsVO\n"
    "S4HhWZ1E1sYUWjY3C6urLaCy93FmSOBBGvW30eNfzB2Ws3Spbj48H7iUsK6Io6pL\n"
    "8b3SgVGXM8apJiYu9Lw7BGDtnP+M38Tn4wTntOy7WRQNFBHMBlixtSJq742thnEh\n"
    "8mcPx0XBSflIo1byBgwcGLKBLwqE+tge2WAaCXSHhGF47SGdYm7mwrvykmjrmnwG\n"
    "puC10rH8Mr0eJsJhhBXHibGAx4d+sHU5MrpnaaWVKGl4SwkkEUgpYDYxQyVeUQmm\n"
    "Fk0UaHRW3+feccaeQreQB05LWD50SwIDAQABAoICAAVqjvSp2GdCGbJgbYM8a0B/\n"
    "VJwFGmsIf3uR0W1L5SWAiFXAigGm6Iy+xNBZnLyN7z38D48M8egqHaWIAVKOc1Kp\n"
    "32XcxTuj3Y4fvmS9ddGG13TUDN2ia/aXllVcN4kPadOMBUIXOT7DzgS6mkY0Kd7h\n"
    "RwiQcNO3tY4zpPXmZioJxJiuiqmtnVG/R8P6j0UmV+QmDz/hSkTKleIb1kAxsWgm\n"
    "uwQG3jQSPEZSecCt1Wqo+EtSsOTZaqHSnvXDE53JD7zIHSNZUX3BckkNzZm/z55/\n"
    "0a0tH0NeL46qtOOf+nLQj3vFtVAhdKlykBsPlTrx/40DrORbsbgIs6iMw1eSJ7ym\n"
    "cPTbNU7hXiuY1hObcbRS9G4Kq80AcftsnFPdQJCApp5oh8zOyHnWNTwAcrfiEVug\n"
    "JgEh65VcapRpJ9nJJbd2JOWABzHJXfuDyEPWHLPrhRgsjXN3aeVrYmOt0BSSaykQ\n"
    "92ykeBu8s8IgVMinJ4fEGuqvGoWa8VUc9tk7TA2hIaL9SGyFwZX2RBzxNPpyfrPs\n"
    "2VkMozpV9GR2X2D+4z2k7sUfY/Jpn6FM8inhwIrK8IB5zad3pdtrsXINb1dNJVM0\n"
    "etUZNeCGDzQCBtTFyhPWkiLtyPPxfiWsUFUMM6ZYrYkEgLGzYhWa9BKAJNcYAwUv\n"
    "xD2vi9FtSrzCYE8AsMCpAoIBAQDbOAapGNdVGagOwhx6jsi/vX8GG2BTLUHUA2Wv\n"
    "XlPRSn6fnLoadKns8DfIhY9mQNLF4hYUH26t2bgbrM1zC9TbDCGj5jkSkNOq/6XY\n"
    "oJlS5K62LTZ7WvaFtGysz2DXaXdy8pBlsjgYgzeC0F2htm8Z6QF8fzLmAORE9Caf\n"
    "BlFMLfReFntzxmYb+Tpc6QMNp9SBUuX+kOv/0i5RvKvqCFIEq+Gl+trOr+t4SDLZ\n"
    "39QL9gvQuu2mh5KXJxo7ZOveKZELxVRmNWlwBWxnX1XXD+0uO7Psk7XqSa+1uebA\n"
    "TiTyf+h0bG8gGeMXpbwiLgtKcH2cWmB0oHpqq+PGXse7XAjDAoIBAQDPen6D9TDP\n"
    "4GGNMo1gCS4+qnPVQO84YG5jHOcTGe2QKmue23mk1n/CZUoP+3huZAGgidPR1JqF\n"
    "HR9f4FM56W4iCts3rE3lAsKkboxCYbYnSkRHpkyojMDCsGb9NPigwPfStFgDOu5J\n"
    "ZNhJpT7Q9wSTvCZPtq2clc2v0B/KpAHir/vrHgBzeWjGhf+Uu9eQwt0RXqfjsMT4\n"
    "/8q/65/1AnA9K5qng9HLK5AEvE79ypcI1ghhlGdAaFDbcqHPQ0ObmqiNvWZkIV6/\n"
    "d02wXayfJX6kHpl9rJcfHksnQ+BaZf+uNKFgOPP78KoNcWmPiw+erFH34r8Ez5n1\n"
    "AjJ5DMHSgG3ZAoIBAD6r1buiDm2V2CXf+KRRDbNDSX1FdlRRK/CgyAFKxkufMHQR\n"
    "KmNF1w6V3lzFUim5foh0CjvWgJ3TEH9Y96NcTo4Q+c0RlF9qaBkK3S8BOtQn7IrI\n"
    "gjrh1niDDE6bOuRaknuaPQ3V1ZOsb8JGL3572Wde5b3h33tB5gCQjDoKZFOTD7mW\n"
    "U9TVc3ur1LObKfRNdsNCH96XL+EDBZr4hW1y03/iY7A/9y3/vSG2AlOnWcfRn68c\n"
    "wbRKLe5oj2dLguMQnxbuYyKVQn90DXnAF5pUQ0pkZxvLXsaMKl+Ztg5kSMvLJXmj\n"
    "RmG3BOVNzGs5HqE5Z6+7Zrfw6Q519bhQgGlf9mECggEATE5Jz3BS1nE4j3yDIEng\n"
    "Fy4LUegC0yIsFwmfNpg3lej0EcW4VFaLQEyOU5hx72+aZZerLqXZepF+Y32WPltK\n"
    "pPyHKU+Wil5chaserJ9RJdwbhppz4R17G19TUVa1BjJSMs0e/XkkABw1q8g5dRMU\n"
    "PN1a3cBa05cIwdtyhc2R3/RHW256Tf3d+f14RRRcsKHqOiQs7QGrP8SbpcAb4TlX\n"
    "XDf4Nhm2A9nuqr8y8gYbTCWjiXfSDY8QBdWAC0E60TStPwvkZ3kaZqKTEQUyoolg\n"
    "rS2P1/es0MYMb9F35udShJhYrZHksckOUclfQGqtgPbxYpCjHjrX7ZM0Su7VLf0L\n"
    "6QKCAQEAjgakzscdSu6cHmiBSA2lbOjUPp709G1vfkQbx/I/tCpUe9iwVjqF205x\n"
    "BF35Lf0xpQ3qPWpB9XtWAcIrSOv8fHjJ4ZVEO06vx7uW//FnnNQahXNsDwqUVHHl\n"
    "JQNvRUmK9Um/FDP6ILrZjIvISybAz9YdxtJkY49bzaAeItinykP0mdTopPK23kih\n"
    "ScfB4wMhRBHqb2c0qAqB0MBD/fm/sO2KPt+hYJi6CpVoxLxYBmEuj+t/21BqRobd\n"
    "RclwuD95uABUMM8kKzvsqCIeYR1h4zOCTmdCspMi8mTt1cTjRNoKwrVSatTSVUsQ\n"
    "ISi0UXcb2JYmH5NSxtN2L2KCyth8FQ==\n"
    "-----END PRIVATE KEY-----\n";

/* piv-apdu.md §4.7.1: default management key, witness/challenge examples. */
static const uint8_t default_mgm[24] = {
	1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
};
static const uint8_t des_w[8] = {
	0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8,
};
static const uint8_t des_ew[8] = {
	0x19, 0x9F, 0xA3, 0x74, 0x70, 0x5A, 0x69, 0xEB,
};
static const uint8_t des_c[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t des_ec[8] = {
	0x77, 0xA7, 0xD6, 0xBC, 0xF5, 0x79, 0x62, 0xB9,
};
static const uint8_t aes_ew[16] = {
	0xCE, 0x3F, 0x05, 0x39, 0x7D, 0xF2, 0x47, 0x8F,
	0xB5, 0xC4, 0x0D, 0xE1, 0xE9, 0xB1, 0x7C, 0xBD,
};
static const uint8_t aes_ec[16] = {
	0x3F, 0x92, 0xE2, 0xFC, 0xE7, 0x3F, 0x9D, 0x83,
	0x18, 0x7C, 0x14, 0x0D, 0x03, 0x5F, 0x7E, 0xDC,
};
/* DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1). */
static const uint8_t di_sha256[19] = {
	0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
	0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};
/* clang-format on */

static int
group_setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(gen_algs); i++)
		if (sim_key_generate(gen_algs[i], &gen_keys[i]) != CS_OK)
			return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(gen_algs); i++) {
		sim_key_free(gen_keys[i]);
		gen_keys[i] = NULL;
	}
	return 0;
}

static struct sim_key *
key_for(uint8_t alg)
{
	size_t i;

	for (i = 0; i < sizeof(gen_algs); i++)
		if (gen_algs[i] == alg)
			return gen_keys[i];
	fail_msg("no key for alg %02x", alg);
	return NULL;
}

/* --- OpenSSL-side helpers --- */

static EVP_PKEY *
pub_of(const struct sim_key *k)
{
	struct cs_buf b = CS_BUF_INIT(BUF_MAX);
	const unsigned char *p;
	EVP_PKEY *pk;

	assert_int_equal(sim_key_spki(k, &b), CS_OK);
	p = b.data;
	pk = d2i_PUBKEY(NULL, &p, (long)b.len);
	assert_non_null(pk);
	assert_true(p == b.data + b.len);
	cs_buf_release(&b);
	return pk;
}

static void
spki_of_pkey(EVP_PKEY *pk, struct cs_buf *out)
{
	unsigned char *der = NULL;
	int len;

	len = i2d_PUBKEY(pk, &der);
	assert_true(len > 0);
	assert_int_equal(cs_buf_put(out, der, (size_t)len), CS_OK);
	OPENSSL_free(der);
}

static void
assert_same_spki(const struct sim_key *k, EVP_PKEY *pk)
{
	struct cs_buf a = CS_BUF_INIT(BUF_MAX), b = CS_BUF_INIT(BUF_MAX);

	assert_int_equal(sim_key_spki(k, &a), CS_OK);
	spki_of_pkey(pk, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	cs_buf_release(&a);
	cs_buf_release(&b);
}

/* The SPKI bytes inside a certificate equal the key's, byte for byte. */
static void
assert_same_spki_der(const struct sim_key *k, const X509_PUBKEY *xpk)
{
	struct cs_buf a = CS_BUF_INIT(BUF_MAX);
	unsigned char *der = NULL;
	int len;

	assert_int_equal(sim_key_spki(k, &a), CS_OK);
	len = i2d_X509_PUBKEY(xpk, &der);
	assert_int_equal((size_t)len, a.len);
	assert_memory_equal(der, a.data, a.len);
	OPENSSL_free(der);
	cs_buf_release(&a);
}

static void
sha(const EVP_MD *md, const char *msg, uint8_t *out, size_t *outlen)
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(msg, strlen(msg), out, &n, md, NULL), 1);
	*outlen = n;
}

static EVP_PKEY *
pkey_from_pem(const char *pem)
{
	BIO *bio;
	EVP_PKEY *pk;

	bio = BIO_new_mem_buf(pem, -1);
	assert_non_null(bio);
	pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	assert_non_null(pk);
	BIO_free(bio);
	return pk;
}

/* --- algorithm predicates, random --- */

static void
test_simcrypto_alg_predicates(void **state)
{
	size_t block = 0, keylen = 0;
	struct sim_key *k = NULL;

	(void)state;
	assert_true(sim_alg_is_asym(SIM_ALG_RSA4096));
	assert_true(sim_alg_is_asym(SIM_ALG_X25519));
	assert_false(sim_alg_is_asym(SIM_ALG_3DES));
	assert_false(sim_alg_is_asym(0x00));
	assert_true(sim_alg_mgm(SIM_ALG_3DES, &block, &keylen));
	assert_int_equal(block, 8);
	assert_int_equal(keylen, 24);
	assert_true(sim_alg_mgm(SIM_ALG_AES128, &block, &keylen));
	assert_int_equal(block, 16);
	assert_int_equal(keylen, 16);
	assert_true(sim_alg_mgm(SIM_ALG_AES256, &block, &keylen));
	assert_int_equal(keylen, 32);
	assert_false(sim_alg_mgm(SIM_ALG_P256, &block, &keylen));
	assert_int_equal(sim_key_generate(SIM_ALG_AES128, &k), CS_ERR_ARG);
	assert_null(k);
}

static void
test_simcrypto_random_differs(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(sim_random(a, sizeof(a)), CS_OK);
	assert_int_equal(sim_random(b, sizeof(b)), CS_OK);
	assert_false(cs_memeq_public(a, b, sizeof(a)));
	assert_int_equal(sim_random(a, 0), CS_OK);
}

/* --- management key --- */

static void
test_simcrypto_3des_worked_example(void **state)
{
	uint8_t out[8];

	(void)state;
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_3DES, default_mgm, 24, true, des_w, out),
	    CS_OK);
	assert_memory_equal(out, des_ew, 8);
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_3DES, default_mgm, 24, true, des_c, out),
	    CS_OK);
	assert_memory_equal(out, des_ec, 8);
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_3DES, default_mgm, 24, false, des_ew, out),
	    CS_OK);
	assert_memory_equal(out, des_w, 8);
}

static void
test_simcrypto_aes192_worked_example(void **state)
{
	uint8_t w[16], c[16], out[16];
	size_t i;

	(void)state;
	for (i = 0; i < 16; i++) {
		w[i] = (uint8_t)(0xA1 + i);
		c[i] = (uint8_t)i;
	}
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_AES192, default_mgm, 24, true, w, out),
	    CS_OK);
	assert_memory_equal(out, aes_ew, 16);
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_AES192, default_mgm, 24, true, c, out),
	    CS_OK);
	assert_memory_equal(out, aes_ec, 16);
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_AES192, default_mgm, 24, false, aes_ec, out),
	    CS_OK);
	assert_memory_equal(out, c, 16);
}

static void
test_simcrypto_mgm_rejects_bad_key(void **state)
{
	uint8_t out[16], key[32] = { 0 };

	(void)state;
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_3DES, default_mgm, 16, true, des_w, out),
	    CS_ERR_ARG);
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_AES128, default_mgm, 24, true, des_w, out),
	    CS_ERR_ARG);
	assert_int_equal(sim_mgm_crypt(SIM_ALG_P256, key, 32, true, des_w, out),
	    CS_ERR_ARG);
	/* AES-128 and AES-256 round trip. */
	assert_int_equal(sim_mgm_crypt(SIM_ALG_AES128, key, 16, true, key, out),
	    CS_OK);
	assert_int_equal(
	    sim_mgm_crypt(SIM_ALG_AES128, key, 16, false, out, out), CS_OK);
	assert_memory_equal(out, key, 16);
	assert_int_equal(sim_mgm_crypt(SIM_ALG_AES256, key, 32, true, key, out),
	    CS_OK);
	assert_false(cs_memeq_public(out, key, 16));
}

/* --- public key TLVs --- */

static void
check_tlvs(const struct sim_key *k, uint32_t tag, size_t len)
{
	struct cs_buf b = CS_BUF_INIT(BUF_MAX);
	struct cs_cur c, v;
	uint32_t t;
	static const uint8_t e65537[3] = { 0x01, 0x00, 0x01 };
	uint8_t first;

	assert_int_equal(sim_key_public_tlvs(k, &b), CS_OK);
	cs_buf_cur(&b, &c);
	assert_int_equal(cs_tlv_get(&c, &t, &v), CS_OK);
	assert_int_equal(t, tag);
	assert_int_equal(cs_cur_len(&v), len);
	if (tag == 0x81) {
		assert_int_equal(cs_cur_peek_u8(&v, &first), CS_OK);
		assert_true(first & 0x80); /* full-length modulus */
		assert_int_equal(cs_tlv_get(&c, &t, &v), CS_OK);
		assert_int_equal(t, 0x82);
		assert_true(cs_cur_eq(&v, e65537, sizeof(e65537)));
	} else if (len == 65 || len == 97) {
		assert_int_equal(cs_cur_peek_u8(&v, &first), CS_OK);
		assert_int_equal(first, 0x04);
	}
	assert_true(cs_cur_is_empty(&c));
	cs_buf_release(&b);
}

static void
check_public_tlvs(uint8_t alg, uint32_t tag, size_t len)
{
	check_tlvs(key_for(alg), tag, len);
}

/* RSA: 81 modulus of exactly len bytes, 82 01 00 01. */
static void
check_public_tlvs_key(const struct sim_key *k, size_t len)
{
	check_tlvs(k, 0x81, len);
}

static void
test_simcrypto_public_tlvs(void **state)
{
	(void)state;
	check_public_tlvs(SIM_ALG_RSA1024, 0x81, 128);
	check_public_tlvs(SIM_ALG_RSA2048, 0x81, 256);
	check_public_tlvs(SIM_ALG_P256, 0x86, 65);
	check_public_tlvs(SIM_ALG_P384, 0x86, 97);
	check_public_tlvs(SIM_ALG_ED25519, 0x86, 32);
	check_public_tlvs(SIM_ALG_X25519, 0x86, 32);
	assert_int_equal(sim_key_alg(key_for(SIM_ALG_P384)), SIM_ALG_P384);
}

static void
test_simcrypto_public_tlvs_append(void **state)
{
	struct cs_buf b = CS_BUF_INIT(BUF_MAX);

	(void)state;
	assert_int_equal(cs_buf_put_u8(&b, 0xEE), CS_OK);
	assert_int_equal(sim_key_public_tlvs(key_for(SIM_ALG_P256), &b), CS_OK);
	assert_int_equal(b.len, 1 + 2 + 65);
	assert_int_equal(b.data[0], 0xEE);
	assert_int_equal(b.data[1], 0x86);
	cs_buf_release(&b);
	/* A too-small buffer fails cleanly. */
	cs_buf_init(&b, 10, false);
	assert_int_equal(sim_key_public_tlvs(key_for(SIM_ALG_P256), &b),
	    CS_ERR_LIMIT);
	cs_buf_release(&b);
}

/* --- RSA --- */

/* EMSA-PKCS1-v1_5 block for SHA-256(msg), signed raw, verified by OpenSSL. */
static void
rsa_sign_verify(const struct sim_key *k, size_t modlen)
{
	uint8_t dg[EVP_MAX_MD_SIZE], block[512];
	size_t dglen, pslen;
	struct cs_buf sig = CS_BUF_INIT(BUF_MAX);
	EVP_PKEY *pub = pub_of(k);
	EVP_PKEY_CTX *v;

	sha(EVP_sha256(), "cardsmith", dg, &dglen);
	pslen = modlen - 3 - sizeof(di_sha256) - dglen;
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xFF, pslen);
	block[2 + pslen] = 0x00;
	memcpy(block + 3 + pslen, di_sha256, sizeof(di_sha256));
	memcpy(block + 3 + pslen + sizeof(di_sha256), dg, dglen);
	assert_int_equal(sim_key_private_op(k, block, modlen, &sig), CS_OK);
	assert_int_equal(sig.len, modlen);
	v = EVP_PKEY_CTX_new(pub, NULL);
	assert_non_null(v);
	assert_int_equal(EVP_PKEY_verify_init(v), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(v, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_verify(v, sig.data, sig.len, dg, dglen), 1);
	/* A flipped bit no longer verifies. */
	sig.data[modlen / 2] ^= 1;
	assert_int_not_equal(EVP_PKEY_verify(v, sig.data, sig.len, dg, dglen),
	    1);
	EVP_PKEY_CTX_free(v);
	EVP_PKEY_free(pub);
	cs_buf_release(&sig);
	ERR_clear_error();
}

static void
test_simcrypto_rsa1024_sign(void **state)
{
	(void)state;
	rsa_sign_verify(key_for(SIM_ALG_RSA1024), 128);
}

static void
test_simcrypto_rsa2048_sign(void **state)
{
	(void)state;
	rsa_sign_verify(key_for(SIM_ALG_RSA2048), 256);
}

/* Raw decrypt: the public raw operation of m comes back as m. */
static void
test_simcrypto_rsa_raw_decrypt(void **state)
{
	const struct sim_key *k = key_for(SIM_ALG_RSA2048);
	uint8_t m[256], c[256];
	size_t clen = sizeof(c);
	struct cs_buf out = CS_BUF_INIT(BUF_MAX);
	EVP_PKEY *pub = pub_of(k);
	EVP_PKEY_CTX *e;

	(void)state;
	assert_int_equal(sim_random(m, sizeof(m)), CS_OK);
	m[0] = 0x00;
	e = EVP_PKEY_CTX_new(pub, NULL);
	assert_non_null(e);
	assert_int_equal(EVP_PKEY_encrypt_init(e), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(e, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(e, c, &clen, m, sizeof(m)), 1);
	assert_int_equal(clen, sizeof(c));
	assert_int_equal(sim_key_private_op(k, c, clen, &out), CS_OK);
	assert_int_equal(out.len, sizeof(m));
	assert_memory_equal(out.data, m, sizeof(m));
	EVP_PKEY_CTX_free(e);
	EVP_PKEY_free(pub);
	cs_buf_release(&out);
}

static void
test_simcrypto_rsa_rejects_input_ge_n(void **state)
{
	const struct sim_key *k = key_for(SIM_ALG_RSA1024);
	struct cs_buf pubt = CS_BUF_INIT(BUF_MAX), out = CS_BUF_INIT(BUF_MAX);
	struct cs_cur c, n;
	uint32_t tag;
	uint8_t in[129];
	size_t i;

	(void)state;
	assert_int_equal(sim_key_public_tlvs(k, &pubt), CS_OK);
	cs_buf_cur(&pubt, &c);
	assert_int_equal(cs_tlv_get(&c, &tag, &n), CS_OK);
	assert_int_equal(cs_cur_copy(&n, in, 128), CS_OK);
	/* in == n */
	assert_int_equal(sim_key_private_op(k, in, 128, &out),
	    CS_ERR_MALFORMED);
	memset(in, 0xFF, sizeof(in));
	assert_int_equal(sim_key_private_op(k, in, 128, &out),
	    CS_ERR_MALFORMED);
	/* Wrong lengths. */
	assert_int_equal(sim_key_private_op(k, in + 1, 127, &out),
	    CS_ERR_MALFORMED);
	assert_int_equal(sim_key_private_op(k, in, 129, &out),
	    CS_ERR_MALFORMED);
	assert_int_equal(out.len, 0);
	/* n - 1 is fine (last byte of an odd modulus is odd). */
	cs_buf_cur(&pubt, &c);
	assert_int_equal(cs_tlv_get(&c, &tag, &n), CS_OK);
	assert_int_equal(cs_cur_copy(&n, in, 128), CS_OK);
	for (i = 127; in[i] == 0; i--)
		in[i] = 0xFF;
	in[i]--;
	assert_int_equal(sim_key_private_op(k, in, 128, &out), CS_OK);
	assert_int_equal(out.len, 128);
	/* RSA keys cannot do ECDH. */
	assert_int_equal(sim_key_ecdh(k, in, 65, &out), CS_ERR_UNSUPPORTED);
	cs_buf_release(&pubt);
	cs_buf_release(&out);
}

/* --- ECDSA, Ed25519 --- */

static void
ecdsa_sign_verify(const struct sim_key *k, const EVP_MD *md)
{
	uint8_t dg[EVP_MAX_MD_SIZE];
	size_t dglen;
	struct cs_buf sig = CS_BUF_INIT(BUF_MAX);
	EVP_PKEY *pub = pub_of(k);
	EVP_PKEY_CTX *v;

	sha(md, "cardsmith ecdsa", dg, &dglen);
	assert_int_equal(sim_key_private_op(k, dg, dglen, &sig), CS_OK);
	assert_int_equal(sig.data[0], 0x30); /* DER SEQUENCE { r, s } */
	v = EVP_PKEY_CTX_new(pub, NULL);
	assert_non_null(v);
	assert_int_equal(EVP_PKEY_verify_init(v), 1);
	assert_int_equal(EVP_PKEY_verify(v, sig.data, sig.len, dg, dglen), 1);
	dg[0] ^= 1;
	assert_int_not_equal(EVP_PKEY_verify(v, sig.data, sig.len, dg, dglen),
	    1);
	EVP_PKEY_CTX_free(v);
	EVP_PKEY_free(pub);
	cs_buf_release(&sig);
	ERR_clear_error();
}

static void
test_simcrypto_ecdsa_p256_sign(void **state)
{
	(void)state;
	ecdsa_sign_verify(key_for(SIM_ALG_P256), EVP_sha256());
	/* Shorter than the field: taken as an integer (SHA-1 size). */
	ecdsa_sign_verify(key_for(SIM_ALG_P256), EVP_sha1());
}

static void
test_simcrypto_ecdsa_p384_sign(void **state)
{
	(void)state;
	ecdsa_sign_verify(key_for(SIM_ALG_P384), EVP_sha384());
	ecdsa_sign_verify(key_for(SIM_ALG_P384), EVP_sha256());
}

static void
test_simcrypto_ecdsa_rejects_long_input(void **state)
{
	uint8_t in[49] = { 1 };
	struct cs_buf out = CS_BUF_INIT(BUF_MAX);

	(void)state;
	assert_int_equal(
	    sim_key_private_op(key_for(SIM_ALG_P256), in, 33, &out),
	    CS_ERR_MALFORMED);
	assert_int_equal(
	    sim_key_private_op(key_for(SIM_ALG_P384), in, 49, &out),
	    CS_ERR_MALFORMED);
	assert_int_equal(sim_key_private_op(key_for(SIM_ALG_P256), in, 0, &out),
	    CS_ERR_MALFORMED);
	assert_int_equal(out.len, 0);
	cs_buf_release(&out);
}

static void
test_simcrypto_ed25519_sign(void **state)
{
	static const char msg[] = "the whole message, not a digest";
	const struct sim_key *k = key_for(SIM_ALG_ED25519);
	struct cs_buf sig = CS_BUF_INIT(BUF_MAX);
	EVP_PKEY *pub = pub_of(k);
	EVP_MD_CTX *m;

	(void)state;
	assert_int_equal(
	    sim_key_private_op(k, (const uint8_t *)msg, strlen(msg), &sig),
	    CS_OK);
	assert_int_equal(sig.len, 64);
	m = EVP_MD_CTX_new();
	assert_non_null(m);
	assert_int_equal(EVP_DigestVerifyInit(m, NULL, NULL, NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(m, sig.data, sig.len,
	                     (const uint8_t *)msg, strlen(msg)),
	    1);
	assert_int_equal(EVP_DigestVerifyInit(m, NULL, NULL, NULL, pub), 1);
	assert_int_not_equal(EVP_DigestVerify(m, sig.data, sig.len,
	                         (const uint8_t *)msg, strlen(msg) - 1),
	    1);
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(pub);
	cs_buf_release(&sig);
	ERR_clear_error();
}

static void
test_simcrypto_x25519_cannot_sign(void **state)
{
	uint8_t in[32] = { 0 };
	struct cs_buf out = CS_BUF_INIT(BUF_MAX);

	(void)state;
	assert_int_equal(
	    sim_key_private_op(key_for(SIM_ALG_X25519), in, 32, &out),
	    CS_ERR_UNSUPPORTED);
	assert_int_equal(sim_key_ecdh(key_for(SIM_ALG_ED25519), in, 32, &out),
	    CS_ERR_UNSUPPORTED);
	cs_buf_release(&out);
}

/* --- ECDH --- */

static void
ecdh_check(uint8_t alg, const char *type, const char *group, size_t slen)
{
	const struct sim_key *k = key_for(alg);
	EVP_PKEY *peer, *simpub = pub_of(k);
	EVP_PKEY_CTX *d;
	uint8_t pt[128], want[64];
	size_t ptlen = sizeof(pt), wlen = sizeof(want);
	struct cs_buf got = CS_BUF_INIT_SECRET(BUF_MAX);

	peer = group != NULL ? EVP_PKEY_Q_keygen(NULL, NULL, type, group)
	                     : EVP_PKEY_Q_keygen(NULL, NULL, type);
	assert_non_null(peer);
	if (group != NULL)
		assert_int_equal(EVP_PKEY_get_octet_string_param(peer,
		                     OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
		                     sizeof(pt), &ptlen),
		    1);
	else
		assert_int_equal(EVP_PKEY_get_raw_public_key(peer, pt, &ptlen),
		    1);
	assert_int_equal(sim_key_ecdh(k, pt, ptlen, &got), CS_OK);
	assert_int_equal(got.len, slen);
	d = EVP_PKEY_CTX_new(peer, NULL);
	assert_non_null(d);
	assert_int_equal(EVP_PKEY_derive_init(d), 1);
	assert_int_equal(EVP_PKEY_derive_set_peer(d, simpub), 1);
	assert_int_equal(EVP_PKEY_derive(d, want, &wlen), 1);
	assert_int_equal(wlen, slen);
	assert_memory_equal(got.data, want, slen);
	/* Wrong length of the peer key. */
	cs_buf_reset(&got);
	assert_int_equal(sim_key_ecdh(k, pt, ptlen - 1, &got),
	    CS_ERR_MALFORMED);
	if (group != NULL) {
		/* Compressed form, and a point off the curve. */
		pt[0] = 0x02;
		assert_int_equal(sim_key_ecdh(k, pt, ptlen, &got),
		    CS_ERR_MALFORMED);
		pt[0] = 0x04;
		pt[ptlen - 1] ^= 1;
		assert_int_equal(sim_key_ecdh(k, pt, ptlen, &got),
		    CS_ERR_MALFORMED);
	} else {
		/* Low-order point: the all-zero secret is refused. */
		memset(pt, 0, 32);
		assert_int_equal(sim_key_ecdh(k, pt, 32, &got),
		    CS_ERR_MALFORMED);
	}
	assert_int_equal(got.len, 0);
	EVP_PKEY_CTX_free(d);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(simpub);
	cs_buf_release(&got);
	ERR_clear_error();
}

static void
test_simcrypto_ecdh_p256(void **state)
{
	(void)state;
	ecdh_check(SIM_ALG_P256, "EC", "P-256", 32);
}

static void
test_simcrypto_ecdh_p384(void **state)
{
	(void)state;
	ecdh_check(SIM_ALG_P384, "EC", "P-384", 48);
}

static void
test_simcrypto_ecdh_x25519(void **state)
{
	(void)state;
	ecdh_check(SIM_ALG_X25519, "X25519", NULL, 32);
}

/* --- IMPORT --- */

static void
put_bn(struct cs_buf *b, uint32_t tag, EVP_PKEY *pk, const char *param,
    size_t len)
{
	BIGNUM *bn = NULL;
	uint8_t v[512];

	assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, v, (int)len), (int)len);
	assert_int_equal(cs_tlv_put(b, tag, v, len), CS_OK);
	BN_clear_free(bn);
	cs_wipe(v, sizeof(v));
}

/* IMPORT body for a software key, as yubico-piv-tool/ykman build it. */
static void
import_body(uint8_t alg, EVP_PKEY *pk, struct cs_buf *b)
{
	uint8_t raw[32];
	size_t rawlen = sizeof(raw), half;

	switch (alg) {
	case SIM_ALG_RSA1024:
	case SIM_ALG_RSA2048:
	case SIM_ALG_RSA3072:
	case SIM_ALG_RSA4096:
		half = (size_t)EVP_PKEY_get_bits(pk) / 16;
		put_bn(b, 0x01, pk, OSSL_PKEY_PARAM_RSA_FACTOR1, half);
		put_bn(b, 0x02, pk, OSSL_PKEY_PARAM_RSA_FACTOR2, half);
		put_bn(b, 0x03, pk, OSSL_PKEY_PARAM_RSA_EXPONENT1, half);
		put_bn(b, 0x04, pk, OSSL_PKEY_PARAM_RSA_EXPONENT2, half);
		put_bn(b, 0x05, pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, half);
		break;
	case SIM_ALG_P256:
	case SIM_ALG_P384:
		put_bn(b, 0x06, pk, OSSL_PKEY_PARAM_PRIV_KEY,
		    alg == SIM_ALG_P256 ? 32 : 48);
		break;
	default:
		assert_int_equal(EVP_PKEY_get_raw_private_key(pk, raw, &rawlen),
		    1);
		assert_int_equal(cs_tlv_put(b,
		                     alg == SIM_ALG_ED25519 ? 0x07 : 0x08, raw,
		                     rawlen),
		    CS_OK);
		break;
	}
	/* Policy tags travel in the same body and are ignored here. */
	assert_int_equal(cs_tlv_put_u8(b, 0xAA, 0x02), CS_OK);
	assert_int_equal(cs_tlv_put_u8(b, 0xAB, 0x01), CS_OK);
	cs_wipe(raw, sizeof(raw));
}

static struct sim_key *
import_check(uint8_t alg, EVP_PKEY *pk)
{
	struct cs_buf body = CS_BUF_INIT_SECRET(BUF_MAX);
	struct cs_cur c;
	struct sim_key *k = NULL;

	import_body(alg, pk, &body);
	cs_buf_cur(&body, &c);
	assert_int_equal(sim_key_import(alg, &c, &k), CS_OK);
	assert_non_null(k);
	assert_int_equal(sim_key_alg(k), alg);
	assert_same_spki(k, pk);
	cs_buf_release(&body);
	return k;
}

static void
test_simcrypto_import_rsa1024(void **state)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct sim_key *k;

	(void)state;
	assert_non_null(pk);
	k = import_check(SIM_ALG_RSA1024, pk);
	rsa_sign_verify(k, 128);
	sim_key_free(k);
	EVP_PKEY_free(pk);
}

static void
test_simcrypto_import_rsa3072_4096(void **state)
{
	EVP_PKEY *pk;
	struct sim_key *k;

	(void)state;
	pk = pkey_from_pem(rsa3072_pem);
	k = import_check(SIM_ALG_RSA3072, pk);
	rsa_sign_verify(k, 384);
	check_public_tlvs_key(k, 384);
	sim_key_free(k);
	EVP_PKEY_free(pk);
	pk = pkey_from_pem(rsa4096_pem);
	k = import_check(SIM_ALG_RSA4096, pk);
	rsa_sign_verify(k, 512);
	check_public_tlvs_key(k, 512);
	sim_key_free(k);
	EVP_PKEY_free(pk);
}

static void
test_simcrypto_import_ec_25519(void **state)
{
	static const struct {
		uint8_t alg;
		const char *type, *group;
	} v[] = {
		{ SIM_ALG_P256, "EC", "P-256" },
		{ SIM_ALG_P384, "EC", "P-384" },
		{ SIM_ALG_ED25519, "ED25519", NULL },
		{ SIM_ALG_X25519, "X25519", NULL },
	};
	EVP_PKEY *pk;
	struct sim_key *k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		pk = v[i].group != NULL
		    ? EVP_PKEY_Q_keygen(NULL, NULL, v[i].type, v[i].group)
		    : EVP_PKEY_Q_keygen(NULL, NULL, v[i].type);
		assert_non_null(pk);
		k = import_check(v[i].alg, pk);
		sim_key_free(k);
		EVP_PKEY_free(pk);
	}
}

static enum cs_err
import_bytes(uint8_t alg, const uint8_t *p, size_t n)
{
	struct cs_cur c;
	struct sim_key *k = NULL;
	enum cs_err r;

	cs_cur_init(&c, p, n);
	r = sim_key_import(alg, &c, &k);
	if (r == CS_OK)
		assert_non_null(k);
	else
		assert_null(k);
	sim_key_free(k);
	return r;
}

static void
test_simcrypto_import_rejects_malformed(void **state)
{
	uint8_t b[64];
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct cs_buf body = CS_BUF_INIT(BUF_MAX);

	(void)state;
	assert_non_null(pk);
	/* Valid P-256 body as a reference point. */
	put_bn(&body, 0x06, pk, OSSL_PKEY_PARAM_PRIV_KEY, 32);
	assert_int_equal(import_bytes(SIM_ALG_P256, body.data, body.len),
	    CS_OK);
	/* Wrong algorithm for the tag, truncated, trailing, duplicate. */
	assert_int_equal(import_bytes(SIM_ALG_P384, body.data, body.len),
	    CS_ERR_MALFORMED);
	assert_int_equal(import_bytes(SIM_ALG_ED25519, body.data, body.len),
	    CS_ERR_MALFORMED);
	assert_int_equal(import_bytes(SIM_ALG_P256, body.data, body.len - 1),
	    CS_ERR_MALFORMED);
	assert_int_equal(cs_buf_put_u8(&body, 0x06), CS_OK);
	assert_int_equal(import_bytes(SIM_ALG_P256, body.data, body.len),
	    CS_ERR_MALFORMED);
	cs_buf_truncate(&body, 34);
	memcpy(b, body.data, 34);
	assert_int_equal(cs_buf_put(&body, b, 34), CS_OK);
	assert_int_equal(import_bytes(SIM_ALG_P256, body.data, body.len),
	    CS_ERR_MALFORMED);
	/* Empty body, unknown tag, scalar 0, scalar = all FF (> order). */
	assert_int_equal(import_bytes(SIM_ALG_P256, NULL, 0), CS_ERR_MALFORMED);
	memset(b, 0, sizeof(b));
	b[0] = 0x09;
	b[1] = 0x01;
	assert_int_equal(import_bytes(SIM_ALG_P256, b, 3), CS_ERR_MALFORMED);
	b[0] = 0x06;
	b[1] = 0x20;
	assert_int_equal(import_bytes(SIM_ALG_P256, b, 34), CS_ERR_MALFORMED);
	memset(b + 2, 0xFF, 32);
	assert_int_equal(import_bytes(SIM_ALG_P256, b, 34), CS_ERR_MALFORMED);
	/* Scalar shorter than the field. */
	b[1] = 0x1F;
	assert_int_equal(import_bytes(SIM_ALG_P256, b, 33), CS_ERR_MALFORMED);
	/* Ed25519 key of 31 bytes; asym alg required. */
	b[0] = 0x07;
	assert_int_equal(import_bytes(SIM_ALG_ED25519, b, 33),
	    CS_ERR_MALFORMED);
	assert_int_equal(import_bytes(SIM_ALG_3DES, b, 33), CS_ERR_ARG);
	cs_buf_release(&body);
	EVP_PKEY_free(pk);
}

/* RSA CRT values must be consistent with n = pq and e = 65537. */
static void
test_simcrypto_import_rejects_bad_rsa(void **state)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct cs_buf body = CS_BUF_INIT_SECRET(BUF_MAX);
	size_t off;

	(void)state;
	assert_non_null(pk);
	import_body(SIM_ALG_RSA1024, pk, &body);
	assert_int_equal(import_bytes(SIM_ALG_RSA1024, body.data, body.len),
	    CS_OK);
	assert_int_equal(import_bytes(SIM_ALG_RSA2048, body.data, body.len),
	    CS_ERR_MALFORMED);
	/* Corrupt dP, dQ, qInv, p in turn (each TLV is 02 40 <64>). */
	for (off = 0; off < 5; off++) {
		size_t at = off * 66 + 2 + 63;

		if (off == 1)
			continue; /* changing q alone also changes n: below */
		body.data[at] ^= 0x02;
		assert_int_equal(
		    import_bytes(SIM_ALG_RSA1024, body.data, body.len),
		    CS_ERR_MALFORMED);
		body.data[at] ^= 0x02;
	}
	/* Missing qInv. */
	assert_int_equal(import_bytes(SIM_ALG_RSA1024, body.data, 4 * 66),
	    CS_ERR_MALFORMED);
	/* p == q. */
	memcpy(body.data + 66 + 2, body.data + 2, 64);
	assert_int_equal(import_bytes(SIM_ALG_RSA1024, body.data, body.len),
	    CS_ERR_MALFORMED);
	cs_buf_release(&body);
	EVP_PKEY_free(pk);
}

/* --- state file --- */

static void
test_simcrypto_der_roundtrip(void **state)
{
	struct cs_buf der = CS_BUF_INIT_SECRET(BUF_MAX);
	struct sim_key *k = NULL;
	EVP_PKEY *pub;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(gen_algs); i++) {
		cs_buf_reset(&der);
		assert_int_equal(sim_key_to_der(gen_keys[i], &der), CS_OK);
		assert_int_equal(der.data[0], 0x30);
		assert_int_equal(
		    sim_key_from_der(gen_algs[i], der.data, der.len, &k),
		    CS_OK);
		pub = pub_of(gen_keys[i]);
		assert_same_spki(k, pub);
		EVP_PKEY_free(pub);
		sim_key_free(k);
		k = NULL;
		/* Trailing byte and truncation. */
		assert_int_equal(cs_buf_put_u8(&der, 0), CS_OK);
		assert_int_equal(
		    sim_key_from_der(gen_algs[i], der.data, der.len, &k),
		    CS_ERR_MALFORMED);
		assert_int_equal(
		    sim_key_from_der(gen_algs[i], der.data, der.len - 2, &k),
		    CS_ERR_MALFORMED);
		assert_null(k);
	}
	/* A non-secret buffer is refused. */
	{
		struct cs_buf plain = CS_BUF_INIT(BUF_MAX);

		assert_int_equal(sim_key_to_der(key_for(SIM_ALG_P256), &plain),
		    CS_ERR_ARG);
		assert_int_equal(plain.len, 0);
		cs_buf_release(&plain);
	}
	/* The right kind of key, but not the algorithm asked for. */
	cs_buf_reset(&der);
	assert_int_equal(sim_key_to_der(key_for(SIM_ALG_P256), &der), CS_OK);
	assert_int_equal(sim_key_from_der(SIM_ALG_P384, der.data, der.len, &k),
	    CS_ERR_MALFORMED);
	assert_int_equal(
	    sim_key_from_der(SIM_ALG_ED25519, der.data, der.len, &k),
	    CS_ERR_MALFORMED);
	cs_buf_reset(&der);
	assert_int_equal(sim_key_to_der(key_for(SIM_ALG_RSA1024), &der), CS_OK);
	assert_int_equal(
	    sim_key_from_der(SIM_ALG_RSA2048, der.data, der.len, &k),
	    CS_ERR_MALFORMED);
	cs_buf_reset(&der);
	assert_int_equal(sim_key_to_der(key_for(SIM_ALG_X25519), &der), CS_OK);
	assert_int_equal(
	    sim_key_from_der(SIM_ALG_ED25519, der.data, der.len, &k),
	    CS_ERR_MALFORMED);
	assert_null(k);
	cs_buf_release(&der);
}

/* RSA-3072/4096 generation: seconds natively, minutes under valgrind. */
static void
test_simcrypto_generate_rsa_large(void **state)
{
	struct sim_key *k = NULL;

	(void)state;
	if (RUNNING_ON_VALGRIND)
		skip();
	assert_int_equal(sim_key_generate(SIM_ALG_RSA3072, &k), CS_OK);
	check_public_tlvs_key(k, 384);
	rsa_sign_verify(k, 384);
	sim_key_free(k);
	assert_int_equal(sim_key_generate(SIM_ALG_RSA4096, &k), CS_OK);
	check_public_tlvs_key(k, 512);
	rsa_sign_verify(k, 512);
	sim_key_free(k);
}

/* --- vendor CA and attestation --- */

struct vendor {
	char dir[64];
};

static const char *const vendor_files[] = { "root.pem", "root.key",
	"intermediate.pem", "intermediate.key" };

static int
vendor_setup(void **state)
{
	struct vendor *v;
	const char *tmp = getenv("TMPDIR");

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -1;
	snprintf(v->dir, sizeof(v->dir), "%s/cs-simcrypto-XXXXXX",
	    tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
	if (mkdtemp(v->dir) == NULL) {
		free(v);
		return -1;
	}
	*state = v;
	return 0;
}

static int
vendor_teardown(void **state)
{
	struct vendor *v = *state;
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(vendor_files) / sizeof(vendor_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", v->dir, vendor_files[i]);
		unlink(path);
	}
	rmdir(v->dir);
	free(v);
	return 0;
}

static X509 *
read_cert(const char *dir, const char *name)
{
	char path[128];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static X509 *
der_cert(const uint8_t *p, size_t n)
{
	X509 *x = d2i_X509(NULL, &p, (long)n);

	assert_non_null(x);
	return x;
}

static void
file_mode(const char *dir, const char *name, mode_t want)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, want);
}

static void
test_simcrypto_vendor_init_files(void **state)
{
	struct vendor *v = *state;
	char sub[96];
	X509 *root, *inter;
	EVP_PKEY *rpub;
	char cn[128];

	/* A fresh subdirectory is created 0700. */
	snprintf(sub, sizeof(sub), "%s/new", v->dir);
	assert_int_equal(sim_vendor_init(sub), CS_OK);
	file_mode(v->dir, "new", 0700);
	file_mode(sub, "root.key", 0600);
	file_mode(sub, "intermediate.key", 0600);
	file_mode(sub, "root.pem", 0644);
	root = read_cert(sub, "root.pem");
	inter = read_cert(sub, "intermediate.pem");
	rpub = X509_get0_pubkey(root);
	assert_int_equal(X509_verify(root, rpub), 1);
	assert_int_equal(X509_verify(inter, rpub), 1);
	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_check_ca(inter), 1);
	assert_int_equal(X509_get_pathlen(inter), 1);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(root),
	                NID_commonName, cn, sizeof(cn)) > 0);
	assert_non_null(strstr(cn, "SIMULATED"));
	assert_null(strstr(cn, "Yubico PIV"));
	assert_int_equal(ASN1_STRING_type(X509_get0_notBefore(root)),
	    V_ASN1_UTCTIME);
	assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(root)),
	    V_ASN1_GENERALIZEDTIME);
	X509_free(root);
	X509_free(inter);
	snprintf(cn, sizeof(cn), "%s/%s", sub, "root.pem");
	unlink(cn);
	snprintf(cn, sizeof(cn), "%s/%s", sub, "root.key");
	unlink(cn);
	snprintf(cn, sizeof(cn), "%s/%s", sub, "intermediate.pem");
	unlink(cn);
	snprintf(cn, sizeof(cn), "%s/%s", sub, "intermediate.key");
	unlink(cn);
	assert_int_equal(rmdir(sub), 0);
}

static void
test_simcrypto_vendor_refuses_overwrite(void **state)
{
	struct vendor *v = *state;
	X509 *before, *after;

	assert_int_equal(sim_vendor_init(v->dir), CS_OK);
	before = read_cert(v->dir, "root.pem");
	assert_int_equal(sim_vendor_init(v->dir), CS_ERR_ARG);
	assert_non_null(strstr(sim_crypto_errmsg(), "exists"));
	assert_non_null(strstr(sim_crypto_errmsg(), "root.pem"));
	after = read_cert(v->dir, "root.pem");
	assert_int_equal(X509_cmp(before, after), 0);
	X509_free(before);
	X509_free(after);
}

static void
test_simcrypto_issue_f9_needs_vendor_dir(void **state)
{
	struct vendor *v = *state;
	struct sim_device_info dev = { { 5, 4, 3 }, 1, 1, false, false, false };
	struct sim_key *k = NULL;
	uint8_t *der = NULL;
	size_t len = 0;

	assert_int_equal(sim_vendor_issue_f9(v->dir, &dev, &k, &der, &len),
	    CS_ERR_IO);
	assert_null(k);
	assert_null(der);
	assert_int_equal(len, 0);
	assert_non_null(strstr(sim_crypto_errmsg(), "root.pem"));
}

/* Replace dir/name with n bytes of src (NULL: n bytes of 'A'). */
static void
vendor_file_replace(const char *dir, const char *name, const char *src,
    size_t n)
{
	char path[128], from[128];
	uint8_t buf[4096];
	FILE *in = NULL, *f;
	size_t k;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (src != NULL) {
		snprintf(from, sizeof(from), "%s/%s", dir, src);
		assert_non_null(in = fopen(from, "rb"));
	}
	assert_non_null(f = fopen(path, "wb"));
	memset(buf, 'A', sizeof(buf));
	while (in != NULL && (k = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, k, f), k);
	for (; in == NULL && n > 0; n -= k) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		assert_int_equal(fwrite(buf, 1, k, f), k);
	}
	if (in != NULL)
		fclose(in);
	assert_int_equal(fclose(f), 0);
}

/*
 * The vendor directory is read bounded (64 KiB a file) and the issuing key
 * must match its certificate; either failure leaves nothing behind.
 */
static void
test_simcrypto_issue_f9_rejects_bad_vendor_files(void **state)
{
	struct vendor *v = *state;
	struct sim_device_info dev = { { 5, 4, 3 }, 1, 1, false, false, false };
	struct sim_key *k = NULL;
	uint8_t *der = NULL;
	size_t len = 0;

	assert_int_equal(sim_vendor_init(v->dir), CS_OK);
	/* fw 5.4.3 is issued by the root. */
	vendor_file_replace(v->dir, "root.key", NULL, 64 * 1024 + 1);
	assert_int_equal(sim_vendor_issue_f9(v->dir, &dev, &k, &der, &len),
	    CS_ERR_IO);
	assert_non_null(strstr(sim_crypto_errmsg(), "larger than"));
	assert_non_null(strstr(sim_crypto_errmsg(), "root.key"));
	assert_null(k);
	assert_null(der);

	vendor_file_replace(v->dir, "root.key", "intermediate.key", 0);
	assert_int_equal(sim_vendor_issue_f9(v->dir, &dev, &k, &der, &len),
	    CS_ERR_IO);
	assert_non_null(strstr(sim_crypto_errmsg(), "does not match"));
	assert_null(k);
	assert_null(der);
	assert_int_equal(len, 0);
}

static void
assert_ext(X509 *x, const char *oid, const uint8_t *want, size_t n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	X509_EXTENSION *e;
	ASN1_OCTET_STRING *d;
	int i;

	assert_non_null(o);
	i = X509_get_ext_by_OBJ(x, o, -1);
	ASN1_OBJECT_free(o);
	assert_true(i >= 0);
	e = X509_get_ext(x, i);
	assert_int_equal(X509_EXTENSION_get_critical(e), 0);
	d = X509_EXTENSION_get_data(e);
	assert_int_equal((size_t)ASN1_STRING_length(d), n);
	assert_memory_equal(ASN1_STRING_get0_data(d), want, n);
}

static void
assert_same_name(const X509_NAME *a, const X509_NAME *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la = i2d_X509_NAME(a, &da), lb = i2d_X509_NAME(b, &db);

	assert_true(la > 0);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, (size_t)la);
	OPENSSL_free(da);
	OPENSSL_free(db);
}

static int
tolerate_invalid_ca(int ok, X509_STORE_CTX *ctx)
{
	if (!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_INVALID_CA)
		return 1;
	return ok;
}

/* Plain X509_verify_cert with root as the only anchor; returns the error. */
static int
path_verify(X509 *root, X509 *f9, X509 *inter, X509 *leaf, bool tolerate)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok, err;

	assert_non_null(st);
	assert_non_null(ctx);
	assert_non_null(untrusted);
	assert_int_equal(X509_STORE_add_cert(st, root), 1);
	assert_true(sk_X509_push(untrusted, f9) > 0);
	if (inter != NULL)
		assert_true(sk_X509_push(untrusted, inter) > 0);
	if (tolerate)
		X509_STORE_set_verify_cb(st, tolerate_invalid_ca);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, untrusted), 1);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	sk_X509_free(untrusted);
	ERR_clear_error();
	return ok == 1 ? X509_V_OK : err == X509_V_OK ? -1 : err;
}

static void
check_statement(X509 *s, X509 *f9, const struct sim_key *slotkey,
    const char *cn)
{
	const X509_NAME *subj = X509_get_subject_name(s);
	const X509_NAME_ENTRY *ne;
	const ASN1_STRING *cnv;
	BIGNUM *serial;
	uint8_t sb[32];

	assert_int_equal(X509_get_version(s), X509_VERSION_3);
	serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(s), NULL);
	assert_non_null(serial);
	assert_int_equal(BN_num_bytes(serial), 16);
	assert_int_equal(BN_bn2bin(serial, sb), 16);
	assert_int_equal(sb[0], 0x01);
	BN_free(serial);
	assert_int_equal(X509_get_signature_nid(s),
	    NID_sha256WithRSAEncryption);
	assert_same_name(X509_get_issuer_name(s), X509_get_subject_name(f9));
	assert_int_equal(
	    ASN1_TIME_compare(X509_get0_notBefore(s), X509_get0_notBefore(f9)),
	    0);
	assert_int_equal(
	    ASN1_TIME_compare(X509_get0_notAfter(s), X509_get0_notAfter(f9)),
	    0);
	assert_int_equal(X509_NAME_entry_count(subj), 1);
	ne = X509_NAME_get_entry(subj, 0);
	assert_int_equal(OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne)),
	    NID_commonName);
	cnv = X509_NAME_ENTRY_get_data(ne);
	assert_int_equal(ASN1_STRING_type(cnv), V_ASN1_UTF8STRING);
	assert_int_equal((size_t)ASN1_STRING_length(cnv), strlen(cn));
	assert_memory_equal(ASN1_STRING_get0_data(cnv), cn, strlen(cn));
	assert_same_spki_der(slotkey, X509_get_X509_PUBKEY(s));
	/* Statement signed by the F9 key. */
	assert_int_equal(X509_verify(s, X509_get0_pubkey(f9)), 1);
	/* No basicConstraints, no key identifiers. */
	assert_int_equal(X509_get_ext_by_NID(s, NID_basic_constraints, -1), -1);
	assert_int_equal(X509_get_ext_by_NID(s, NID_subject_key_identifier, -1),
	    -1);
	assert_int_equal(
	    X509_get_ext_by_NID(s, NID_authority_key_identifier, -1), -1);
}

static void
test_simcrypto_attest_fw543_chain(void **state)
{
	static const uint8_t fw[3] = { 5, 4, 3 };
	static const uint8_t ser[6] = { 0x02, 0x04, 0x00, 0xAE, 0x17, 0xFB };
	static const uint8_t pol[2] = { 0x02, 0x01 };
	static const uint8_t ff[1] = { 0x01 };
	struct vendor *v = *state;
	struct sim_device_info dev = { { 5, 4, 3 }, 11409403, 0x01, false,
		false, false };
	struct sim_key *f9key = NULL;
	uint8_t *f9der = NULL;
	size_t f9len = 0;
	struct cs_buf st = CS_BUF_INIT(BUF_MAX);
	X509 *root, *inter, *f9, *s;
	const struct sim_key *slotkey = key_for(SIM_ALG_P256);
	char sn[32];

	assert_int_equal(sim_vendor_init(v->dir), CS_OK);
	assert_int_equal(
	    sim_vendor_issue_f9(v->dir, &dev, &f9key, &f9der, &f9len), CS_OK);
	assert_int_equal(sim_key_alg(f9key), SIM_ALG_RSA2048);
	assert_int_equal(sim_attest(f9key, f9der, f9len, slotkey, 0x9a, &dev,
	                     0x02, 0x01, &st),
	    CS_OK);
	root = read_cert(v->dir, "root.pem");
	inter = read_cert(v->dir, "intermediate.pem");
	f9 = der_cert(f9der, f9len);
	s = der_cert(st.data, st.len);

	/* F9: issued by the root for fw <= 5.7.3, not a CA, .3.3 firmware. */
	assert_int_equal(X509_verify(f9, X509_get0_pubkey(root)), 1);
	assert_int_not_equal(X509_verify(f9, X509_get0_pubkey(inter)), 1);
	assert_same_name(X509_get_issuer_name(f9), X509_get_subject_name(root));
	assert_int_equal(X509_get_ext_by_NID(f9, NID_basic_constraints, -1),
	    -1);
	assert_int_equal(X509_check_ca(f9), 0);
	assert_ext(f9, "1.3.6.1.4.1.41482.3.3", fw, 3);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(f9),
	                NID_serialNumber, sn, sizeof(sn)) > 0);
	assert_string_equal(sn, "11409403");
	assert_true(EVP_PKEY_is_a(X509_get0_pubkey(f9), "RSA"));
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(f9)), 2048);

	check_statement(s, f9, slotkey, "YubiKey PIV Attestation 9a");
	assert_int_equal(X509_get_ext_count(s), 4);
	assert_ext(s, "1.3.6.1.4.1.41482.3.3", fw, 3);
	assert_ext(s, "1.3.6.1.4.1.41482.3.7", ser, sizeof(ser));
	assert_ext(s, "1.3.6.1.4.1.41482.3.8", pol, sizeof(pol));
	assert_ext(s, "1.3.6.1.4.1.41482.3.9", ff, sizeof(ff));

	/* The documented quirk: plain path validation stops at F9 ... */
	assert_int_equal(path_verify(root, f9, NULL, s, false),
	    X509_V_ERR_INVALID_CA);
	/* ... and that is the only thing wrong with the chain. */
	assert_int_equal(path_verify(root, f9, NULL, s, true), X509_V_OK);

	X509_free(root);
	X509_free(inter);
	X509_free(f9);
	X509_free(s);
	cs_buf_release(&st);
	cs_free(f9der);
	sim_key_free(f9key);
}

static void
test_simcrypto_attest_fw574_chain(void **state)
{
	static const uint8_t fw[3] = { 5, 7, 4 };
	static const uint8_t ser[6] = { 0x02, 0x04, 0x01, 0xF3, 0x3E, 0x8D };
	static const uint8_t pol[2] = { 0x03, 0x03 };
	static const uint8_t ff[1] = { 0x84 };
	static const uint8_t one[1] = { 0x01 };
	struct vendor *v = *state;
	struct sim_device_info dev = { { 5, 7, 4 }, 32718477, 0x04, true,
		true, false };
	struct sim_key *f9key = NULL;
	uint8_t *f9der = NULL;
	size_t f9len = 0;
	struct cs_buf st = CS_BUF_INIT(BUF_MAX);
	X509 *root, *inter, *f9, *s;
	const struct sim_key *slotkey = key_for(SIM_ALG_ED25519);

	assert_int_equal(sim_vendor_init(v->dir), CS_OK);
	assert_int_equal(
	    sim_vendor_issue_f9(v->dir, &dev, &f9key, &f9der, &f9len), CS_OK);
	assert_int_equal(sim_attest(f9key, f9der, f9len, slotkey, 0x82, &dev,
	                     0x03, 0x03, &st),
	    CS_OK);
	root = read_cert(v->dir, "root.pem");
	inter = read_cert(v->dir, "intermediate.pem");
	f9 = der_cert(f9der, f9len);
	s = der_cert(st.data, st.len);

	/* F9 issued by the intermediate from fw 5.7.4 on. */
	assert_int_equal(X509_verify(f9, X509_get0_pubkey(inter)), 1);
	assert_int_not_equal(X509_verify(f9, X509_get0_pubkey(root)), 1);
	assert_int_equal(X509_verify(inter, X509_get0_pubkey(root)), 1);
	assert_same_name(X509_get_issuer_name(f9),
	    X509_get_subject_name(inter));
	assert_ext(f9, "1.3.6.1.4.1.41482.3.3", fw, 3);
	assert_ext(f9, "1.3.6.1.4.1.41482.3.10", one, 1);
	assert_ext(f9, "1.3.6.1.4.1.41482.3.11", one, 1);
	assert_int_equal(X509_check_ca(f9), 0);

	check_statement(s, f9, slotkey, "YubiKey PIV Attestation 82");
	assert_int_equal(X509_get_ext_count(s), 4);
	assert_ext(s, "1.3.6.1.4.1.41482.3.3", fw, 3);
	assert_ext(s, "1.3.6.1.4.1.41482.3.7", ser, sizeof(ser));
	assert_ext(s, "1.3.6.1.4.1.41482.3.8", pol, sizeof(pol));
	assert_ext(s, "1.3.6.1.4.1.41482.3.9", ff, sizeof(ff));

	assert_int_equal(path_verify(root, f9, inter, s, false),
	    X509_V_ERR_INVALID_CA);
	assert_int_equal(path_verify(root, f9, inter, s, true), X509_V_OK);
	/* Without the intermediate there is no path. */
	assert_int_equal(path_verify(root, f9, NULL, s, true),
	    X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	X509_free(s);

	/* An X25519 key (agreement only) is attested with its SPKI too. */
	slotkey = key_for(SIM_ALG_X25519);
	cs_buf_reset(&st);
	assert_int_equal(sim_attest(f9key, f9der, f9len, slotkey, 0x9d, &dev,
	                     0x02, 0x01, &st),
	    CS_OK);
	s = der_cert(st.data, st.len);
	check_statement(s, f9, slotkey, "YubiKey PIV Attestation 9d");
	assert_true(EVP_PKEY_is_a(X509_get0_pubkey(s), "X25519"));

	X509_free(root);
	X509_free(inter);
	X509_free(f9);
	X509_free(s);
	cs_buf_release(&st);
	cs_free(f9der);
	sim_key_free(f9key);
}

/* YubiKey 4 firmware: no serial or form factor extension; RSA slot key. */
static void
test_simcrypto_attest_fw4_rsa(void **state)
{
	static const uint8_t fw[3] = { 4, 3, 5 };
	struct vendor *v = *state;
	struct sim_device_info dev = { { 4, 3, 5 }, 123, 0x01, false, false, false };
	struct sim_key *f9key = NULL;
	uint8_t *f9der = NULL;
	size_t f9len = 0;
	struct cs_buf st = CS_BUF_INIT(BUF_MAX);
	X509 *f9, *s;
	const struct sim_key *slotkey = key_for(SIM_ALG_RSA1024);

	assert_int_equal(sim_vendor_init(v->dir), CS_OK);
	assert_int_equal(
	    sim_vendor_issue_f9(v->dir, &dev, &f9key, &f9der, &f9len), CS_OK);
	assert_int_equal(sim_attest(f9key, f9der, f9len, slotkey, 0x9c, &dev,
	                     0x03, 0x01, &st),
	    CS_OK);
	f9 = der_cert(f9der, f9len);
	s = der_cert(st.data, st.len);
	check_statement(s, f9, slotkey, "YubiKey PIV Attestation 9c");
	assert_int_equal(X509_get_ext_count(s), 2);
	assert_ext(s, "1.3.6.1.4.1.41482.3.3", fw, 3);
	X509_free(f9);
	X509_free(s);
	cs_buf_release(&st);
	cs_free(f9der);
	sim_key_free(f9key);
}

static void
test_simcrypto_attest_rejects_bad_input(void **state)
{
	struct vendor *v = *state;
	struct sim_device_info dev = { { 5, 4, 3 }, 7, 0x01, false, false, false };
	struct sim_key *f9key = NULL;
	uint8_t *f9der = NULL;
	size_t f9len = 0;
	struct cs_buf st = CS_BUF_INIT(BUF_MAX);
	const struct sim_key *slotkey = key_for(SIM_ALG_P256);

	assert_int_equal(sim_vendor_init(v->dir), CS_OK);
	assert_int_equal(
	    sim_vendor_issue_f9(v->dir, &dev, &f9key, &f9der, &f9len), CS_OK);
	assert_int_equal(sim_attest(f9key, f9der, f9len - 1, slotkey, 0x9a,
	                     &dev, 0x02, 0x01, &st),
	    CS_ERR_MALFORMED);
	assert_int_equal(
	    sim_attest(f9key, f9der, 0, slotkey, 0x9a, &dev, 0x02, 0x01, &st),
	    CS_ERR_MALFORMED);
	assert_int_equal(sim_attest(f9key, f9der, f9len, slotkey, 0x9a, &dev,
	                     0x00, 0x01, &st),
	    CS_ERR_ARG);
	assert_int_equal(st.len, 0);
	/* Too small an output buffer. */
	cs_buf_init(&st, 64, false);
	assert_int_equal(sim_attest(f9key, f9der, f9len, slotkey, 0x9a, &dev,
	                     0x02, 0x01, &st),
	    CS_ERR_LIMIT);
	cs_buf_release(&st);
	cs_free(f9der);
	sim_key_free(f9key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simcrypto_alg_predicates),
		cmocka_unit_test(test_simcrypto_random_differs),
		cmocka_unit_test(test_simcrypto_3des_worked_example),
		cmocka_unit_test(test_simcrypto_aes192_worked_example),
		cmocka_unit_test(test_simcrypto_mgm_rejects_bad_key),
		cmocka_unit_test(test_simcrypto_public_tlvs),
		cmocka_unit_test(test_simcrypto_public_tlvs_append),
		cmocka_unit_test(test_simcrypto_rsa1024_sign),
		cmocka_unit_test(test_simcrypto_rsa2048_sign),
		cmocka_unit_test(test_simcrypto_rsa_raw_decrypt),
		cmocka_unit_test(test_simcrypto_rsa_rejects_input_ge_n),
		cmocka_unit_test(test_simcrypto_ecdsa_p256_sign),
		cmocka_unit_test(test_simcrypto_ecdsa_p384_sign),
		cmocka_unit_test(test_simcrypto_ecdsa_rejects_long_input),
		cmocka_unit_test(test_simcrypto_ed25519_sign),
		cmocka_unit_test(test_simcrypto_x25519_cannot_sign),
		cmocka_unit_test(test_simcrypto_ecdh_p256),
		cmocka_unit_test(test_simcrypto_ecdh_p384),
		cmocka_unit_test(test_simcrypto_ecdh_x25519),
		cmocka_unit_test(test_simcrypto_import_rsa1024),
		cmocka_unit_test(test_simcrypto_import_rsa3072_4096),
		cmocka_unit_test(test_simcrypto_import_ec_25519),
		cmocka_unit_test(test_simcrypto_import_rejects_malformed),
		cmocka_unit_test(test_simcrypto_import_rejects_bad_rsa),
		cmocka_unit_test(test_simcrypto_der_roundtrip),
		cmocka_unit_test(test_simcrypto_generate_rsa_large),
		cmocka_unit_test_setup_teardown(
		    test_simcrypto_vendor_init_files, vendor_setup,
		    vendor_teardown),
		cmocka_unit_test_setup_teardown(
		    test_simcrypto_vendor_refuses_overwrite, vendor_setup,
		    vendor_teardown),
		cmocka_unit_test_setup_teardown(
		    test_simcrypto_issue_f9_needs_vendor_dir, vendor_setup,
		    vendor_teardown),
		cmocka_unit_test_setup_teardown(
		    test_simcrypto_issue_f9_rejects_bad_vendor_files,
		    vendor_setup, vendor_teardown),
		cmocka_unit_test_setup_teardown(
		    test_simcrypto_attest_fw543_chain, vendor_setup,
		    vendor_teardown),
		cmocka_unit_test_setup_teardown(
		    test_simcrypto_attest_fw574_chain, vendor_setup,
		    vendor_teardown),
		cmocka_unit_test_setup_teardown(test_simcrypto_attest_fw4_rsa,
		    vendor_setup, vendor_teardown),
		cmocka_unit_test_setup_teardown(
		    test_simcrypto_attest_rejects_bad_input, vendor_setup,
		    vendor_teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
