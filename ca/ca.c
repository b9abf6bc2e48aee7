/*
 * CA directory: init, import, open, close; file helpers shared by ca/.
 *
 * Layout (ca/README.md): ca.cnf, root.crt.pem, root.key.pem,
 * issuing.{crt,key}.pem, [hw-issuing.{crt,key}.pem], chain.pem (imported
 * CAs), trust/ (PEM roots), profiles/ (.cnf), registry.db. Keys are PKCS#8
 * encrypted with AES-256-CBC under a scrypt key from the CA passphrase
 * (older PBKDF2 keys still load); every file is 0600 and the directory
 * 0700.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/conf.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_int.h"

#include "banned.h"

/*
 * CA keys at rest: PKCS#8 PBES2, scrypt N=2^14, r=8, p=5 and AES-256-CBC.
 * The cost equals OWASP's scrypt minimum (N=2^17, r=8, p=1) at 16 MiB
 * instead of 128 MiB: OpenSSL's PKCS#8 reader refuses scrypt above 32 MiB,
 * so N=2^15 with r=8 would not load back. About 0.2 s per key here.
 */
#define KEY_SCRYPT_N 16384
#define KEY_SCRYPT_R 8
#define KEY_SCRYPT_P 5
#define KEY_SALT_LEN 16

#ifndef CS_DATADIR
#define CS_DATADIR "/usr/local/share/cardsmith"
#endif

static const char *const level_names[CS_CA_LEVEL_COUNT] = {
	"none",
	"software",
	"hardware-enrolled",
	"hardware-attested",
};

const char *
cs_ca_level_name(enum cs_ca_level level)
{
	if ((unsigned int)level >= CS_CA_LEVEL_COUNT)
		return "none";
	return level_names[level];
}

enum cs_err
cs_ca_level_parse(const char *name, enum cs_ca_level *out)
{
	size_t i;

	*out = CS_CA_LEVEL_NONE;
	if (name == NULL)
		return CS_ERR_ARG;
	for (i = 1; i < CS_CA_LEVEL_COUNT; i++)
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum cs_ca_level)i;
			return CS_OK;
		}
	return CS_ERR_ARG;
}

/* --- file helpers --- */

enum cs_err
csa_path(struct cs_ctx *ctx, char *dst, size_t cap, const char *dir,
    const char *name)
{
	int n = snprintf(dst, cap, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= cap)
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "%s: path too long", name);
	return CS_OK;
}

enum cs_err
csa_read_file(struct cs_ctx *ctx, const char *path, size_t max, uint8_t **out,
    size_t *outlen)
{
	struct cs_buf b = CS_BUF_INIT(max);
	uint8_t chunk[8192];
	ssize_t n;
	int fd;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return cs_ctx_fail(ctx,
		    errno == ENOENT ? CS_ERR_NOT_FOUND : CS_ERR_IO, "%s: %s",
		    path, strerror(errno));
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((r = cs_buf_put(&b, chunk, (size_t)n)) != CS_OK) {
			r = cs_ctx_fail(ctx, r, "%s: larger than %zu bytes", path,
			    max);
			goto out;
		}
	}
	r = cs_buf_take(&b, out, outlen);
out:
	close(fd);
	cs_buf_release(&b);
	return r;
}

enum cs_err
csa_write_file(struct cs_ctx *ctx, const char *path, const void *p, size_t len,
    int mode, bool excl)
{
	char tmp[CSA_PATH_MAX];
	const uint8_t *q = p;
	struct stat st;
	ssize_t n;
	int fd = -1, k;
	enum cs_err r = CS_ERR_INTERNAL;

	if (excl && lstat(path, &st) == 0)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: already exists", path);
	k = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (k < 0 || (size_t)k >= sizeof(tmp))
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "%s: path too long", path);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp, strerror(errno));
	while (len > 0) {
		n = write(fd, q, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		q += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
		r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (excl ? link(tmp, path) != 0 : rename(tmp, path) != 0) {
		r = cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	r = CS_OK;
out:
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	return r;
}

static bool
is_der(const uint8_t *p, size_t len)
{
	return len >= 2 && p[0] == 0x30;
}

enum cs_err
csa_cert_decode(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, X509 **out)
{
	const unsigned char *q = p;
	BIO *b = NULL;
	X509 *x = NULL;

	*out = NULL;
	if (p == NULL || len == 0 || len > CS_CA_INPUT_MAX)
		return cs_ctx_fail(ctx, CS_ERR_MALFORMED, "%s: bad length %zu",
		    what, len);
	if (is_der(p, len)) {
		x = d2i_X509(NULL, &q, (long)len);
		if (x == NULL || q != p + len) {
			X509_free(x);
			return cs_ctx_fail_crypto(ctx, CS_ERR_MALFORMED,
			    "%s: not a DER certificate", what);
		}
	} else {
		if ((b = BIO_new_mem_buf(p, (int)len)) == NULL)
			return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
		if (x == NULL)
			return cs_ctx_fail_crypto(ctx, CS_ERR_MALFORMED,
			    "%s: no PEM certificate", what);
	}
	ERR_clear_error();
	*out = x;
	return CS_OK;
}

enum cs_err
csa_certs_decode(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *sk = NULL;
	BIO *b = NULL;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
	if (p != NULL && is_der(p, len)) {
		if ((r = csa_cert_decode(ctx, what, p, len, &x)) != CS_OK)
			goto out;
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
			goto out;
		}
	} else {
		if (p == NULL || len == 0 || len > CSA_FILE_MAX ||
		    (b = BIO_new_mem_buf(p, (int)len)) == NULL) {
			r = cs_ctx_fail(ctx, CS_ERR_MALFORMED, "%s: empty", what);
			goto out;
		}
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
			if (!sk_X509_push(sk, x)) {
				X509_free(x);
				r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s",
				    what);
				goto out;
			}
		ERR_clear_error();
	}
	if (sk_X509_num(sk) == 0) {
		r = cs_ctx_fail(ctx, CS_ERR_MALFORMED, "%s: no certificate", what);
		goto out;
	}
	*out = sk;
	sk = NULL;
	r = CS_OK;
out:
	BIO_free(b);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

void
csa_name_line(const X509_NAME *n, char *dst, size_t cap)
{
	BIO *b;
	int len;

	if (cap == 0)
		return;
	dst[0] = '\0';
	if (n == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		len = BIO_read(b, dst, (int)(cap - 1));
		dst[len > 0 ? len : 0] = '\0';
	}
	BIO_free(b);
}

void
csa_serial_hex(const ASN1_INTEGER *s, char *dst, size_t cap)
{
	BIGNUM *bn;
	char *h;

	if (cap == 0)
		return;
	dst[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(s, NULL)) == NULL)
		return;
	if ((h = BN_bn2hex(bn)) != NULL) {
		snprintf(dst, cap, "%s", h);
		OPENSSL_free(h);
	}
	BN_free(bn);
}

int64_t
csa_asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/*
 * "CN=a,O=b" (RFC 4514 order, '\' escapes) or OpenSSL's "/CN=a/O=b".
 * Printable names only: this is for profile templates and CA subjects.
 */
enum cs_err
csa_name_parse(struct cs_ctx *ctx, const char *s, X509_NAME **out)
{
	X509_NAME *n = NULL;
	char part[512], *eq;
	char sep = ',';
	size_t i = 0, k;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (s == NULL || *s == '\0')
		return cs_ctx_fail(ctx, CS_ERR_ARG, "empty subject");
	if (*s == '/') {
		sep = '/';
		i = 1;
	}
	if ((n = X509_NAME_new()) == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "subject");
	while (s[i] != '\0') {
		k = 0;
		while (s[i] != '\0' && s[i] != sep) {
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
			if (k + 1 >= sizeof(part)) {
				r = cs_ctx_fail(ctx, CS_ERR_LIMIT,
				    "subject: component too long");
				goto out;
			}
			part[k++] = s[i++];
		}
		part[k] = '\0';
		if (s[i] == sep)
			i++;
		if (k == 0)
			continue;
		if ((eq = strchr(part, '=')) == NULL || eq == part ||
		    eq[1] == '\0') {
			r = cs_ctx_fail(ctx, CS_ERR_ARG,
			    "subject: '%s' is not TYPE=value", part);
			goto out;
		}
		*eq = '\0';
		while (part[0] == ' ')
			memmove(part, part + 1, strlen(part));
		if (!X509_NAME_add_entry_by_txt(n, part, MBSTRING_UTF8,
		        (const unsigned char *)eq + 1, -1, -1, 0)) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_ARG,
			    "subject: attribute '%s'", part);
			goto out;
		}
	}
	if (X509_NAME_entry_count(n) == 0) {
		r = cs_ctx_fail(ctx, CS_ERR_ARG, "empty subject");
		goto out;
	}
	*out = n;
	n = NULL;
	r = CS_OK;
out:
	X509_NAME_free(n);
	return r;
}

bool
csa_has_policy(const X509 *x, const char *oid, bool *anyp)
{
	CERTIFICATEPOLICIES *cp;
	POLICYINFO *pi;
	bool found = false;
	int i;

	if (anyp != NULL)
		*anyp = false;
	cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	if (cp == NULL)
		return false;
	for (i = 0; i < sk_POLICYINFO_num(cp); i++) {
		pi = sk_POLICYINFO_value(cp, i);
		if (OBJ_obj2nid(pi->policyid) == NID_any_policy && anyp != NULL)
			*anyp = true;
		if (oid != NULL && csa_oid_obj_eq(pi->policyid, oid))
			found = true;
	}
	CERTIFICATEPOLICIES_free(cp);
	return found;
}

uint32_t
csa_key_alg(const EVP_PKEY *k, unsigned int *bits)
{
	char grp[64];
	size_t glen = 0;
	int b = EVP_PKEY_get_bits(k);

	*bits = b > 0 ? (unsigned int)b : 0;
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		if (b == 2048)
			return CS_CA_ALG_RSA2048;
		if (b == 3072)
			return CS_CA_ALG_RSA3072;
		if (b == 4096)
			return CS_CA_ALG_RSA4096;
		return 0;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(k, grp, sizeof(grp), &glen) != 1)
			return 0;
		if (strcmp(grp, "prime256v1") == 0)
			return CS_CA_ALG_P256;
		if (strcmp(grp, "secp384r1") == 0)
			return CS_CA_ALG_P384;
		return 0;
	case EVP_PKEY_ED25519:
		return CS_CA_ALG_ED25519;
	default:
		return 0;
	}
}

/* --- level map: SEQUENCE OF SEQUENCE { UTF8String, OBJECT IDENTIFIER } --- */

/* Append a UTF8String, INTEGER or OBJECT IDENTIFIER to seq; 1 on success. */
static int
push_utf8(STACK_OF(ASN1_TYPE) * seq, const char *v)
{
	ASN1_UTF8STRING *s = ASN1_UTF8STRING_new();
	ASN1_TYPE *t = ASN1_TYPE_new();

	if (s == NULL || t == NULL || !ASN1_STRING_set(s, v, -1)) {
		ASN1_UTF8STRING_free(s);
		ASN1_TYPE_free(t);
		return 0;
	}
	ASN1_TYPE_set(t, V_ASN1_UTF8STRING, s);
	if (!sk_ASN1_TYPE_push(seq, t)) {
		ASN1_TYPE_free(t);
		return 0;
	}
	return 1;
}

static int
push_int(STACK_OF(ASN1_TYPE) * seq, long v)
{
	ASN1_INTEGER *i = ASN1_INTEGER_new();
	ASN1_TYPE *t = ASN1_TYPE_new();

	if (i == NULL || t == NULL || !ASN1_INTEGER_set(i, v)) {
		ASN1_INTEGER_free(i);
		ASN1_TYPE_free(t);
		return 0;
	}
	ASN1_TYPE_set(t, V_ASN1_INTEGER, i);
	if (!sk_ASN1_TYPE_push(seq, t)) {
		ASN1_TYPE_free(t);
		return 0;
	}
	return 1;
}

