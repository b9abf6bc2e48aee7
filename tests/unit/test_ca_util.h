/*
 * Shared fixture for the tests/unit/test_ca_*.c programs: a fresh CA in a
 * private temporary directory, attestation evidence minted by
 * tests/data/ca/mint.sh, and small file/OpenSSL helpers. Header-only so
 * that each test program stays one file.
 */
#ifndef TEST_CA_UTIL_H
#define TEST_CA_UTIL_H

#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/cardsmith.h"
#include "cardsmith/ca.h"

#define TCA_PASS "test-ca-passphrase"
#define TCA_UNUSED __attribute__((unused))

struct tca {
	struct cs_ctx *ctx;
	struct cs_ca *ca;
	char tmp[256]; /* private temporary directory */
	char dir[512]; /* the CA directory */
	char mint[512]; /* minted evidence */
};

TCA_UNUSED static const char *
tca_src(void)
{
	const char *s = getenv("CS_SRC");

	return s != NULL ? s : ".";
}

TCA_UNUSED static void
tca_path(char *dst, size_t cap, const char *a, const char *b)
{
	int n = snprintf(dst, cap, "%s/%s", a, b);

	if (n < 0 || (size_t)n >= cap)
		abort();
}

/* Read a whole file; NULL if absent. Caller frees. */
TCA_UNUSED static uint8_t *
tca_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

TCA_UNUSED static uint8_t *
tca_mint_file(const struct tca *t, const char *name, size_t *len)
{
	char p[1024];

	tca_path(p, sizeof(p), t->mint, name);
	return tca_read(p, len);
}

TCA_UNUSED static void
tca_rmrf(const char *path)
{
	char cmd[600];

	if (strncmp(path, "/tmp/", 5) != 0 && strncmp(path, "/var/tmp/", 9))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", path);
}

/*
 * Make a temporary directory, optionally mint evidence into it, and
 * create a CA there whose manufacturer trust is the minted test root.
 * Returns 0 on success.
 */
TCA_UNUSED static int
tca_setup(struct tca *t, bool mint, unsigned int init_flags)
{
	struct cs_ca_init_opts o;
	char cmd[2048], roots[1024], prof[1024];
	const char *td = getenv("TMPDIR");

	memset(t, 0, sizeof(*t));
	snprintf(t->tmp, sizeof(t->tmp), "%s/cs-ca-test.XXXXXX",
	    td != NULL && *td == '/' ? td : "/tmp");
	if (mkdtemp(t->tmp) == NULL)
		return -1;
	tca_path(t->dir, sizeof(t->dir), t->tmp, "ca");
	tca_path(t->mint, sizeof(t->mint), t->tmp, "mint");
	if (mint) {
		snprintf(cmd, sizeof(cmd),
		    "sh '%s/tests/data/ca/mint.sh' '%s'"
		    " >/dev/null 2>&1",
		    tca_src(), t->mint);
		if (system(cmd) != 0)
			return -1;
	}
	if (cs_ctx_new(&t->ctx) != CS_OK)
		return -1;
	memset(&o, 0, sizeof(o));
	tca_path(roots, sizeof(roots), t->mint, "root.pem");
	tca_path(prof, sizeof(prof), tca_src(), "profiles");
	o.roots_path = mint ? roots : NULL;
	o.profiles_dir = prof;
	o.flags = init_flags;
	if (cs_ca_init(t->ctx, t->dir, &o, TCA_PASS, strlen(TCA_PASS),
	        &t->ca) != CS_OK) {
		fprintf(stderr, "# ca init: %s\n", cs_ctx_errmsg(t->ctx));
		return -1;
	}
	if (cs_ca_unlock(t->ca, TCA_PASS, strlen(TCA_PASS)) != CS_OK)
		return -1;
	return 0;
}

TCA_UNUSED static void
tca_teardown(struct tca *t)
{
	cs_ca_close(t->ca);
	cs_ctx_free(t->ctx);
	if (t->tmp[0] != '\0')
		tca_rmrf(t->tmp);
	memset(t, 0, sizeof(*t));
}

/* A fresh EC P-256 (or RSA-2048) key and CSR "CN=cn", PEM. */
TCA_UNUSED static char *
tca_software_csr(const char *cn, bool rsa, EVP_PKEY **keyp, size_t *len)
{
	EVP_PKEY *k = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)
	                  : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;
	char *s = NULL;

	if (k == NULL || req == NULL || n == NULL || b == NULL)
		abort();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, k);
	if (X509_REQ_sign(req, k, EVP_sha256()) <= 0 ||
	    !PEM_write_bio_X509_REQ(b, req))
		abort();
	BIO_get_mem_ptr(b, &m);
	s = malloc(m->length + 1);
	memcpy(s, m->data, m->length);
	s[m->length] = 0;
	*len = m->length;
	BIO_free(b);
	X509_NAME_free(n);
	X509_REQ_free(req);
	if (keyp != NULL)
		*keyp = k;
	else
		EVP_PKEY_free(k);
	return s;
}

TCA_UNUSED static struct cs_ca_profile *
tca_profile(struct tca *t, const char *name)
{
	struct cs_ca_profile *p = NULL;

	if (cs_ca_profile_load(t->ca, name, &p) != CS_OK) {
		fprintf(stderr, "# profile %s: %s\n", name,
		    cs_ctx_errmsg(t->ctx));
		return NULL;
	}
	return p;
}

TCA_UNUSED static void
tca_req_init(struct cs_ca_issue_req *req, const struct cs_ca_profile *p,
    const void *csr, size_t csrlen)
{
	memset(req, 0, sizeof(*req));
	req->profile = p;
	req->csr = csr;
	req->csr_len = csrlen;
	req->slot = -1;
}

/* Decrypt a CA key file of the fixture (for forging test leaves). */
TCA_UNUSED static EVP_PKEY *
tca_ca_key(const struct tca *t, const char *file)
{
	char p[1024];
	EVP_PKEY *k = NULL;
	FILE *f;

	tca_path(p, sizeof(p), t->dir, file);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, (void *)TCA_PASS);
	fclose(f);
	return k;
}

TCA_UNUSED static X509 *
tca_ca_cert(const struct tca *t, const char *file)
{
	char p[1024];
	X509 *x = NULL;
	FILE *f;

	tca_path(p, sizeof(p), t->dir, file);
	if ((f = fopen(p, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

/* DER of x into a malloc'd buffer. */
TCA_UNUSED static uint8_t *
tca_der(X509 *x, size_t *len)
{
	unsigned char *p = NULL;
	uint8_t *out;
	int n = i2d_X509(x, &p);

	if (n <= 0)
		abort();
	out = malloc((size_t)n);
	memcpy(out, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return out;
}

#endif
