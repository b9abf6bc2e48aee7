/*
 * Simulated manufacturer ("vendor") PKI (piv-apdu.md §6): the CA directory
 * made by sim_vendor_init (a P-384 root and one intermediate, named so they
 * can never be mistaken for Yubico's, written atomically and never over
 * existing files), and the per-card RSA-2048 F9 key and certificate issued
 * from it (sim_vendor_issue_f9). The statements the F9 key then signs are
 * built in attest.c, which also holds the shared certificate helpers.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"
#include "cardsmith/file.h"
#include "fileio.h"
#include "simcrypto_int.h"

#include "banned.h"

/* Value of the .3.10/.3.11 presence flags (undocumented, §9). */
#define FLAG_EXT_VALUE 0x01

#define ROOT_CN "cardsmith SIMULATED Attestation Root (not Yubico; test only)"
#define INTER_CN "cardsmith SIMULATED PIV Attestation B 1"
#define F9_CN "cardsmith SIMULATED PIV Attestation"
#define VENDOR_O "cardsmith simulator"

/* Yubico's 2024 PKI runs to 9999-12-31 as well. */
#define VALID_FROM "20240101000000Z"
#define VALID_TO "99991231235959Z"

/*
 * Root → intermediate → F9 → statement. pathlen as Yubico's PIV
 * Attestation B 1 (1), so an F9 marked as a CA would still be valid below it.
 */
#define ROOT_BC "critical,CA:TRUE,pathlen:2"
#define INTER_BC "critical,CA:TRUE,pathlen:1"
#define F9_BC "critical,CA:TRUE,pathlen:0"
#define CA_KU "critical,keyCertSign,cRLSign"

#define F_ROOT_PEM "root.pem"
#define F_ROOT_KEY "root.key"
#define F_INTER_PEM "intermediate.pem"
#define F_INTER_KEY "intermediate.key"

#define VENDOR_FILE_MAX (64 * 1024)
#define CERT_DER_MAX 8192

enum f9_flags {
	F9_CA = 1 << 0, /* basicConstraints CA:TRUE like fw 5.7.4 devices */
};

/* A standard extension from its openssl.cnf text form. */
static enum cs_err
ext_conf(X509 *x, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &v3, nid, val)) == NULL)
		return CS_ERR_CRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? CS_OK : CS_ERR_CRYPTO;
}

static bool
fw_at_least(const uint8_t fw[3], uint8_t maj, uint8_t min, uint8_t pat)
{
	if (fw[0] != maj)
		return fw[0] > maj;
	if (fw[1] != min)
		return fw[1] > min;
	return fw[2] >= pat;
}

/* --- files --- */