static int
push_oid(STACK_OF(ASN1_TYPE) * seq, const char *oid)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_TYPE *t = ASN1_TYPE_new();

	if (o == NULL || t == NULL) {
		ASN1_OBJECT_free(o);
		ASN1_TYPE_free(t);
		return 0;
	}
	ASN1_TYPE_set(t, V_ASN1_OBJECT, o);
	if (!sk_ASN1_TYPE_push(seq, t)) {
		ASN1_TYPE_free(t);
		return 0;
	}
	return 1;
}

/*
 * One level map entry: SEQUENCE { UTF8String name, OBJECT IDENTIFIER }
 * for a level; a sub-level adds { UTF8String parent, INTEGER min PIN
 * policy, INTEGER min touch policy } (readers that know only levels skip
 * entries that do not have exactly two elements).
 */
static int
push_entry(STACK_OF(ASN1_TYPE) * outer, const char *name, const char *oid,
    const struct cs_ca_sublevel *sub)
{
	STACK_OF(ASN1_TYPE) *inner = NULL;
	ASN1_TYPE *seq = NULL;
	ASN1_STRING *der = NULL;
	unsigned char *p = NULL;
	int len, ok = 0;

	if ((inner = sk_ASN1_TYPE_new_null()) == NULL ||
	    !push_utf8(inner, name) || !push_oid(inner, oid) ||
	    (sub != NULL &&
	        (!push_utf8(inner, cs_ca_level_name(sub->parent)) ||
	            !push_int(inner, sub->min_pin_policy) ||
	            !push_int(inner, sub->min_touch_policy))))
		goto out;
	if ((len = i2d_ASN1_SEQUENCE_ANY(inner, &p)) <= 0 ||
	    (der = ASN1_STRING_new()) == NULL ||
	    !ASN1_STRING_set(der, p, len) || (seq = ASN1_TYPE_new()) == NULL)
		goto out;
	ASN1_TYPE_set(seq, V_ASN1_SEQUENCE, der);
	der = NULL;
	if (!sk_ASN1_TYPE_push(outer, seq))
		goto out;
	seq = NULL;
	ok = 1;
out:
	OPENSSL_free(p);
	ASN1_STRING_free(der);
	ASN1_TYPE_free(seq);
	sk_ASN1_TYPE_pop_free(inner, ASN1_TYPE_free);
	return ok;
}

enum cs_err
csa_levelmap_ext(struct cs_ctx *ctx, const struct cs_ca *ca,
    X509_EXTENSION **out)
{
	STACK_OF(ASN1_TYPE) *outer = NULL;
	ASN1_OCTET_STRING *os = NULL;
	ASN1_OBJECT *id = NULL;
	unsigned char *p = NULL;
	char oid[CS_CA_OID_MAX];
	int len, i;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	snprintf(oid, sizeof(oid), "%.118s%s", ca->arc, CSA_SUFFIX_LEVELMAP);
	if ((outer = sk_ASN1_TYPE_new_null()) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "level map");
		goto out;
	}
	for (i = CS_CA_LEVEL_COUNT - 1; i >= 1; i--)
		if (!push_entry(outer, level_names[i], ca->oid[i], NULL)) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "level map");
			goto out;
		}
	for (i = 0; (size_t)i < ca->nsubs; i++)
		if (!push_entry(outer, ca->subs[i].name, ca->subs[i].oid,
		        &ca->subs[i])) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "level map");
			goto out;
		}
	if ((len = i2d_ASN1_SEQUENCE_ANY(outer, &p)) <= 0 ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, p, len) ||
	    (id = OBJ_txt2obj(oid, 1)) == NULL ||
	    (*out = X509_EXTENSION_create_by_OBJ(NULL, id, 0, os)) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "level map");
		goto out;
	}
	r = CS_OK;
out:
	OPENSSL_free(p);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(id);
	sk_ASN1_TYPE_pop_free(outer, ASN1_TYPE_free);
	return r;
}

/* Copy a UTF8String element into dst; false if it is not one or too long. */
static bool
entry_utf8(const STACK_OF(ASN1_TYPE) * inner, int i, char *dst, size_t cap)
{
	const ASN1_TYPE *a = sk_ASN1_TYPE_value(inner, i);
	int n;

	if (a == NULL || a->type != V_ASN1_UTF8STRING ||
	    (n = ASN1_STRING_length(a->value.utf8string)) < 0 ||
	    (size_t)n >= cap)
		return false;
	memcpy(dst, ASN1_STRING_get0_data(a->value.utf8string), (size_t)n);
	dst[n] = '\0';
	return strlen(dst) == (size_t)n;
}

static bool
entry_oid(const STACK_OF(ASN1_TYPE) * inner, int i, char *dst, size_t cap)
{
	const ASN1_TYPE *b = sk_ASN1_TYPE_value(inner, i);

	return b != NULL && b->type == V_ASN1_OBJECT &&
	    OBJ_obj2txt(dst, (int)cap, b->value.object, 1) > 0 &&
	    strlen(dst) < cap - 1;
}

static bool
entry_small(const STACK_OF(ASN1_TYPE) * inner, int i, uint8_t *v)
{
	const ASN1_TYPE *c = sk_ASN1_TYPE_value(inner, i);
	long l;

	if (c == NULL || c->type != V_ASN1_INTEGER ||
	    (l = ASN1_INTEGER_get(c->value.integer)) < 0 || l > 255)
		return false;
	*v = (uint8_t)l;
	return true;
}

/*
 * One entry of a level map into m: a level (exactly once each, its OID
 * the one the arc gives it) or a sub-level (name and OID unique, parent
 * a level). False for anything else: the map is then not read at all.
 */
static bool
map_entry(const char *arc, const STACK_OF(ASN1_TYPE) * inner,
    struct csa_levelmap *m, bool seen[CS_CA_LEVEL_COUNT])
{
	static const char *const suffix[CS_CA_LEVEL_COUNT] = { "",
		CSA_SUFFIX_SOFTWARE, CSA_SUFFIX_ENROLLED, CSA_SUFFIX_ATTESTED };
	struct cs_ca_sublevel s;
	char name[64], oid[CS_CA_OID_MAX], bound[CS_CA_OID_MAX];
	enum cs_ca_level lv;
	size_t k;
	int n;

	if (sk_ASN1_TYPE_num(inner) == 2) {
		if (!entry_utf8(inner, 0, name, sizeof(name)) ||
		    !entry_oid(inner, 1, oid, sizeof(oid)) ||
		    cs_ca_level_parse(name, &lv) != CS_OK || seen[lv])
			return false;
		n = snprintf(bound, sizeof(bound), "%s%s", arc, suffix[lv]);
		if (n < 0 || (size_t)n >= sizeof(bound) ||
		    strcmp(oid, bound) != 0)
			return false;
		seen[lv] = true;
		snprintf(m->oids[lv], CS_CA_OID_MAX, "%s", oid);
		return true;
	}
	memset(&s, 0, sizeof(s));
	if (sk_ASN1_TYPE_num(inner) != 5 ||
	    !entry_utf8(inner, 0, s.name, sizeof(s.name)) ||
	    !csa_sublevel_name_ok(s.name) ||
	    !entry_oid(inner, 1, s.oid, sizeof(s.oid)) ||
	    !entry_utf8(inner, 2, name, sizeof(name)) ||
	    cs_ca_level_parse(name, &s.parent) != CS_OK ||
	    !entry_small(inner, 3, &s.min_pin_policy) ||
	    !entry_small(inner, 4, &s.min_touch_policy) ||
	    m->nsubs >= CS_CA_SUBLEVEL_MAX)
		return false;
	for (k = 0; k < m->nsubs; k++)
		if (strcmp(m->subs[k].name, s.name) == 0 ||
		    strcmp(m->subs[k].oid, s.oid) == 0)
			return false;
	m->subs[m->nsubs++] = s;
	return true;
}

/* Extension e as the level map of arc; false if it is not a valid one. */
static bool
map_parse(X509_EXTENSION *e, const char *arc, struct csa_levelmap *m)
{
	STACK_OF(ASN1_TYPE) *outer = NULL, *inner = NULL;
	const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(e);
	const unsigned char *p = ASN1_STRING_get0_data(os), *q;
	const ASN1_TYPE *t;
	bool seen[CS_CA_LEVEL_COUNT] = { false };
	bool ok = false;
	size_t k;
	int i, lv, len = ASN1_STRING_length(os);

	memset(m, 0, sizeof(*m));
	snprintf(m->arc, sizeof(m->arc), "%s", arc);
	if (p == NULL || len <= 0 ||
	    (outer = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len)) == NULL ||
	    p != ASN1_STRING_get0_data(os) + len)
		goto out;
	for (i = 0; i < sk_ASN1_TYPE_num(outer); i++) {
		t = sk_ASN1_TYPE_value(outer, i);
		if (t->type != V_ASN1_SEQUENCE)
			goto out;
		q = ASN1_STRING_get0_data(t->value.sequence);
		inner = d2i_ASN1_SEQUENCE_ANY(NULL, &q,
		    ASN1_STRING_length(t->value.sequence));
		if (inner == NULL ||
		    q != ASN1_STRING_get0_data(t->value.sequence) +
		            ASN1_STRING_length(t->value.sequence) ||
		    !map_entry(arc, inner, m, seen))
			goto out;
		sk_ASN1_TYPE_pop_free(inner, ASN1_TYPE_free);
		inner = NULL;
	}
	for (lv = CS_CA_LEVEL_SOFTWARE; lv < CS_CA_LEVEL_COUNT; lv++)
		if (!seen[lv])
			goto out;
	/* A sub-level never reuses a level's OID. */
	for (k = 0; k < m->nsubs; k++)
		for (lv = CS_CA_LEVEL_SOFTWARE; lv < CS_CA_LEVEL_COUNT; lv++)
			if (strcmp(m->subs[k].oid, m->oids[lv]) == 0)
				goto out;
	ok = true;
out:
	sk_ASN1_TYPE_pop_free(inner, ASN1_TYPE_free);
	sk_ASN1_TYPE_pop_free(outer, ASN1_TYPE_free);
	if (!ok)
		memset(m, 0, sizeof(*m));
	return ok;
}

/*
 * The level map is the extension <arc>.2.1 that names its own arc: its
 * level OIDs must be <arc>.1.3, .1.2 and .1.1 (ca/README.md "OIDs"), so
 * a map can only ever speak for the arc of its extension OID. Extensions
 * that merely end in .2.1 but are no such map are someone else's and
 * ignored; two valid maps in one certificate are ambiguous: none.
 */
bool
csa_levelmap_get(const X509 *x, struct csa_levelmap *m)
{
	struct csa_levelmap one;
	X509_EXTENSION *e;
	char id[CS_CA_OID_MAX];
	size_t idl, sl = strlen(CSA_SUFFIX_LEVELMAP);
	int i, n = X509_get_ext_count(x), found = 0;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < n; i++) {
		e = X509_get_ext(x, i);
		if (OBJ_obj2txt(id, sizeof(id), X509_EXTENSION_get_object(e),
		        1) <= 0 ||
		    (idl = strlen(id)) >= sizeof(id) - 1 || idl <= sl ||
		    strcmp(id + idl - sl, CSA_SUFFIX_LEVELMAP) != 0)
			continue;
		id[idl - sl] = '\0'; /* the arc: at least two arcs remain */
		if (strchr(id, '.') == NULL || !map_parse(e, id, &one))
			continue;
		if (found++ == 0)
			*m = one;
	}
	ERR_clear_error();
	if (found != 1) {
		memset(m, 0, sizeof(*m));
		return false;
	}
	return true;
}

bool
csa_levelmap_read(const X509 *x, char oids[][CS_CA_OID_MAX])
{
	struct csa_levelmap m;
	int lv;

	if (!csa_levelmap_get(x, &m))
		return false;
	for (lv = CS_CA_LEVEL_SOFTWARE; lv < CS_CA_LEVEL_COUNT; lv++)
		snprintf(oids[lv], CS_CA_OID_MAX, "%s", m.oids[lv]);
	return true;
}

void
csa_levelmap_subs(const X509 *x, struct cs_ca_sublevel *subs, size_t cap,
    size_t *n)
{
	struct csa_levelmap m;
	size_t k;

	*n = 0;
	if (!csa_levelmap_get(x, &m))
		return;
	for (k = 0; k < m.nsubs && k < cap; k++)
		subs[k] = m.subs[k];
	*n = k;
}

