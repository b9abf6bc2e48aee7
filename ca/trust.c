/*
 * The manufacturer trust store of trust/: loaded once and lent (never
 * given away) to assurance, ca trust add, list and remove.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cardsmith/hex.h"
#include "cardsmith/x509_ossl.h"

#include "ca_int.h"

#include "banned.h"

enum cs_err
csa_trust_get(struct cs_ca *ca, const struct cs_trust **out)
{
	char path[CSA_PATH_MAX], f[CSA_PATH_MAX];
	struct dirent *e;
	DIR *d;
	size_t n;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (ca->trust != NULL) {
		*out = ca->trust;
		return CS_OK;
	}
	/* The path first: a failure must not leave an empty store cached. */
	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "trust")) !=
	        CS_OK ||
	    (r = cs_trust_new(ca->ctx, &ca->trust)) != CS_OK)
		return r;
	/* No trust/ at all: an empty store (nothing is attested). */
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
		/* The name is the fingerprint: present means trusted already.
		 */
		if (!csa_file_exists(name)) {
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
 * it (lib's cs_pem_next block by block, or one DER certificate), with the
 * byte range each came from so that a rewrite can leave it out.
 */
static enum cs_err
trust_parse(struct cs_ca *ca, struct tstore *ts)
{
	struct tfile *f = &ts->files[ts->nfiles - 1];
	size_t first = ts->ncerts, at = 0, pos = 0, n = 0, i;
	uint8_t *der = NULL;
	X509 *x = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (f->len >= 2 && f->text[0] == 0x30) {
		if (cs_x509_cert_decode(NULL, f->text, f->len, 0, &x) != CS_OK)
			goto broken;
		if ((r = trust_cert_add(ca, ts, x, 0, f->len)) != CS_OK)
			goto out;
		at = f->len;
	} else {
		while ((r = cs_pem_next(CS_PEM_CERT, f->text, f->len, &pos,
		            &der, &n)) == CS_OK) {
			r = cs_x509_cert_decode(NULL, der, n, 0, &x);
			cs_free(der);
			der = NULL;
			if (r != CS_OK)
				goto broken;
			if ((r = trust_cert_add(ca, ts, x, at, pos)) != CS_OK)
				goto out;
			X509_free(x);
			x = NULL;
			at = pos;
		}
		/* NOT_FOUND: the input is used up; anything else is broken. */
		if (r == CS_ERR_NOMEM) {
			r = cs_ctx_fail(ca->ctx, r, "trust/%s", f->name);
			goto out;
		}
		if (r != CS_ERR_NOT_FOUND)
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
		if ((r = cs_file_read(ca->ctx, path, CSA_FILE_MAX,
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
	enum cs_err r = CS_ERR_INTERNAL;

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
		(void)cs_hex_encode(ts->certs[i].e.sha256, CS_CA_SHA256_LEN,
		    hex, sizeof(hex), 0);
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
	enum cs_err r = CS_ERR_INTERNAL;

	r = CS_OK; /* nothing to rewrite is success */
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