static enum cs_err
path_join(char *path, size_t size, const char *dir, const char *name)
{
	int n;

	n = snprintf(path, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return simi_fail(CS_ERR_ARG, "vendor dir %s: path too long",
		    dir);
	return CS_OK;
}

/*
 * Write a new file atomically and never over an existing one: temp file,
 * fsync, then link(2), which fails with EEXIST instead of replacing.
 */
static enum cs_err
write_new_file(const char *dir, const char *name, const struct cs_buf *b,
    mode_t mode)
{
	char tmp[PATH_MAX], final[PATH_MAX];
	int fd = -1, serr;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = path_join(tmp, sizeof(tmp), dir, ".vendor-XXXXXX")) != CS_OK ||
	    (r = path_join(final, sizeof(final), dir, name)) != CS_OK)
		return r;
	if ((fd = mkstemp(tmp)) < 0)
		return simi_fail(CS_ERR_IO,
		    "vendor dir %s: create temp file: %s", dir,
		    strerror(errno));
	if (fchmod(fd, mode) != 0 ||
	    simi_write_all(fd, b->data, b->len) != CS_OK || fsync(fd) != 0) {
		r = simi_fail(CS_ERR_IO, "%s: write: %s", final,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = simi_fail(CS_ERR_IO, "%s: close: %s", final,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (link(tmp, final) != 0) {
		serr = errno;
		r = serr == EEXIST
		    ? simi_fail(CS_ERR_ARG, "%s exists, refusing to overwrite",
		          final)
		    : simi_fail(CS_ERR_IO, "%s: %s", final, strerror(serr));
		goto out;
	}
	r = CS_OK;
out:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

static enum cs_err
read_file(const char *dir, const char *name, struct cs_buf *b)
{
	char path[PATH_MAX];
	int fd;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = path_join(path, sizeof(path), dir, name)) != CS_OK)
		return r;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return simi_fail(CS_ERR_IO, "%s: %s", path, strerror(errno));
	if ((r = cs_file_read_fd(NULL, fd, path, b)) == CS_ERR_IO)
		r = simi_fail(CS_ERR_IO, "%s: read: %s", path, strerror(errno));
	else if (r != CS_OK)
		r = simi_fail(CS_ERR_IO, "%s: larger than %d bytes", path,
		    VENDOR_FILE_MAX);
	close(fd);
	return r;
}

/* Create dir if needed; refuse if any vendor file is already there. */
static enum cs_err
vendor_dir_prepare(const char *dir)
{
	static const char *const files[] = { F_ROOT_PEM, F_ROOT_KEY,
		F_INTER_PEM, F_INTER_KEY };
	char path[PATH_MAX];
	struct stat st;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return simi_fail(CS_ERR_IO, "vendor dir %s: %s", dir,
		    strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return simi_fail(CS_ERR_IO, "vendor dir %s: not a directory",
		    dir);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((r = path_join(path, sizeof(path), dir, files[i])) != CS_OK)
			return r;
		if (lstat(path, &st) == 0)
			return simi_fail(CS_ERR_ARG,
			    "vendor dir %s: %s exists, refusing to overwrite",
			    dir, files[i]);
		if (errno != ENOENT)
			return simi_fail(CS_ERR_IO, "%s: %s", path,
			    strerror(errno));
	}
	return CS_OK;
}

/*
 * PEM of the certificate x or, if x is NULL, of the private key k as
 * unencrypted PKCS#8 (the directory is 0700, the file 0600); a key is
 * encoded in OpenSSL's secure heap.
 */
static enum cs_err
pem_encode(X509 *x, EVP_PKEY *k, struct cs_buf *out)
{
	BIO *bio;
	char *p = NULL;
	long n;
	int ok;
	enum cs_err r = CS_ERR_CRYPTO;

	if ((bio = BIO_new(x != NULL ? BIO_s_mem() : BIO_s_secmem())) == NULL)
		return CS_ERR_NOMEM;
	ok = x != NULL
	    ? PEM_write_bio_X509(bio, x)
	    : PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	if (ok == 1 && (n = BIO_get_mem_data(bio, &p)) > 0)
		r = cs_buf_put(out, p, (size_t)n);
	BIO_free(bio);
	return r;
}

/* --- vendor CA --- */

/* Root (issuer == NULL, self-signed) or intermediate CA certificate. */
static enum cs_err
make_ca(X509 **out, EVP_PKEY *key, const char *cn, X509 *issuer,
    EVP_PKEY *issuer_key)
{
	X509_NAME *subj = NULL;
	ASN1_TIME *nb = NULL, *na = NULL;
	X509 *x = NULL;
	EVP_PKEY *signer = issuer != NULL ? issuer_key : key;
	enum cs_err r = CS_ERR_CRYPTO;

	*out = NULL;
	if ((nb = ASN1_TIME_new()) == NULL || (na = ASN1_TIME_new()) == NULL ||
	    !ASN1_TIME_set_string_X509(nb, VALID_FROM) ||
	    !ASN1_TIME_set_string_X509(na, VALID_TO))
		goto out;
	if ((r = simi_name_new(&subj, cn, NULL, VENDOR_O)) != CS_OK ||
	    (r = simi_cert_new(&x, key, subj,
	         issuer != NULL ? X509_get_subject_name(issuer) : subj, nb, na,
	         0)) != CS_OK)
		goto out;
	if ((r = ext_conf(x, issuer, NID_basic_constraints,
	         issuer != NULL ? INTER_BC : ROOT_BC)) != CS_OK ||
	    (r = ext_conf(x, issuer, NID_key_usage, CA_KU)) != CS_OK ||
	    (r = ext_conf(x, issuer, NID_subject_key_identifier, "hash")) !=
	        CS_OK ||
	    (issuer != NULL &&
	        (r = ext_conf(x, issuer, NID_authority_key_identifier,
	             "keyid:always")) != CS_OK))
		goto out;
	if (X509_sign(x, signer, simi_md_for(signer, false)) <= 0) {
		r = CS_ERR_CRYPTO;
		goto out;
	}
	*out = x;
	x = NULL;
	r = CS_OK;
out:
	X509_free(x);
	X509_NAME_free(subj);
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return r;
}

/* Write the four files; root.pem last, so its presence means "complete". */
static enum cs_err
vendor_write(const char *dir, EVP_PKEY *rkey, X509 *rcert, EVP_PKEY *ikey,
    X509 *icert)
{
	struct cs_buf rk = CS_BUF_INIT_SECRET(VENDOR_FILE_MAX);
	struct cs_buf ik = CS_BUF_INIT_SECRET(VENDOR_FILE_MAX);
	struct cs_buf rc = CS_BUF_INIT(VENDOR_FILE_MAX);
	struct cs_buf ic = CS_BUF_INIT(VENDOR_FILE_MAX);
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = pem_encode(NULL, rkey, &rk)) != CS_OK ||
	    (r = pem_encode(NULL, ikey, &ik)) != CS_OK ||
	    (r = pem_encode(rcert, NULL, &rc)) != CS_OK ||
	    (r = pem_encode(icert, NULL, &ic)) != CS_OK) {
		r = simi_fail(r, "vendor dir %s: PEM encoding failed", dir);
		goto out;
	}
	if ((r = write_new_file(dir, F_INTER_KEY, &ik, 0600)) != CS_OK ||
	    (r = write_new_file(dir, F_ROOT_KEY, &rk, 0600)) != CS_OK ||
	    (r = write_new_file(dir, F_INTER_PEM, &ic, 0644)) != CS_OK ||
	    (r = write_new_file(dir, F_ROOT_PEM, &rc, 0644)) != CS_OK)
		goto out;