/* certificatePolicies with the comma-separated OIDs, no qualifiers. */
enum cs_err
csa_add_policies(struct cs_ctx *ctx, X509 *x, const char *list)
{
	CERTIFICATEPOLICIES *cp = NULL;
	POLICYINFO *pi = NULL;
	char buf[2048], *it, *save = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (strlen(list) >= sizeof(buf))
		return cs_ctx_fail(ctx, CS_ERR_LIMIT, "policy list too long");
	snprintf(buf, sizeof(buf), "%s", list);
	if ((cp = sk_POLICYINFO_new_null()) == NULL)
		goto fail;
	for (it = strtok_r(buf, ",", &save); it != NULL;
	     it = strtok_r(NULL, ",", &save)) {
		if ((pi = POLICYINFO_new()) == NULL)
			goto fail;
		ASN1_OBJECT_free(pi->policyid);
		if ((pi->policyid = OBJ_txt2obj(it, 1)) == NULL) {
			r = cs_ctx_fail_crypto(ctx, CS_ERR_ARG, "policy '%.64s'",
			    it);
			goto out;
		}
		if (!sk_POLICYINFO_push(cp, pi))
			goto fail;
		pi = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_certificate_policies, cp, 0,
	        X509V3_ADD_REPLACE) != 1)
		goto fail;
	r = CS_OK;
	goto out;
fail:
	r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "certificatePolicies");
out:
	POLICYINFO_free(pi);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return r;
}

/* --- keys --- */

static enum cs_err
gen_key(struct cs_ctx *ctx, enum cs_ca_key_type type, EVP_PKEY **out)
{
	*out = NULL;
	switch (type) {
	case CS_CA_KEY_P256:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case CS_CA_KEY_P384:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case CS_CA_KEY_RSA2048:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case CS_CA_KEY_RSA3072:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case CS_CA_KEY_RSA4096:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	default:
		return cs_ctx_fail(ctx, CS_ERR_ARG, "unknown CA key type");
	}
	if (*out == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "CA key generation");
	return CS_OK;
}

static enum cs_err
write_key(struct cs_ctx *ctx, const char *dir, const char *name, EVP_PKEY *k,
    const char *pass, size_t passlen)
{
	char path[CSA_PATH_MAX];
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *sig = NULL;
	BIO *b = NULL;
	BUF_MEM *m;
	enum cs_err r = CS_ERR_INTERNAL;

	if (passlen == 0 || passlen > INT_MAX)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "CA passphrase is empty");
	if ((r = csa_path(ctx, path, sizeof(path), dir, name)) != CS_OK)
		return r;
	/* PBES2 with scrypt: random 16-byte salt and IV (RFC 7914 sec. 7). */
	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    (p8 = EVP_PKEY2PKCS8(k)) == NULL ||
	    (pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL,
	         KEY_SALT_LEN, NULL, KEY_SCRYPT_N, KEY_SCRYPT_R,
	         KEY_SCRYPT_P)) == NULL ||
	    (sig = PKCS8_set0_pbe(pass, (int)passlen, p8, pbe)) == NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "%s: encrypt key", name);
		goto out;
	}
	pbe = NULL; /* owned by sig */
	if (!PEM_write_bio_PKCS8(b, sig)) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "%s: encode key", name);
		goto out;
	}
	BIO_get_mem_ptr(b, &m);
	r = csa_write_file(ctx, path, m->data, m->length, 0600, true);
out:
	X509_SIG_free(sig);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8);
	BIO_free(b);
	return r;
}

static enum cs_err
write_cert(struct cs_ctx *ctx, const char *dir, const char *name, X509 *x)
{
	char path[CSA_PATH_MAX];
	BIO *b = NULL;
	BUF_MEM *m;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_path(ctx, path, sizeof(path), dir, name)) != CS_OK)
		return r;
	if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(b, x)) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "%s", name);
		goto out;
	}
	BIO_get_mem_ptr(b, &m);
	r = csa_write_file(ctx, path, m->data, m->length, 0600, true);
out:
	BIO_free(b);
	return r;
}

static enum cs_err
add_ext(struct cs_ctx *ctx, X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *e;

	e = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	if (e == NULL || !X509_add_ext(x, e, -1)) {
		X509_EXTENSION_free(e);
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "extension %s = %s",
		    OBJ_nid2sn(nid), value);
	}
	X509_EXTENSION_free(e);
	return CS_OK;
}

static enum cs_err
rand_serial(struct cs_ctx *ctx, X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	enum cs_err r = CS_OK;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "serial");
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "serial");
	BN_free(bn);
	return r;
}

static const EVP_MD *
md_for(const EVP_PKEY *k)
{
	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(k) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

/* CA certificate for key k with subject, signed by issuer (NULL: self). */
static enum cs_err
make_ca_cert(struct cs_ca *ca, EVP_PKEY *k, const char *subject,
    unsigned int days, X509 *issuer, EVP_PKEY *ikey, const char *policies,
    int pathlen, X509 **out)
{
	struct cs_ctx *ctx = ca->ctx;
	X509V3_CTX v3;
	X509_NAME *name = NULL;
	X509_EXTENSION *lm = NULL;
	X509 *x = NULL;
	char bc[64];
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = csa_name_parse(ctx, subject, &name)) != CS_OK)
		goto out;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x,
	        issuer != NULL ? X509_get_subject_name(issuer) : name) ||
	    !X509_set_pubkey(x, k) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -300) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ==
	        NULL) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "CA certificate");
		goto out;
	}
	if (issuer != NULL &&
	    ASN1_TIME_compare(X509_get0_notAfter(x),
	        X509_get0_notAfter(issuer)) > 0 &&
	    !X509_set1_notAfter(x, X509_get0_notAfter(issuer))) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "CA certificate");
		goto out;
	}
	if ((r = rand_serial(ctx, x)) != CS_OK)
		goto out;
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (pathlen >= 0)
		snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d",
		    pathlen);
	else
		snprintf(bc, sizeof(bc), "critical,CA:TRUE");
	if ((r = add_ext(ctx, x, &v3, NID_basic_constraints, bc)) != CS_OK ||
	    (r = add_ext(ctx, x, &v3, NID_key_usage,
	         "critical,keyCertSign,cRLSign")) != CS_OK ||
	    (r = add_ext(ctx, x, &v3, NID_subject_key_identifier, "hash")) !=
	        CS_OK ||
	    (issuer != NULL &&
	        (r = add_ext(ctx, x, &v3, NID_authority_key_identifier,
	             "keyid:always")) != CS_OK) ||
	    (r = csa_add_policies(ctx, x, policies)) != CS_OK ||
	    (r = csa_levelmap_ext(ctx, ca, &lm)) != CS_OK)
		goto out;
	if (!X509_add_ext(x, lm, -1) ||
	    X509_sign(x, ikey != NULL ? ikey : k,
	        md_for(ikey != NULL ? ikey : k)) <= 0) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "sign CA certificate");
		goto out;
	}
	*out = x;
	x = NULL;
	r = CS_OK;
out:
	X509_EXTENSION_free(lm);
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

/*
 * The default arc: Microsoft's GUID-based arc for unregistered use,
 * 1.2.840.113556.1.8000.2554, plus a fresh random (RFC 4122 version 4)
 * UUID aaaabbbb-cccc-dddd-eeee-ffffffgggggg as .A.B.C.D.E.F.G: the five
 * 16-bit groups, then the two 24-bit ones, each in decimal (the
 * oid-base.com entry for the arc; Microsoft's oidgen script). Every arc is
 * below 2^24, so every common parser reads it, and 122 random bits keep
 * CAs apart without a registration. A 2.25.<UUID> arc (X.667) puts one
 * 128-bit arc in every OID, which Go and Debian 12's ykman cannot read.
 */
#define ARC_GUID_BASE "1.2.840.113556.1.8000.2554"

static enum cs_err
new_arc(struct cs_ctx *ctx, char *dst, size_t cap)
{
	unsigned char u[16];
	unsigned long g[7];
	size_t i;
	int n;

	if (RAND_bytes(u, sizeof(u)) != 1)
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "arc");
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* variant 10 */
	for (i = 0; i < 5; i++)
		g[i] = (unsigned long)u[2 * i] << 8 | u[2 * i + 1];
	g[5] = (unsigned long)u[10] << 16 | (unsigned long)u[11] << 8 | u[12];
	g[6] = (unsigned long)u[13] << 16 | (unsigned long)u[14] << 8 | u[15];
	n = snprintf(dst, cap, ARC_GUID_BASE ".%lu.%lu.%lu.%lu.%lu.%lu.%lu",
	    g[0], g[1], g[2], g[3], g[4], g[5], g[6]);
	if (n < 0 || (size_t)n >= cap)
		return cs_ctx_fail(ctx, CS_ERR_INTERNAL, "arc");
	return CS_OK;
}

/* The arc as given or read (canonical into ca->arc), room left for suffixes. */
static bool
set_arc(struct cs_ca *ca, const char *s)
{
	return csa_oid_parse(s, CSA_OID_LONG_ARCS, ca->arc, sizeof(ca->arc)) ==
	    CS_OK &&
	    strlen(ca->arc) < CS_CA_OID_MAX - 8;
}

/*
 * Every OID the CA writes: the level OIDs, the sub-level and extra policy
 * OIDs (certificatePolicies and the level map of the CA certificates,
 * leaves) and the level map / marker extension OIDs. If one exceeds the
 * portable limits, copy it to oid, say what it is in *what, return true.
 */
static bool
find_long_oid(const struct cs_ca *ca, char *oid, size_t cap, const char **what)
{
	static const char *const ext[] = { "", CSA_SUFFIX_LEVELMAP,
		CSA_SUFFIX_MARKER };
	static const char *const level_what[CS_CA_LEVEL_COUNT] = { "",
		"software level", "hardware-enrolled level",
		"hardware-attested level" };
	static const char *const ext_what[] = { "policy arc",
		"level map extension", "marker extension" };
	const char *c;
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(*ext); i++) {
		snprintf(oid, cap, "%.118s%s", ca->arc, ext[i]);
		*what = ext_what[i];
		if (csa_oid_parse(oid, 0, NULL, 0) == CS_ERR_LIMIT)
			return true;
	}
	for (i = 0; i < CS_CA_LEVEL_COUNT + ca->nsubs + ca->nextra; i++) {
		if (i < CS_CA_LEVEL_COUNT) {
			c = ca->oid[i];
			*what = level_what[i];
		} else if (i < CS_CA_LEVEL_COUNT + ca->nsubs) {
			c = ca->subs[i - CS_CA_LEVEL_COUNT].oid;
			*what = "sub-level";
		} else {
			c = ca->extra[i - CS_CA_LEVEL_COUNT - ca->nsubs].oid;
			*what = "extra policy";
		}
		if (c[0] != '\0' &&
		    csa_oid_parse(c, 0, NULL, 0) == CS_ERR_LIMIT) {
			snprintf(oid, cap, "%s", c);
			return true;
		}
	}
	return false;
}

/* Refuse long OIDs unless allowed (init, import). */
static enum cs_err
check_oids(struct cs_ca *ca, bool allow)
{
	char oid[CS_CA_OID_MAX];
	const char *what, *why = "has an arc of 2^28 or more";
	ASN1_OBJECT *o;

	ca->oid_arcs = allow ? CS_CA_OID_ARCS_ALLOWED : CS_CA_OID_ARCS_SHORT;
	if (allow || !find_long_oid(ca, oid, sizeof(oid), &what))
		return CS_OK;
	if ((o = OBJ_txt2obj(oid, 1)) != NULL)
		why = csa_oid_long_reason((size_t)OBJ_length(o));
	ASN1_OBJECT_free(o);
	ERR_clear_error();
	return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
	    "OID %s (%s) %s: Go's crypto/x509 and Debian 12's python3-cryptography "
	    "(ykman) cannot parse certificates carrying it; use the default "
	    "arc or your organisation's own (--arc), or "
	    "--allow-long-oid-arcs",
	    oid, what, why);
}

enum cs_ca_oid_arcs
cs_ca_oid_arcs(const struct cs_ca *ca, const char **warning)
{
	static const char allowed[] =
	    "long OID arcs allowed: a certificate with an OID arc of 2^31 or "
	    "more fails to parse in Go's crypto/x509 (Traefik, Caddy and "
	    "other Go gateways), one with an arc of 2^28 or more in Debian "
	    "12's python3-cryptography 38 ('ykman piv info' fails), one over "
	    "63 octets in every python3-cryptography";
	static const char legacy[] =
	    "this CA's policy OIDs have arcs of 2^28 or more (e.g. a "
	    "2.25.<uuid> arc): Go's crypto/x509 (Traefik, Caddy) and Debian "
	    "12's python3-cryptography (ykman) cannot parse its certificates; "
	    "move to a new CA ('cardsmith ca init', default arc or --arc with "
	    "your organisation's arc), reissue and retire this one, or set "
	    "'allow_long_oid_arcs = yes' in [ca] of ca.cnf to keep it quietly";

	if (warning != NULL)
		*warning = ca->oid_arcs == CS_CA_OID_ARCS_ALLOWED ? allowed
		    : ca->oid_arcs == CS_CA_OID_ARCS_LEGACY       ? legacy
		                                                  : NULL;
	return ca->oid_arcs;
}

static void
set_oids(struct cs_ca *ca)
{
	snprintf(ca->oid[CS_CA_LEVEL_HW_ATTESTED], CS_CA_OID_MAX, "%.118s%s",
	    ca->arc, CSA_SUFFIX_ATTESTED);
	snprintf(ca->oid[CS_CA_LEVEL_HW_ENROLLED], CS_CA_OID_MAX, "%.118s%s",
	    ca->arc, CSA_SUFFIX_ENROLLED);
	snprintf(ca->oid[CS_CA_LEVEL_SOFTWARE], CS_CA_OID_MAX, "%.118s%s",
	    ca->arc, CSA_SUFFIX_SOFTWARE);
	ca->oid[CS_CA_LEVEL_NONE][0] = '\0';
}

static enum cs_err
ca_new(struct cs_ctx *ctx, const char *dir, struct cs_ca **out)
{
	struct cs_ca *ca;

	*out = NULL;
	if (dir == NULL || strlen(dir) + 64 >= CSA_PATH_MAX)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "CA directory: bad path");
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "CA");
	ca->ctx = ctx;
	snprintf(ca->dir, sizeof(ca->dir), "%s", dir);
	*out = ca;
	return CS_OK;
}

void
cs_ca_close(struct cs_ca *ca)
{
	if (ca == NULL)
		return;
	csa_pool_release(ca);
	cs_ca_lock(ca);
	X509_free(ca->root);
	X509_free(ca->signer_cert[0]);
	X509_free(ca->signer_cert[1]);
	sk_X509_pop_free(ca->extra_chain, X509_free);
	cs_trust_free(ca->trust);
	if (ca->store != NULL)
		ca->store->ops->close(ca->store);
	free(ca);
}

static enum cs_err
make_dir(struct cs_ctx *ctx, const char *dir)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (mkdir(dir, 0700) == 0)
		return CS_OK;
	if (errno != EEXIST)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", dir, strerror(errno));
	if ((d = opendir(dir)) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	if (n != 0)
		return cs_ctx_fail(ctx, CS_ERR_IO,
		    "%s: not empty (a CA exists there?)", dir);
	if (chmod(dir, 0700) != 0)
		return cs_ctx_fail(ctx, CS_ERR_IO, "%s: %s", dir, strerror(errno));
	return CS_OK;
}

static enum cs_err
write_config(struct cs_ca *ca, bool hw)
{
	char path[CSA_PATH_MAX], text[4096], v[CS_CA_OID_MAX + 64];
	size_t i;
	int n, k;
	enum cs_err r;

	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "ca.cnf")) !=
	    CS_OK)
		return r;
	n = snprintf(text, sizeof(text),
	    "# cardsmith CA configuration (written by cardsmith ca init)\n"
	    "[ca]\narc = %s\nhardware_ca = %s\n"
	    "oid_hardware_attested = %s\noid_hardware_enrolled = %s\n"
	    "oid_software = %s\n"
	    "# OIDs beyond the portable limits (ca init --allow-long-oid-arcs)\n"
	    "allow_long_oid_arcs = %s\n",
	    ca->arc, hw ? "yes" : "no", ca->oid[CS_CA_LEVEL_HW_ATTESTED],
	    ca->oid[CS_CA_LEVEL_HW_ENROLLED], ca->oid[CS_CA_LEVEL_SOFTWARE],
	    ca->oid_arcs == CS_CA_OID_ARCS_SHORT ? "no" : "yes");
	/* Each extra OID with the level it stands for (assurance.c). */
	for (i = 0; i < ca->nextra && n >= 0 && (size_t)n < sizeof(text);
	     i++) {
		k = snprintf(text + n, sizeof(text) - (size_t)n, "%s%s=%s%s",
		    i == 0 ? "extra_policies = " : ",",
		    cs_ca_level_name(ca->extra[i].level), ca->extra[i].oid,
		    i + 1 == ca->nextra ? "\n" : "");
		n = k < 0 ? k : n + k;
	}
	/* Fixed at init: the CA certificates assert these OIDs. */
	if (n >= 0 && (size_t)n < sizeof(text) && ca->nsubs > 0)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
		    "\n# sub-levels of hardware-attested (fixed at ca init)\n"
		    "[sublevels]\n");
	for (i = 0; i < ca->nsubs && n >= 0 && (size_t)n < sizeof(text); i++) {
		csa_sublevel_text(&ca->subs[i], v, sizeof(v));
		k = snprintf(text + n, sizeof(text) - (size_t)n, "%s = %s\n",
		    ca->subs[i].name, v);
		n = k < 0 ? k : n + k;
	}
	if (n < 0 || (size_t)n >= sizeof(text))
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT, "ca.cnf too long");
	return csa_write_file(ca->ctx, path, text, (size_t)n, 0600, true);
}

static bool
file_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static enum cs_err
copy_file(struct cs_ctx *ctx, const char *src, const char *dst)
{
	uint8_t *data = NULL;
	size_t len = 0;
	enum cs_err r;

	if ((r = csa_read_file(ctx, src, CSA_FILE_MAX, &data, &len)) == CS_OK)
		r = csa_write_file(ctx, dst, data, len, 0600, false);
	cs_free(data);
	return r;
}

/*
 * The roots ca init copies must load as the CA will load them, with at
 * least one anchor: a file the trust store refuses (garbage, a device
 * certificate) would otherwise break every later attestation.
 */
static enum cs_err
check_roots(struct cs_ca *ca, const char *path)
{
	struct cs_trust *t = NULL;
	char why[CS_CA_REASON_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = cs_trust_new(ca->ctx, &t)) != CS_OK)
		goto out;
	if ((r = cs_trust_load_default(t, path)) != CS_OK) {
		snprintf(why, sizeof(why), "%s", cs_ctx_errmsg(ca->ctx));
		r = cs_ctx_fail(ca->ctx, r, "manufacturer roots: %s", why);
		goto out;
	}
	if (cs_trust_count(t, true) == 0) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
		    "manufacturer roots %s: no self-signed CA certificate "
		    "(trust anchor) in it", path);
		goto out;
	}
	r = CS_OK;
out:
	cs_trust_free(t);
	return r;
}

static enum cs_err
install_support(struct cs_ca *ca, const struct cs_ca_init_opts *o)
{
	/*
	 * Installed locations only: never the working directory, whose
	 * owner would then choose the manufacturer roots. Callers running
	 * from a source tree pass roots_path / profiles_dir.
	 */
	static const char *const roots[] = {
		CS_DATADIR "/yubico-piv-roots.pem",
	};
	static const char *const pdirs[] = {
		CS_DATADIR "/profiles",
	};
	char path[CSA_PATH_MAX], src[CSA_PATH_MAX];
	const char *rp = o->roots_path, *pd = o->profiles_dir;
	struct dirent *e;
	DIR *d;
	size_t i, n;
	enum cs_err r = CS_OK;

	for (i = 0; rp == NULL && i < sizeof(roots) / sizeof(*roots); i++)
		if (file_exists(roots[i]))
			rp = roots[i];
	for (i = 0; pd == NULL && i < sizeof(pdirs) / sizeof(*pdirs); i++)
		if (file_exists(pdirs[i]))
			pd = pdirs[i];
	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "trust")) !=
	        CS_OK ||
	    mkdir(path, 0700) != 0 ||
	    (r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "profiles")) !=
	        CS_OK ||
	    mkdir(path, 0700) != 0)
		return r != CS_OK ? r
		                  : cs_ctx_fail(ca->ctx, CS_ERR_IO, "%s: %s", path,
		                        strerror(errno));
	if (rp != NULL) {
		if ((r = check_roots(ca, rp)) != CS_OK ||
		    (r = csa_path(ca->ctx, path, sizeof(path), ca->dir,
		         "trust/yubico-piv-roots.pem")) != CS_OK ||
		    (r = copy_file(ca->ctx, rp, path)) != CS_OK)
			return r;
	} else
		cs_ctx_log(ca->ctx, CS_LOG_INFO,
		    "no manufacturer roots found; "
		    "add some with 'cardsmith ca trust add'");
	if (pd == NULL)
		return CS_OK;
	if ((d = opendir(pd)) == NULL) {
		/* Named by the caller: a typo must not give a CA without profiles. */
		if (o->profiles_dir != NULL)
			return cs_ctx_fail(ca->ctx, CS_ERR_IO,
			    "profiles %s: %s", pd, strerror(errno));
		return CS_OK;
	}
	while (r == CS_OK && (e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".cnf") != 0)
			continue;
		if (snprintf(src, sizeof(src), "%s/%s", pd, e->d_name) >=
		        (int)sizeof(src) ||
		    snprintf(path, sizeof(path), "%s/profiles/%s", ca->dir,
		        e->d_name) >= (int)sizeof(path))
			continue;
		r = copy_file(ca->ctx, src, path);
	}
	closedir(d);
	return r;
}

static enum cs_err
policy_list(struct cs_ca *ca, bool sw, bool hw, char *dst, size_t cap)
{
	size_t n, i;

	dst[0] = '\0';
	if (hw)
		snprintf(dst, cap, "%s,%s", ca->oid[CS_CA_LEVEL_HW_ATTESTED],
		    ca->oid[CS_CA_LEVEL_HW_ENROLLED]);
	/* Sub-levels are hardware-attested ones: the same CAs assert them. */
	for (i = 0; hw && i < ca->nsubs; i++) {
		n = strlen(dst);
		snprintf(dst + n, cap - n, ",%s", ca->subs[i].oid);
	}
	n = strlen(dst);
	if (sw)
		snprintf(dst + n, cap - n, "%s%s", n > 0 ? "," : "",
		    ca->oid[CS_CA_LEVEL_SOFTWARE]);
	for (i = 0; i < ca->nextra; i++) {
		n = strlen(dst);
		snprintf(dst + n, cap - n, ",%s", ca->extra[i].oid);
	}
	if (strlen(dst) + 1 >= cap)
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT, "policy list too long");
	return CS_OK;
}

/* Is oid taken by a level or an earlier sub-level? */
static bool
oid_taken(const struct cs_ca *ca, const char *oid, size_t nsubs)
{
	size_t i;

	for (i = 0; i < CS_CA_LEVEL_COUNT; i++)
		if (csa_oid_eq(ca->oid[i], oid))
			return true;
	for (i = 0; i < nsubs; i++)
		if (csa_oid_eq(ca->subs[i].oid, oid))
			return true;
	return false;
}