out:
	cs_buf_release(&rk);
	cs_buf_release(&ik);
	cs_buf_release(&rc);
	cs_buf_release(&ic);
	return r;
}

enum cs_err
sim_vendor_init(const char *dir)
{
	EVP_PKEY *rkey = NULL, *ikey = NULL;
	X509 *rcert = NULL, *icert = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	simi_err_clear();
	if (dir == NULL || dir[0] == '\0')
		return simi_fail(CS_ERR_ARG, "vendor dir: empty path");
	if ((r = vendor_dir_prepare(dir)) != CS_OK)
		goto out;
	if ((rkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")) == NULL ||
	    (ikey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384")) == NULL) {
		r = simi_fail(CS_ERR_CRYPTO,
		    "vendor CA: key generation failed");
		goto out;
	}
	if ((r = make_ca(&rcert, rkey, ROOT_CN, NULL, NULL)) != CS_OK ||
	    (r = make_ca(&icert, ikey, INTER_CN, rcert, rkey)) != CS_OK) {
		r = simi_fail(r, "vendor CA: building certificates failed");
		goto out;
	}
	if ((r = vendor_write(dir, rkey, rcert, ikey, icert)) != CS_OK)
		goto out;
	/* The files are complete either way; the fsync only adds durability. */
	(void)simi_dir_sync(dir);
out:
	X509_free(rcert);
	X509_free(icert);
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(ikey);
	ERR_clear_error();
	return r;
}

/* Keys are unencrypted; never let OpenSSL prompt for a passphrase. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

/* Issuing CA for a firmware: root up to 5.7.3, intermediate from 5.7.4. */
static enum cs_err
load_ca(const char *dir, bool inter, X509 **cert, EVP_PKEY **key)
{
	struct cs_buf pem = CS_BUF_INIT(VENDOR_FILE_MAX);
	struct cs_buf kpem = CS_BUF_INIT_SECRET(VENDOR_FILE_MAX);
	const char *cf = inter ? F_INTER_PEM : F_ROOT_PEM;
	const char *kf = inter ? F_INTER_KEY : F_ROOT_KEY;
	BIO *bio = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*cert = NULL;
	*key = NULL;
	if ((r = read_file(dir, cf, &pem)) != CS_OK ||
	    (r = read_file(dir, kf, &kpem)) != CS_OK)
		goto out;
	r = CS_ERR_IO;
	if (cs_x509_cert_decode(NULL, pem.data, pem.len, CS_X509_PEM, cert) !=
	    CS_OK) {
		r = simi_fail(r, "vendor dir %s: %s: no certificate", dir, cf);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(kpem.data, (int)kpem.len)) == NULL ||
	    (*key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) ==
	        NULL) {
		r = simi_fail(r, "vendor dir %s: %s: no private key", dir, kf);
		goto out;
	}
	if (X509_check_private_key(*cert, *key) != 1) {
		r = simi_fail(r, "vendor dir %s: %s does not match %s", dir, kf,
		    cf);
		goto out;
	}
	r = CS_OK;
out:
	if (r != CS_OK) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
	}
	BIO_free(bio);
	cs_buf_release(&pem);
	cs_buf_release(&kpem);
	return r;
}