/* Add sub-level s as number nsubs + 1 (<arc>.1.1.<n> unless it has an OID). */
static enum cs_err
add_sublevel(struct cs_ca *ca, struct cs_ca_sublevel *s)
{
	char oid[CS_CA_OID_MAX];
	size_t i;

	if (ca->nsubs >= CS_CA_SUBLEVEL_MAX)
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
		    "more than %d sub-levels", CS_CA_SUBLEVEL_MAX);
	if (s->oid[0] == '\0')
		snprintf(s->oid, sizeof(s->oid), "%.119s%s.%zu", ca->arc,
		    CSA_SUFFIX_ATTESTED, ca->nsubs + 1);
	/* Compared as text from here on: the canonical spelling. */
	if (csa_oid_parse(s->oid, CSA_OID_LONG_ARCS | CSA_OID_POLICY, oid,
	        sizeof(oid)) != CS_OK)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "sub-level %s: OID '%.64s' is not an OID", s->name, s->oid);
	memcpy(s->oid, oid, sizeof(oid));
	for (i = 0; i < ca->nsubs; i++)
		if (strcmp(ca->subs[i].name, s->name) == 0 ||
		    (ca->subs[i].min_pin_policy == s->min_pin_policy &&
		        ca->subs[i].min_touch_policy == s->min_touch_policy))
			return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
			    "sub-level %s repeats the name or the minimums of "
			    "%s",
			    s->name, ca->subs[i].name);
	if (oid_taken(ca, s->oid, ca->nsubs))
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "sub-level %s: OID %s is already used", s->name, s->oid);
	ca->subs[ca->nsubs++] = *s;
	return CS_OK;
}

static enum cs_err
set_sublevels(struct cs_ca *ca, const char *const *specs)
{
	struct cs_ca_sublevel s;
	size_t i;
	enum cs_err r;

	for (i = 0; specs != NULL && specs[i] != NULL; i++)
		if ((r = csa_sublevel_parse(ca->ctx, specs[i], &s)) != CS_OK ||
		    (r = add_sublevel(ca, &s)) != CS_OK)
			return r;
	return CS_OK;
}

/*
 * Extra policy OIDs, "LEVEL=OID" comma separated; a bare OID stands for
 * hardware-attested (what --extra-policy OID meant before levels were
 * recorded). Each OID is recorded in ca.cnf with its level.
 */
static enum cs_err
set_extra(struct cs_ca *ca, const char *text, enum cs_err code)
{
	char buf[1024], *s, *save = NULL, *oid, canon[CS_CA_OID_MAX];
	enum cs_ca_level lv;
	size_t i;

	if (text == NULL || *text == '\0')
		return CS_OK;
	if (strlen(text) >= sizeof(buf))
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
		    "extra policies too long");
	snprintf(buf, sizeof(buf), "%s", text);
	for (s = strtok_r(buf, ",", &save); s != NULL;
	     s = strtok_r(NULL, ",", &save)) {
		while (*s == ' ')
			s++;
		lv = CS_CA_LEVEL_HW_ATTESTED;
		if ((oid = strchr(s, '=')) != NULL) {
			*oid++ = '\0';
			if (cs_ca_level_parse(s, &lv) != CS_OK)
				return cs_ctx_fail(ca->ctx, code,
				    "extra policy: '%.40s' is not a level", s);
		} else
			oid = s;
		if (csa_oid_parse(oid, CSA_OID_LONG_ARCS | CSA_OID_POLICY,
		        canon, sizeof(canon)) != CS_OK)
			return cs_ctx_fail(ca->ctx, code,
			    "extra policy '%.64s' is not a specific OID", oid);
		oid = canon;
		if (oid_taken(ca, oid, ca->nsubs))
			return cs_ctx_fail(ca->ctx, code,
			    "extra policy %s is already a level or sub-level "
			    "OID of this CA",
			    oid);
		for (i = 0; i < ca->nextra; i++)
			if (csa_oid_eq(ca->extra[i].oid, oid))
				return cs_ctx_fail(ca->ctx, code,
				    "extra policy %s given twice", oid);
		if (ca->nextra >= CSA_EXTRA_MAX)
			return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
			    "more than %d extra policies", CSA_EXTRA_MAX);
		snprintf(ca->extra[ca->nextra].oid, CS_CA_OID_MAX, "%s", oid);
		ca->extra[ca->nextra++].level = lv;
	}
	return CS_OK;
}

static enum cs_err
init_common(struct cs_ctx *ctx, const char *dir,
    const struct cs_ca_init_opts *o, struct cs_ca **out)
{
	struct cs_ca *ca = NULL;
	enum cs_err r;

	*out = NULL;
	if (o == NULL)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "CA init: no options");
	if ((r = ca_new(ctx, dir, &ca)) != CS_OK)
		return r;
	if (o->arc != NULL) {
		if (!set_arc(ca, o->arc)) {
			cs_ca_close(ca);
			return cs_ctx_fail(ctx, CS_ERR_ARG,
			    "arc '%.64s' is not an OID of at most %d characters",
			    o->arc, CS_CA_OID_MAX - 9);
		}
	} else if ((r = new_arc(ctx, ca->arc, sizeof(ca->arc))) != CS_OK) {
		cs_ca_close(ca);
		return r;
	}
	set_oids(ca);
	if ((r = set_sublevels(ca, o->sublevels)) != CS_OK ||
	    (r = set_extra(ca, o->extra_policies, CS_ERR_ARG)) != CS_OK ||
	    (r = check_oids(ca, (o->flags & CS_CA_INIT_LONG_OID_ARCS) != 0)) !=
	        CS_OK) {
		cs_ca_close(ca);
		return r;
	}
	if ((r = make_dir(ctx, dir)) != CS_OK) {
		cs_ca_close(ca);
		return r;
	}
	*out = ca;
	return CS_OK;
}

/* Fewest different bytes a new CA passphrase may use (5: see pass_strong). */
#define PASS_DISTINCT_MIN 5

/* Is p (n bytes) one unit repeated, e.g. "abcabcabcabc"? */
static bool
pass_periodic(const char *p, size_t n)
{
	size_t per, i;

	for (per = 1; per <= n / 2; per++) {
		for (i = per; i < n && p[i] == p[i - per]; i++)
			;
		if (i == n)
			return true;
	}
	return false;
}

/* Is p a run of consecutive characters ("abcdefghijkl", "345678901234")? */
static bool
pass_run(const char *p, size_t n)
{
	int d = 0, step;
	size_t i;

	for (i = 1; i < n; i++) {
		step = (unsigned char)p[i] - (unsigned char)p[i - 1];
		if (p[i - 1] == '9' && p[i] == '0')
			step = 1;
		else if (p[i - 1] == '0' && p[i] == '9')
			step = -1;
		if ((step != 1 && step != -1) || (d != 0 && step != d))
			return false;
		d = step;
	}
	return true;
}

/*
 * The floor ca init sets for a new CA passphrase (ca/README.md): it alone
 * protects the CA keys in any copy of the CA directory, where guessing is
 * offline and unlimited. Only the kind of the weakness is reported, never
 * the passphrase or its length.
 */
static enum cs_err
pass_strong(struct cs_ctx *ctx, const char *pass, size_t len)
{
	bool seen[256] = { false };
	size_t i, chars = 0, distinct = 0;
	const char *why = NULL;

	for (i = 0; i < len; i++) {
		/* UTF-8: count code points, not continuation bytes. */
		if (((unsigned char)pass[i] & 0xc0) != 0x80)
			chars++;
		if (!seen[(unsigned char)pass[i]]) {
			seen[(unsigned char)pass[i]] = true;
			distinct++;
		}
	}
	if (chars < CS_CA_PASS_MIN)
		return cs_ctx_fail(ctx, CS_ERR_POLICY,
		    "CA passphrase too short: at least %d characters are "
		    "needed, as it alone protects the CA keys in a copy of the "
		    "CA directory",
		    CS_CA_PASS_MIN);
	if (distinct == 1)
		why = "it repeats one character";
	else if (distinct < PASS_DISTINCT_MIN)
		why = "it uses fewer than 5 different characters";
	else if (pass_periodic(pass, len))
		why = "it repeats a short sequence";
	else if (pass_run(pass, len))
		why = "it is a run of consecutive characters";
	if (why != NULL)
		return cs_ctx_fail(ctx, CS_ERR_POLICY,
		    "CA passphrase too weak: %s; choose another, e.g. several "
		    "random words",
		    why);
	return CS_OK;
}

/* create: ca init makes the registry; every later open needs it there. */
static enum cs_err
open_store(struct cs_ca *ca, bool create)
{
	char path[CSA_PATH_MAX];
	enum cs_err r;

	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir,
	         "registry.db")) != CS_OK)
		return r;
	return csa_store_open_sqlite(ca->ctx, path, create, &ca->store);
}

enum cs_err
cs_ca_init(struct cs_ctx *ctx, const char *dir, const struct cs_ca_init_opts *o,
    const char *pass, size_t passlen, struct cs_ca **out)
{
	struct cs_ca *ca = NULL;
	EVP_PKEY *rk = NULL, *ik = NULL, *hk = NULL;
	char pol[2048];
	bool hw;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (pass == NULL || passlen == 0)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "CA passphrase is empty");
	if ((r = pass_strong(ctx, pass, passlen)) != CS_OK ||
	    (r = init_common(ctx, dir, o, &ca)) != CS_OK)
		return r;
	hw = (o->flags & CS_CA_INIT_HARDWARE_CA) != 0;
	if ((r = gen_key(ctx, o->key_type, &rk)) != CS_OK ||
	    (r = gen_key(ctx, o->key_type, &ik)) != CS_OK ||
	    (hw && (r = gen_key(ctx, o->key_type, &hk)) != CS_OK) ||
	    (r = policy_list(ca, true, true, pol,
	         sizeof(pol))) != CS_OK ||
	    (r = make_ca_cert(ca, rk,
	         o->root_subject != NULL ? o->root_subject
	                                 : "CN=cardsmith Root CA",
	         o->root_days ? o->root_days : 7300, NULL, NULL, pol, 1,
	         &ca->root)) != CS_OK ||
	    (r = policy_list(ca, true, !hw, pol,
	         sizeof(pol))) != CS_OK ||
	    (r = make_ca_cert(ca, ik,
	         o->issuing_subject != NULL ? o->issuing_subject
	                                    : "CN=cardsmith Issuing CA",
	         o->issuing_days ? o->issuing_days : 3650, ca->root, rk, pol, 0,
	         &ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK)
		goto out;
	if (hw &&
	    ((r = policy_list(ca, false, true, pol,
	          sizeof(pol))) != CS_OK ||
	        (r = make_ca_cert(ca, hk,
	             o->hw_issuing_subject != NULL
	                 ? o->hw_issuing_subject
	                 : "CN=cardsmith Hardware Issuing CA",
	             o->issuing_days ? o->issuing_days : 3650, ca->root, rk,
	             pol, 0, &ca->signer_cert[CSA_SIGNER_HW])) != CS_OK))
		goto out;
	if ((r = write_key(ctx, dir, "root.key.pem", rk, pass, passlen)) !=
	        CS_OK ||
	    (r = write_key(ctx, dir, "issuing.key.pem", ik, pass, passlen)) !=
	        CS_OK ||
	    (hw &&
	        (r = write_key(ctx, dir, "hw-issuing.key.pem", hk, pass,
	             passlen)) != CS_OK) ||
	    (r = write_cert(ctx, dir, "root.crt.pem", ca->root)) != CS_OK ||
	    (r = write_cert(ctx, dir, "issuing.crt.pem",
	         ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK ||
	    (hw &&
	        (r = write_cert(ctx, dir, "hw-issuing.crt.pem",
	             ca->signer_cert[CSA_SIGNER_HW])) != CS_OK) ||
	    (r = install_support(ca, o)) != CS_OK ||
	    (r = open_store(ca, true)) != CS_OK ||
	    (r = write_config(ca, hw)) != CS_OK)
		goto out;
	*out = ca;
	ca = NULL;
	r = CS_OK;
out:
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(hk);
	cs_ca_close(ca);
	return r;
}

struct pass_arg {
	const char *p;
	size_t len;
};

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	const struct pass_arg *a = u;

	(void)rwflag;
	if (a == NULL || a->p == NULL || size <= 0 || a->len > (size_t)size)
		return -1;
	memcpy(buf, a->p, a->len);
	return (int)a->len;
}

enum cs_err
csa_key_decode(struct cs_ctx *ctx, const char *what, const uint8_t *p,
    size_t len, const char *pass, size_t passlen, EVP_PKEY **out)
{
	struct pass_arg a = { pass, passlen };
	BIO *b;
	unsigned long e;

	*out = NULL;
	if ((b = BIO_new_mem_buf(p, (int)len)) == NULL)
		return cs_ctx_fail_crypto(ctx, CS_ERR_NOMEM, "%s", what);
	*out = PEM_read_bio_PrivateKey(b, NULL, pass_cb, &a);
	BIO_free(b);
	if (*out == NULL) {
		e = ERR_peek_last_error();
		ERR_clear_error();
		if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
		    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
			return cs_ctx_fail(ctx, CS_ERR_MALFORMED,
			    "%s: no PEM private key", what);
		return cs_ctx_fail(ctx, CS_ERR_AUTH,
		    "%s: cannot decrypt (wrong passphrase?)", what);
	}
	return CS_OK;
}

enum cs_err
cs_ca_import(struct cs_ctx *ctx, const char *dir,
    const struct cs_ca_init_opts *o, const uint8_t *key, size_t keylen,
    const uint8_t *cert, size_t certlen, const uint8_t *chain, size_t chainlen,
    const char *pass, size_t passlen, struct cs_ca **out)
{
	struct cs_ca *ca = NULL;
	STACK_OF(X509) *sk = NULL;
	EVP_PKEY *k = NULL;
	X509 *x = NULL, *c;
	char path[CSA_PATH_MAX];
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (pass == NULL || passlen == 0)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "CA passphrase is empty");
	if ((r = pass_strong(ctx, pass, passlen)) != CS_OK)
		return r;
	/* The imported certificate cannot assert sub-level OIDs it lacks. */
	if (o != NULL && o->sublevels != NULL && o->sublevels[0] != NULL)
		return cs_ctx_fail(ctx, CS_ERR_ARG,
		    "sub-levels need a CA created by 'ca init' (an imported "
		    "CA certificate does not assert their OIDs)");
	if ((r = csa_key_decode(ctx, "imported key", key, keylen, pass, passlen,
	         &k)) != CS_OK ||
	    (r = csa_cert_decode(ctx, "imported certificate", cert, certlen,
	         &x)) != CS_OK)
		return r;
	if (X509_check_private_key(x, k) != 1) {
		ERR_clear_error();
		r = cs_ctx_fail(ctx, CS_ERR_ARG,
		    "imported key does not match the certificate");
		goto out;
	}
	if (X509_check_ca(x) < 1) {
		r = cs_ctx_fail(ctx, CS_ERR_ARG,
		    "imported certificate is not a CA certificate");
		goto out;
	}
	if (chain != NULL &&
	    (r = csa_certs_decode(ctx, "chain", chain, chainlen, &sk)) != CS_OK)
		goto out;
	if ((r = init_common(ctx, dir, o, &ca)) != CS_OK)
		goto out;
	/* A CA certificate that carries a level map defines the OIDs. */
	(void)csa_levelmap_read(x, ca->oid);
	if ((r = check_oids(ca, (o->flags & CS_CA_INIT_LONG_OID_ARCS) != 0)) !=
	    CS_OK)
		goto out;
	if (!csa_has_policy(x, ca->oid[CS_CA_LEVEL_HW_ATTESTED], NULL))
		cs_ctx_log(ctx, CS_LOG_INFO,
		    "imported CA does not assert %s: "
		    "explicit-policy checks of its leaves will fail",
		    ca->oid[CS_CA_LEVEL_HW_ATTESTED]);
	ca->signer_cert[CSA_SIGNER_ISSUING] = x;
	x = NULL;
	for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
		c = sk_X509_value(sk, i);
		if (X509_check_issued(c, c) == X509_V_OK && ca->root == NULL) {
			ca->root = X509_dup(c);
		}
	}
	if ((r = write_key(ctx, dir, "issuing.key.pem", k, pass, passlen)) !=
	        CS_OK ||
	    (r = write_cert(ctx, dir, "issuing.crt.pem",
	         ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK ||
	    (chain != NULL &&
	        ((r = csa_path(ctx, path, sizeof(path), dir, "chain.pem")) !=
	                CS_OK ||
	            (r = csa_write_file(ctx, path, chain, chainlen, 0600,
	                 true)) != CS_OK)) ||
	    (r = install_support(ca, o)) != CS_OK ||
	    (r = open_store(ca, true)) != CS_OK ||
	    (r = write_config(ca, false)) != CS_OK)
		goto out;
	ca->extra_chain = sk;
	sk = NULL;
	*out = ca;
	ca = NULL;
	r = CS_OK;
out:
	EVP_PKEY_free(k);
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	cs_ca_close(ca);
	return r;
}

static enum cs_err
load_cert_file(struct cs_ca *ca, const char *name, bool optional, X509 **out)
{
	char path[CSA_PATH_MAX];
	uint8_t *data = NULL;
	size_t len = 0;
	enum cs_err r;

	*out = NULL;
	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, name)) != CS_OK)
		return r;
	if (optional && !file_exists(path))
		return CS_OK;
	if ((r = csa_read_file(ca->ctx, path, CSA_FILE_MAX, &data, &len)) ==
	    CS_OK)
		r = csa_cert_decode(ca->ctx, name, data, len, out);
	cs_free(data);
	return r;
}

/* ca.cnf [sublevels] NAME = pin:P,touch:T,oid:OID, in definition order. */
static enum cs_err
read_sublevels(struct cs_ca *ca, CONF *conf, const char *path)
{
	STACK_OF(CONF_VALUE) * sec;
	struct cs_ca_sublevel s;
	CONF_VALUE *cv;
	char why[CS_CA_REASON_MAX];
	int i;
	enum cs_err r;

	if ((sec = NCONF_get_section(conf, "sublevels")) == NULL) {
		ERR_clear_error();
		return CS_OK;
	}
	for (i = 0; i < sk_CONF_VALUE_num(sec); i++) {
		cv = sk_CONF_VALUE_value(sec, i);
		if ((r = csa_sublevel_parse_value(ca->ctx, cv->name, cv->value,
		         &s)) == CS_OK &&
		    s.oid[0] == '\0')
			r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED, "%.40s: no oid",
			    cv->name);
		if (r == CS_OK)
			r = add_sublevel(ca, &s);
		if (r != CS_OK) {
			snprintf(why, sizeof(why), "%s", cs_ctx_errmsg(ca->ctx));
			return cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
			    "%s: [sublevels]: %s", path, why);
		}
	}
	return CS_OK;
}

/*
 * allow_long_oid_arcs = yes | no (written by ca init since the option
 * exists). Absent, a CA whose OIDs exceed the portable limits is one from
 * before: it keeps issuing (its CA certificates already assert those
 * OIDs) and the CLI warns (ca/README.md "OIDs").
 */
static enum cs_err
read_oid_arcs(struct cs_ca *ca, CONF *conf, const char *path)
{
	char oid[CS_CA_OID_MAX], why[CS_CA_REASON_MAX];
	const char *v, *what;

	if ((v = NCONF_get_string(conf, "ca", "allow_long_oid_arcs")) == NULL) {
		ERR_clear_error();
		ca->oid_arcs = find_long_oid(ca, oid, sizeof(oid), &what)
		    ? CS_CA_OID_ARCS_LEGACY
		    : CS_CA_OID_ARCS_SHORT;
		return CS_OK;
	}
	if (strcmp(v, "yes") == 0)
		return check_oids(ca, true);
	if (strcmp(v, "no") != 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
		    "%s: allow_long_oid_arcs must be yes or no", path);
	if (check_oids(ca, false) != CS_OK) {
		snprintf(why, sizeof(why), "%s", cs_ctx_errmsg(ca->ctx));
		return cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
		    "%s: allow_long_oid_arcs = no, but %s", path, why);
	}
	return CS_OK;
}

static enum cs_err
read_config(struct cs_ca *ca)
{
	char path[CSA_PATH_MAX];
	static const struct {
		const char *key;
		enum cs_ca_level level;
	} keys[] = {
		{ "oid_hardware_attested", CS_CA_LEVEL_HW_ATTESTED },
		{ "oid_hardware_enrolled", CS_CA_LEVEL_HW_ENROLLED },
		{ "oid_software", CS_CA_LEVEL_SOFTWARE },
	};
	CONF *conf = NULL;
	char why[CS_CA_REASON_MAX], oid[CS_CA_OID_MAX];
	uint8_t *text = NULL;
	size_t len = 0;
	const char *v;
	size_t i;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "ca.cnf")) !=
	    CS_OK)
		return r;
	if (!file_exists(path))
		return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "%s: not a cardsmith CA directory (no ca.cnf; run "
		    "'cardsmith ca init')",
		    ca->dir);
	/* Read without $ENV:: expansion or .include (profile.c). */
	if ((r = csa_read_file(ca->ctx, path, CS_CA_INPUT_MAX, &text, &len)) !=
	        CS_OK ||
	    (r = csa_conf_parse(ca->ctx, path, text, len, &conf)) != CS_OK)
		goto out;
	if ((v = NCONF_get_string(conf, "ca", "arc")) == NULL ||
	    !set_arc(ca, v)) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED, "%s: bad arc", path);
		goto out;
	}
	set_oids(ca);
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if ((v = NCONF_get_string(conf, "ca", keys[i].key)) != NULL &&
		    csa_oid_parse(v, CSA_OID_LONG_ARCS | CSA_OID_POLICY, oid,
		        sizeof(oid)) == CS_OK)
			memcpy(ca->oid[keys[i].level], oid, sizeof(oid));
	if ((r = read_sublevels(ca, conf, path)) != CS_OK)
		goto out;
	/* Written by ca init since levels are recorded; absent before. */
	if ((v = NCONF_get_string(conf, "ca", "extra_policies")) != NULL &&
	    (r = set_extra(ca, v, CS_ERR_MALFORMED)) != CS_OK) {
		snprintf(why, sizeof(why), "%s", cs_ctx_errmsg(ca->ctx));
		r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED, "%s: %s", path, why);
		goto out;
	}
	if ((r = read_oid_arcs(ca, conf, path)) != CS_OK)
		goto out;
	ERR_clear_error();
	r = CS_OK;
out:
	ERR_clear_error();
	NCONF_free(conf);
	cs_free(text);
	return r;
}

/* --- permissions, checked on every open --- */

enum perm_kind {
	PERM_DIR, /* the CA directory */
	PERM_SUBDIR, /* trust/, profiles/ */
	PERM_KEY, /* CA private keys */
	PERM_REGISTRY, /* registry.db and its -wal, -shm */
	PERM_FILE, /* certificates, ca.cnf, roots, profiles */
};

static const char *const perm_what[] = {
	"CA directory",
	"CA directory",
	"CA key",
	"registry",
	"CA file",
};

/*
 * The rules of the CLI's secret files (cli/secret.c), applied to the CA:
 * refuse what lets another user change the CA (not owned by you or root,
 * writable by group or others) or read its keys; warn when group or
 * others can reach the directory or read the registry.
 */
static enum cs_err
perm_check(struct cs_ca *ca, const char *path, enum perm_kind kind)
{
	struct stat st;
	const char *fix, *how;
	unsigned int m;

	if (stat(path, &st) != 0)
		return errno == ENOENT ? CS_OK
		                       : cs_ctx_fail(ca->ctx, CS_ERR_IO,
		                             "%s: %s", path, strerror(errno));
	m = (unsigned int)(st.st_mode & 0777);
	fix = kind == PERM_DIR || kind == PERM_SUBDIR ? "700" : "600";
	how = (m & (S_IRGRP | S_IROTH)) != 0 ? "readable" : "accessible";
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_IO,
		    "the %s %s is not owned by you or root: refusing it (run "
		    "as its owner, or chown it)",
		    perm_what[kind], path);
	if ((m & (S_IWGRP | S_IWOTH)) != 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_IO,
		    "the %s %s is writable by group or others (mode %03o): "
		    "chmod %s %s",
		    perm_what[kind], path, m, fix, path);
	if ((m & (S_IRWXG | S_IRWXO)) == 0)
		return CS_OK;
	if (kind == PERM_KEY)
		return cs_ctx_fail(ca->ctx, CS_ERR_IO,
		    "the %s %s is %s by group or others (mode %03o): chmod %s "
		    "%s",
		    perm_what[kind], path, how, m, fix, path);
	if (kind == PERM_DIR || kind == PERM_REGISTRY)
		cs_ctx_log(ca->ctx, CS_LOG_ERR,
		    "warning: the %s %s is %s by group or others (mode %03o): "
		    "chmod %s %s",
		    perm_what[kind], path, how, m, fix, path);
	return CS_OK;
}