/* F9 extensions: firmware, FIPS/CSPN flags, optionally CA:TRUE. */
static enum cs_err
f9_extensions(X509 *x, X509 *ca, const struct sim_device_info *dev,
    unsigned int flags)
{
	static const uint8_t flag = FLAG_EXT_VALUE;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((flags & F9_CA) != 0 &&
	    (r = ext_conf(x, ca, NID_basic_constraints, F9_BC)) != CS_OK)
		return r;
	if ((r = simi_ext_raw(x, OID_FIRMWARE, dev->fw, sizeof(dev->fw))) !=
	    CS_OK)
		return r;
	if (dev->fips && (r = simi_ext_raw(x, OID_FIPS, &flag, 1)) != CS_OK)
		return r;
	if (dev->cspn && (r = simi_ext_raw(x, OID_CSPN, &flag, 1)) != CS_OK)
		return r;
	return CS_OK;
}

static enum cs_err
issue_f9(const char *dir, const struct sim_device_info *dev, unsigned int flags,
    struct sim_key **f9key, uint8_t **der, size_t *derlen)
{
	struct cs_buf out = CS_BUF_INIT(CERT_DER_MAX);
	char serial[16];
	X509 *ca = NULL, *x = NULL;
	EVP_PKEY *cakey = NULL, *pub = NULL;
	X509_NAME *subj = NULL;
	struct sim_key *k = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = load_ca(dir, fw_at_least(dev->fw, 5, 7, 4), &ca, &cakey)) !=
	    CS_OK)
		goto out;
	if ((r = sim_key_generate(SIM_ALG_RSA2048, &k)) != CS_OK ||
	    (r = simi_key_pub(k, &pub)) != CS_OK) {
		r = simi_fail(r, "F9 key generation failed");
		goto out;
	}
	snprintf(serial, sizeof(serial), "%lu", (unsigned long)dev->serial);
	if ((r = simi_name_new(&subj, F9_CN, serial, VENDOR_O)) != CS_OK ||
	    (r = simi_cert_new(&x, pub, subj, X509_get_subject_name(ca),
	         X509_get0_notBefore(ca), X509_get0_notAfter(ca), 0)) !=
	        CS_OK ||
	    (r = f9_extensions(x, ca, dev, flags)) != CS_OK) {
		r = simi_fail(r, "F9 certificate: building failed");
		goto out;
	}
	if (X509_sign(x, cakey, simi_md_for(cakey, false)) <= 0 ||
	    (r = simi_cert_der(x, &out)) != CS_OK ||
	    (r = cs_buf_take(&out, der, derlen)) != CS_OK) {
		r = simi_fail(r == CS_OK ? CS_ERR_CRYPTO : r,
		    "F9 certificate: signing failed");
		goto out;
	}
	*f9key = k;
	k = NULL;
	r = CS_OK;
out:
	cs_buf_release(&out);
	sim_key_free(k);
	X509_NAME_free(subj);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return r;
}

enum cs_err
sim_vendor_issue_f9(const char *dir, const struct sim_device_info *dev,
    struct sim_key **f9key, uint8_t **cert_der, size_t *cert_len)
{
	*f9key = NULL;
	*cert_der = NULL;
	*cert_len = 0;
	simi_err_clear();
	if (dir == NULL || dev == NULL)
		return simi_fail(CS_ERR_ARG, "F9: no vendor dir or device");
	/* Default like 5.2.x devices: no basicConstraints (field-notes.md). */
	return issue_f9(dir, dev, dev->f9_ca ? F9_CA : 0, f9key, cert_der,
	    cert_len);
}