/* Every entry of a subdirectory (roots, profiles) as a CA file. */
static enum cs_err
perm_check_entries(struct cs_ca *ca, const char *sub)
{
	char path[CSA_PATH_MAX];
	struct dirent *e;
	DIR *d;
	enum cs_err r;

	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, sub)) !=
	        CS_OK ||
	    (r = perm_check(ca, path, PERM_SUBDIR)) != CS_OK)
		return r;
	if ((d = opendir(path)) == NULL)
		return CS_OK; /* absent: nothing is loaded from it */
	while (r == CS_OK && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/%s", ca->dir, sub,
		        e->d_name) >= (int)sizeof(path))
			continue;
		r = perm_check(ca, path, PERM_FILE);
	}
	closedir(d);
	return r;
}

static enum cs_err
perm_check_all(struct cs_ca *ca)
{
	static const struct {
		const char *name;
		enum perm_kind kind;
	} files[] = {
		{ "root.key.pem", PERM_KEY },
		{ "issuing.key.pem", PERM_KEY },
		{ "hw-issuing.key.pem", PERM_KEY },
		{ "registry.db", PERM_REGISTRY },
		{ "registry.db-wal", PERM_REGISTRY },
		{ "registry.db-shm", PERM_REGISTRY },
		{ "ca.cnf", PERM_FILE },
		{ "root.crt.pem", PERM_FILE },
		{ "issuing.crt.pem", PERM_FILE },
		{ "hw-issuing.crt.pem", PERM_FILE },
		{ "chain.pem", PERM_FILE },
	};
	char path[CSA_PATH_MAX];
	size_t i;
	enum cs_err r;

	if ((r = perm_check(ca, ca->dir, PERM_DIR)) != CS_OK)
		return r;
	for (i = 0; i < sizeof(files) / sizeof(*files); i++)
		if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir,
		         files[i].name)) != CS_OK ||
		    (r = perm_check(ca, path, files[i].kind)) != CS_OK)
			return r;
	if ((r = perm_check_entries(ca, "trust")) != CS_OK ||
	    (r = perm_check_entries(ca, "profiles")) != CS_OK)
		return r;
	return CS_OK;
}

enum cs_err
cs_ca_open(struct cs_ctx *ctx, const char *dir, struct cs_ca **out)
{
	struct cs_ca *ca = NULL;
	char path[CSA_PATH_MAX];
	uint8_t *data = NULL;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = ca_new(ctx, dir, &ca)) != CS_OK)
		return r;
	if ((r = perm_check_all(ca)) != CS_OK ||
	    (r = read_config(ca)) != CS_OK ||
	    (r = load_cert_file(ca, "root.crt.pem", true, &ca->root)) !=
	        CS_OK ||
	    (r = load_cert_file(ca, "issuing.crt.pem", false,
	         &ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK ||
	    (r = load_cert_file(ca, "hw-issuing.crt.pem", true,
	         &ca->signer_cert[CSA_SIGNER_HW])) != CS_OK ||
	    (r = csa_path(ctx, path, sizeof(path), dir, "chain.pem")) != CS_OK)
		goto out;
	if (file_exists(path)) {
		if ((r = csa_read_file(ctx, path, CSA_FILE_MAX, &data, &len)) !=
		        CS_OK ||
		    (r = csa_certs_decode(ctx, "chain.pem", data, len,
		         &ca->extra_chain)) != CS_OK)
			goto out;
	}
	if ((r = open_store(ca, false)) != CS_OK)
		goto out;
	*out = ca;
	ca = NULL;
	r = CS_OK;
out:
	cs_free(data);
	cs_ca_close(ca);
	return r;
}

const char *
cs_ca_arc(const struct cs_ca *ca)
{
	return ca->arc;
}

const char *
cs_ca_level_oid(const struct cs_ca *ca, enum cs_ca_level level)
{
	if ((unsigned int)level >= CS_CA_LEVEL_COUNT)
		return "";
	return ca->oid[level];
}

static enum cs_err
pem_append(struct cs_ctx *ctx, BIO *b, X509 *x)
{
	if (x != NULL && !PEM_write_bio_X509(b, x))
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "chain");
	return CS_OK;
}

enum cs_err
csa_bio_take(struct cs_ctx *ctx, BIO *b, char **pem, size_t *pemlen)
{
	BUF_MEM *m;
	char *s;

	BIO_get_mem_ptr(b, &m);
	if ((s = malloc(m->length + 1)) == NULL)
		return cs_ctx_fail(ctx, CS_ERR_NOMEM, "PEM");
	memcpy(s, m->data, m->length);
	s[m->length] = '\0';
	*pem = s;
	*pemlen = m->length;
	return CS_OK;
}

enum cs_err
cs_ca_chain(struct cs_ca *ca, char **pem, size_t *pemlen)
{
	BIO *b = NULL;
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	*pem = NULL;
	*pemlen = 0;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_NOMEM, "chain");
	if ((r = pem_append(ca->ctx, b, ca->signer_cert[CSA_SIGNER_HW])) !=
	        CS_OK ||
	    (r = pem_append(ca->ctx, b, ca->signer_cert[CSA_SIGNER_ISSUING])) !=
	        CS_OK)
		goto out;
	for (i = 0; ca->extra_chain != NULL && i < sk_X509_num(ca->extra_chain);
	     i++)
		if ((r = pem_append(ca->ctx, b,
		         sk_X509_value(ca->extra_chain, i))) != CS_OK)
			goto out;
	if (ca->extra_chain == NULL &&
	    (r = pem_append(ca->ctx, b, ca->root)) != CS_OK)
		goto out;
	r = csa_bio_take(ca->ctx, b, pem, pemlen);
out:
	BIO_free(b);
	return r;
}

enum cs_err
csa_trust_get(struct cs_ca *ca, struct cs_trust **out)
{
	char path[CSA_PATH_MAX], f[CSA_PATH_MAX];
	struct dirent *e;
	DIR *d;
	size_t n;
	enum cs_err r = CS_OK;

	*out = NULL;
	if (ca->trust != NULL) {
		*out = ca->trust;
		return CS_OK;
	}
	if ((r = cs_trust_new(ca->ctx, &ca->trust)) != CS_OK ||
	    (r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "trust")) !=
	        CS_OK)
		return r;
	if ((d = opendir(path)) != NULL) {
		while (r == CS_OK && (e = readdir(d)) != NULL) {
			n = strlen(e->d_name);
			if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0 ||
			    snprintf(f, sizeof(f), "%s/%s", path, e->d_name) >=
			        (int)sizeof(f))
				continue;
			/* The shipped Yubico file goes through load_default,
			 * which keeps the legacy U2F root out of the anchors
			 * (trusting it for PIV is a policy choice). */
			if (strcmp(e->d_name, "yubico-piv-roots.pem") == 0)
				r = cs_trust_load_default(ca->trust, f);
			else
				r = cs_trust_add_file(ca->trust, f, 0);
		}
		closedir(d);
	}
	if (r != CS_OK) {
		cs_trust_free(ca->trust);
		ca->trust = NULL;
		return r;
	}
	*out = ca->trust;
	return CS_OK;
}

enum cs_err
cs_ca_trust_add(struct cs_ca *ca, const uint8_t *bytes, size_t len,
    size_t *added)
{
	STACK_OF(X509) *sk = NULL;
	struct cs_trust *chk = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char name[CSA_PATH_MAX], hex[17];
	BIO *b = NULL;
	BUF_MEM *m;
	X509 *x;
	int i;
	enum cs_err r = CS_ERR_INTERNAL;

	*added = 0;
	if ((r = csa_certs_decode(ca->ctx, "root", bytes, len, &sk)) != CS_OK)
		return r;
	/* What the trust store would refuse to load never reaches trust/. */
	if ((r = cs_trust_new(ca->ctx, &chk)) != CS_OK ||
	    (r = cs_trust_add(chk, bytes, len, 0)) != CS_OK)
		goto out;
	/*
	 * The held-back U2F root would sit in trust/ unused: the CA never
	 * verifies with CS_ATTEST_ALLOW_U2F_ROOT. Say so instead.
	 */
	if (cs_trust_count(chk, true) + cs_trust_count(chk, false) <
	    (size_t)sk_X509_num(sk)) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
		    "the legacy Yubico U2F root is never a PIV attestation "
		    "root for the CA (it signed a batch of YubiKey 4.3 F9 "
		    "certificates by mistake); nothing was added");
		goto out;
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (!X509_digest(x, EVP_sha256(), md, &mdlen) ||
		    (b = BIO_new(BIO_s_mem())) == NULL ||
		    !PEM_write_bio_X509(b, x)) {
			r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO, "root");
			goto out;
		}
		snprintf(hex, sizeof(hex), "%02x%02x%02x%02x%02x%02x%02x%02x",
		    md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
		if (snprintf(name, sizeof(name), "%s/trust/added-%s.pem",
		        ca->dir, hex) >= (int)sizeof(name)) {
			r = cs_ctx_fail(ca->ctx, CS_ERR_LIMIT, "path too long");
			goto out;
		}
		BIO_get_mem_ptr(b, &m);
		/* The name is the fingerprint: present means trusted already. */
		if (!file_exists(name)) {
			if ((r = csa_write_file(ca->ctx, name, m->data,
			         m->length, 0600, false)) != CS_OK)
				goto out;
			(*added)++;
		}
		BIO_free(b);
		b = NULL;
	}
	cs_trust_free(ca->trust);
	ca->trust = NULL;
	r = CS_OK;
out:
	cs_trust_free(chk);
	BIO_free(b);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

/* --- trust store listing and removal --- */

/* Bounds of what one trust/ directory may hold. */
#define TRUST_FILES_MAX 64
#define TRUST_CERTS_MAX 256
/* The file ca init copies the shipped roots to (see csa_trust_get). */
#define TRUST_SHIPPED "yubico-piv-roots.pem"
/* Held back by cs_trust_load_default (lib/attest.c). */
#define TRUST_U2F_CN "Yubico U2F Root CA Serial 457200631"

struct tfile {
	char name[CS_CA_TRUST_FILE_MAX];
	uint8_t *text;
	size_t len;
	size_t tail; /* text after the last certificate block starts here */
	bool broken; /* no certificate, or one that does not decode */
	bool drop; /* remove the whole file */
};

struct tcert {
	struct cs_ca_trust_entry e;
	size_t file; /* index in tstore.files */
	size_t start, end; /* its block, with the lines since the last one */
	bool drop;
};

struct tstore {
	struct tfile files[TRUST_FILES_MAX];
	size_t nfiles;
	struct tcert certs[TRUST_CERTS_MAX];
	size_t ncerts;
};

static void
tstore_free(struct tstore *ts)
{
	size_t i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->nfiles; i++)
		free(ts->files[i].text);
	free(ts);
}

const char *
cs_ca_trust_kind_name(enum cs_ca_trust_kind kind)
{
	switch (kind) {
	case CS_CA_TRUST_ANCHOR:
		return "anchor";
	case CS_CA_TRUST_INTERMEDIATE:
		return "intermediate";
	case CS_CA_TRUST_LEGACY:
		return "legacy-anchor";
	default:
		return "unknown";
	}
}

/* As lib/attest.c classifies: self-signed CAs anchor, the rest do not. */
static enum cs_ca_trust_kind
trust_kind(X509 *x, const char *file)
{
	char cn[128];
	int n;

	if (X509_self_signed(x, 1) != 1 || X509_check_ca(x) == 0) {
		ERR_clear_error();
		return CS_CA_TRUST_INTERMEDIATE;
	}
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, sizeof(cn));
	if (strcmp(file, TRUST_SHIPPED) == 0 && n > 0 &&
	    strcmp(cn, TRUST_U2F_CN) == 0)
		return CS_CA_TRUST_LEGACY;
	return CS_CA_TRUST_ANCHOR;
}

static enum cs_err
trust_cert_add(struct cs_ca *ca, struct tstore *ts, X509 *x, size_t start,
    size_t end)
{
	struct tfile *f = &ts->files[ts->nfiles - 1];
	struct tcert *c;
	unsigned int mdlen = 0;

	if (ts->ncerts == TRUST_CERTS_MAX)
		return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
		    "trust store: more than %d certificates", TRUST_CERTS_MAX);
	c = &ts->certs[ts->ncerts];
	memset(c, 0, sizeof(*c));
	if (!X509_digest(x, EVP_sha256(), c->e.sha256, &mdlen) ||
	    mdlen != CS_CA_SHA256_LEN)
		return cs_ctx_fail_crypto(ca->ctx, CS_ERR_CRYPTO,
		    "trust/%s: fingerprint", f->name);
	memcpy(c->e.file, f->name, sizeof(c->e.file)); /* same size */
	c->e.kind = trust_kind(x, f->name);
	csa_name_line(X509_get_subject_name(x), c->e.subject,
	    sizeof(c->e.subject));
	csa_name_line(X509_get_issuer_name(x), c->e.issuer,
	    sizeof(c->e.issuer));
	c->e.not_before = csa_asn1_time(X509_get0_notBefore(x));
	c->e.not_after = csa_asn1_time(X509_get0_notAfter(x));
	c->file = ts->nfiles - 1;
	c->start = start;
	c->end = end;
	ts->ncerts++;
	return CS_OK;
}

/*
 * The certificates of one file, read the way the attestation store reads
 * it (PEM_read_bio_X509 in turn, or one DER certificate), with the byte
 * range each came from so that a rewrite can leave it out.
 */
static enum cs_err
trust_parse(struct cs_ca *ca, struct tstore *ts)
{
	struct tfile *f = &ts->files[ts->nfiles - 1];
	const unsigned char *q = f->text;
	size_t first = ts->ncerts, at = 0, now, i;
	unsigned long e;
	BIO *b = NULL;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	ERR_clear_error();
	if (f->len >= 2 && f->text[0] == 0x30) {
		x = d2i_X509(NULL, &q, (long)f->len);
		if (x == NULL || q != f->text + f->len)
			goto broken;
		if ((r = trust_cert_add(ca, ts, x, 0, f->len)) != CS_OK)
			goto out;
		at = f->len;
	} else {
		if ((b = BIO_new_mem_buf(f->text, (int)f->len)) == NULL) {
			r = cs_ctx_fail_crypto(ca->ctx, CS_ERR_NOMEM, "trust");
			goto out;
		}
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			now = f->len - (size_t)BIO_pending(b);
			if ((r = trust_cert_add(ca, ts, x, at, now)) != CS_OK)
				goto out;
			X509_free(x);
			x = NULL;
			at = now;
		}
		/* The loop ends at "no start line" once the input is used. */
		e = ERR_peek_last_error();
		if (e != 0 &&
		    (ERR_GET_LIB(e) != ERR_LIB_PEM ||
		        ERR_GET_REASON(e) != PEM_R_NO_START_LINE))
			goto broken;
	}
	if (ts->ncerts == first)
		goto broken;
	for (i = first; i < ts->ncerts; i++)
		ts->certs[i].e.index = i - first + 1;
	f->tail = at;
	r = CS_OK;
	goto out;
broken:
	/* Keep the file (it can be removed by name), not its certificates. */
	ts->ncerts = first;
	f->broken = true;
	f->tail = f->len;
	r = CS_OK;
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(b);
	return r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tfile *)a)->name,
	    ((const struct tfile *)b)->name);
}

/* The *.pem files of trust/ (the ones csa_trust_get loads), by name. */
static enum cs_err
trust_scan(struct cs_ca *ca, struct tstore **out)
{
	char dir[CSA_PATH_MAX], path[CSA_PATH_MAX];
	struct tstore *ts = NULL;
	struct dirent *de;
	DIR *d = NULL;
	size_t i, n, nf;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((ts = calloc(1, sizeof(*ts))) == NULL)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOMEM, "trust store");
	if ((r = csa_path(ca->ctx, dir, sizeof(dir), ca->dir, "trust")) !=
	    CS_OK)
		goto out;
	if ((d = opendir(dir)) == NULL && errno != ENOENT) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_IO, "%s: %s", dir,
		    strerror(errno));
		goto out;
	}
	while (d != NULL && (de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (n < 5 || strcmp(de->d_name + n - 4, ".pem") != 0 ||
		    n >= CS_CA_TRUST_FILE_MAX)
			continue;
		if (ts->nfiles == TRUST_FILES_MAX) {
			r = cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
			    "%s: more than %d files", dir, TRUST_FILES_MAX);
			goto out;
		}
		memcpy(ts->files[ts->nfiles++].name, de->d_name, n + 1);
	}
	qsort(ts->files, ts->nfiles, sizeof(ts->files[0]), name_cmp);
	nf = ts->nfiles;
	for (i = 0; i < nf; i++) {
		ts->nfiles = i + 1;
		if (snprintf(path, sizeof(path), "%s/%s", dir,
		        ts->files[i].name) >= (int)sizeof(path)) {
			r = cs_ctx_fail(ca->ctx, CS_ERR_LIMIT, "path too long");
			goto out;
		}
		if ((r = csa_read_file(ca->ctx, path, CSA_FILE_MAX,
		         &ts->files[i].text, &ts->files[i].len)) != CS_OK ||
		    (r = trust_parse(ca, ts)) != CS_OK)
			goto out;
	}
	*out = ts;
	ts = NULL;
	r = CS_OK;
out:
	if (d != NULL)
		closedir(d);
	tstore_free(ts);
	return r;
}

enum cs_err
cs_ca_trust_list(struct cs_ca *ca, cs_ca_trust_fn *fn, void *arg)
{
	struct tstore *ts = NULL;
	size_t i;
	enum cs_err r;

	if ((r = trust_scan(ca, &ts)) != CS_OK)
		return r;
	for (i = 0; i < ts->nfiles; i++)
		if (ts->files[i].broken) {
			r = cs_ctx_fail(ca->ctx, CS_ERR_MALFORMED,
			    "trust/%s: no certificate that decodes (remove it "
			    "or fix it; attestation cannot load the store)",
			    ts->files[i].name);
			goto out;
		}
	for (i = 0; i < ts->ncerts; i++)
		if (fn(arg, &ts->certs[i].e) != 0)
			break;
	r = CS_OK;
out:
	tstore_free(ts);
	return r;
}

/* which as lower-case hex without separators; false if it is not hex. */
static bool
fp_norm(const char *which, char *hex, size_t cap)
{
	size_t o = 0;
	char c;

	for (; *which != '\0'; which++) {
		c = *which;
		if (c == ':')
			continue;
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) ||
		    o + 1 >= cap)
			return false;
		hex[o++] = c;
	}
	hex[o] = '\0';
	return o >= 8;
}

static void
fp_hex(const uint8_t *md, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < CS_CA_SHA256_LEN; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[2 * CS_CA_SHA256_LEN] = '\0';
}

/* Mark what which names; CS_ERR_ARG / CS_ERR_NOT_FOUND as documented. */
static enum cs_err
trust_mark(struct cs_ca *ca, struct tstore *ts, const char *which)
{
	char want[2 * CS_CA_SHA256_LEN + 1], hex[2 * CS_CA_SHA256_LEN + 1];
	const uint8_t *hit = NULL;
	size_t i, k, n = strlen(which), wl;

	if (n > 4 && strcmp(which + n - 4, ".pem") == 0 &&
	    strchr(which, '/') == NULL) {
		for (i = 0; i < ts->nfiles; i++)
			if (strcmp(ts->files[i].name, which) == 0)
				break;
		if (i == ts->nfiles)
			return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
			    "trust/%.200s: no such file in the trust store",
			    which);
		ts->files[i].drop = true;
		for (k = 0; k < ts->ncerts; k++)
			if (ts->certs[k].file == i)
				ts->certs[k].drop = true;
		return CS_OK;
	}
	if (!fp_norm(which, want, sizeof(want)))
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "'%.80s' is neither a SHA-256 fingerprint (8 to 64 hex "
		    "digits) nor a .pem file in trust/",
		    which);
	wl = strlen(want);
	for (i = 0; i < ts->ncerts; i++) {
		fp_hex(ts->certs[i].e.sha256, hex);
		if (strncmp(hex, want, wl) != 0)
			continue;
		if (hit != NULL &&
		    !cs_memeq_public(hit, ts->certs[i].e.sha256,
		        CS_CA_SHA256_LEN))
			return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
			    "fingerprint %s matches more than one certificate: "
			    "give more digits",
			    want);
		hit = ts->certs[i].e.sha256;
		ts->certs[i].drop = true;
	}
	if (hit == NULL)
		return cs_ctx_fail(ca->ctx, CS_ERR_NOT_FOUND,
		    "no certificate in the trust store has fingerprint %s",
		    want);
	return CS_OK;
}

/* Rewrite or delete each file that loses certificates. */
static enum cs_err
trust_apply(struct cs_ca *ca, struct tstore *ts)
{
	struct cs_buf b = CS_BUF_INIT(CSA_FILE_MAX);
	char path[CSA_PATH_MAX];
	struct tfile *f;
	size_t i, k, kept, lost;
	enum cs_err r = CS_OK;

	for (i = 0; r == CS_OK && i < ts->nfiles; i++) {
		f = &ts->files[i];
		kept = lost = 0;
		for (k = 0; k < ts->ncerts; k++)
			if (ts->certs[k].file == i) {
				if (ts->certs[k].drop)
					lost++;
				else
					kept++;
			}
		if (!f->drop && lost == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/trust/%s", ca->dir,
		        f->name) >= (int)sizeof(path))
			return cs_ctx_fail(ca->ctx, CS_ERR_LIMIT,
			    "path too long");
		if (f->drop || kept == 0) {
			if (unlink(path) != 0)
				r = cs_ctx_fail(ca->ctx, CS_ERR_IO, "%s: %s",
				    path, strerror(errno));
			continue;
		}
		cs_buf_reset(&b);
		for (k = 0; r == CS_OK && k < ts->ncerts; k++)
			if (ts->certs[k].file == i && !ts->certs[k].drop)
				r = cs_buf_put(&b, f->text + ts->certs[k].start,
				    ts->certs[k].end - ts->certs[k].start);
		if (r == CS_OK)
			r = cs_buf_put(&b, f->text + f->tail, f->len - f->tail);
		if (r == CS_OK)
			r = csa_write_file(ca->ctx, path, b.data, b.len, 0600,
			    false);
	}
	cs_buf_release(&b);
	return r;
}

enum cs_err
cs_ca_trust_remove(struct cs_ca *ca, const char *which, unsigned int flags,
    cs_ca_trust_fn *fn, void *arg, size_t *removed)
{
	struct tstore *ts = NULL;
	size_t i, left = 0, had = 0, n = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*removed = 0;
	if (which == NULL || *which == '\0' ||
	    (flags &
	        ~(unsigned int)(CS_CA_TRUST_DRYRUN |
	            CS_CA_TRUST_LAST_ANCHOR)) != 0)
		return cs_ctx_fail(ca->ctx, CS_ERR_ARG,
		    "trust remove: bad arguments");
	if ((r = trust_scan(ca, &ts)) != CS_OK ||
	    (r = trust_mark(ca, ts, which)) != CS_OK)
		goto out;
	for (i = 0; i < ts->ncerts; i++) {
		if (ts->certs[i].e.kind != CS_CA_TRUST_ANCHOR)
			continue;
		had++;
		if (!ts->certs[i].drop)
			left++;
	}
	if (had > 0 && left == 0 && !(flags & CS_CA_TRUST_LAST_ANCHOR)) {
		r = cs_ctx_fail(ca->ctx, CS_ERR_POLICY,
		    "'%.80s' would remove the last trust anchor: no "
		    "attestation could verify afterwards",
		    which);
		goto out;
	}
	if (!(flags & CS_CA_TRUST_DRYRUN) && (r = trust_apply(ca, ts)) != CS_OK)
		goto out;
	for (i = 0; i < ts->ncerts; i++)
		if (ts->certs[i].drop) {
			n++;
			if (fn != NULL)
				(void)fn(arg, &ts->certs[i].e);
		}
	*removed = n;
	if (!(flags & CS_CA_TRUST_DRYRUN)) {
		cs_trust_free(ca->trust);
		ca->trust = NULL;
	}
	r = CS_OK;
out:
	tstore_free(ts);
	return r;
}
