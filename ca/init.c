/*
 * ca init and ca init --import-key: a new CA directory, its CA
 * certificates (signed through sign.c), support files and registry.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cardsmith/x509_ossl.h"

#include "ca_int.h"

#include "banned.h"

#ifndef CS_DATADIR
#define CS_DATADIR "/usr/local/share/cardsmith"
#endif

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
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO,
		    "extension %s = %s", OBJ_nid2sn(nid), value);
	}
	X509_EXTENSION_free(e);
	return CS_OK;
}

static enum cs_err
rand_serial(struct cs_ctx *ctx, X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "serial");
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "serial");
	else
		r = CS_OK;
	BN_free(bn);
	return r;
}

/* CA certificate for key k with subject, signed by issuer (NULL: self). */
static enum cs_err
make_ca_cert(struct cs_ca *ca, const struct csa_key *k, const char *subject,
    unsigned int days, X509 *issuer, const struct csa_key *ikey,
    const char *policies, int pathlen, X509 **out)
{
	struct cs_ctx *ctx = ca->ctx;
	X509V3_CTX v3;
	X509_NAME *name = NULL;
	X509_EXTENSION *lm = NULL;
	X509 *x = NULL;
	char bc[64];
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = cs_x509_name_parse(ctx, subject, &name)) != CS_OK)
		goto out;
	if ((x = X509_new()) == NULL || !X509_set_version(x, 2) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x,
	        issuer != NULL ? X509_get_subject_name(issuer) : name) ||
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
	if ((r = csa_key_set_pubkey(ctx, k, x)) != CS_OK ||
	    (r = rand_serial(ctx, x)) != CS_OK)
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
	if (!X509_add_ext(x, lm, -1)) {
		r = cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO,
		    "sign CA certificate");
		goto out;
	}
	if ((r = csa_key_sign_cert(ctx, ikey != NULL ? ikey : k, x)) != CS_OK)
		goto out;
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
		    "(trust anchor) in it",
		    path);
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
	enum cs_err r = CS_ERR_INTERNAL;

	for (i = 0; rp == NULL && i < sizeof(roots) / sizeof(*roots); i++)
		if (csa_file_exists(roots[i]))
			rp = roots[i];
	for (i = 0; pd == NULL && i < sizeof(pdirs) / sizeof(*pdirs); i++)
		if (csa_file_exists(pdirs[i]))
			pd = pdirs[i];
	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "trust")) !=
	        CS_OK ||
	    mkdir(path, 0700) != 0 ||
	    (r = csa_path(ca->ctx, path, sizeof(path), ca->dir, "profiles")) !=
	        CS_OK ||
	    mkdir(path, 0700) != 0)
		return r != CS_OK ? r
		                  : cs_ctx_fail(ca->ctx, CS_ERR_IO, "%s: %s",
		                        path, strerror(errno));
	if (rp != NULL) {
		if ((r = check_roots(ca, rp)) != CS_OK ||
		    (r = csa_path(ca->ctx, path, sizeof(path), ca->dir,
		         "trust/yubico-piv-roots.pem")) != CS_OK ||
		    (r = csa_copy_file(ca->ctx, rp, path)) != CS_OK)
			return r;
	} else
		cs_ctx_log(ca->ctx, CS_LOG_INFO,
		    "no manufacturer roots found; "
		    "add some with 'cardsmith ca trust add'");
	if (pd == NULL)
		return CS_OK;
	if ((d = opendir(pd)) == NULL) {
		/* Named by the caller: a typo must not give a CA without
		 * profiles. */
		if (o->profiles_dir != NULL)
			return cs_ctx_fail(ca->ctx, CS_ERR_IO,
			    "profiles %s: %s", pd, strerror(errno));
		return CS_OK;
	}
	r = CS_OK; /* an empty profiles directory copies nothing */
	while (r == CS_OK && (e = readdir(d)) != NULL) {
		n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".cnf") != 0)
			continue;
		if (snprintf(src, sizeof(src), "%s/%s", pd, e->d_name) >=
		        (int)sizeof(src) ||
		    snprintf(path, sizeof(path), "%s/profiles/%s", ca->dir,
		        e->d_name) >= (int)sizeof(path))
			continue;
		r = csa_copy_file(ca->ctx, src, path);
	}
	closedir(d);
	return r;
}

static enum cs_err
init_common(struct cs_ctx *ctx, const char *dir,
    const struct cs_ca_init_opts *o, struct cs_ca **out)
{
	struct cs_ca *ca = NULL;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if (o == NULL)
		return cs_ctx_fail(ctx, CS_ERR_ARG, "CA init: no options");
	if ((r = csa_ca_new(ctx, dir, &ca)) != CS_OK)
		return r;
	if (o->arc != NULL) {
		if (!csa_config_set_arc(ca, o->arc)) {
			cs_ca_close(ca);
			return cs_ctx_fail(ctx, CS_ERR_ARG,
			    "arc '%.64s' is not an OID of at most %d characters",
			    o->arc, CS_CA_OID_MAX - 9);
		}
	} else if ((r = new_arc(ctx, ca->arc, sizeof(ca->arc))) != CS_OK) {
		cs_ca_close(ca);
		return r;
	}
	csa_config_set_oids(ca);
	if ((r = csa_config_set_sublevels(ca, o->sublevels)) != CS_OK ||
	    (r = csa_config_set_extra(ca, o->extra_policies, CS_ERR_ARG)) !=
	        CS_OK ||
	    (r = csa_config_check_oids(ca,
	         (o->flags & CS_CA_INIT_LONG_OID_ARCS) != 0)) != CS_OK) {
		cs_ca_close(ca);
		return r;
	}
	if ((r = csa_make_dir(ctx, dir)) != CS_OK) {
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

enum cs_err
cs_ca_init(struct cs_ctx *ctx, const char *dir, const struct cs_ca_init_opts *o,
    const char *pass, size_t passlen, struct cs_ca **out)
{
	struct cs_ca *ca = NULL;
	struct csa_key *rk = NULL, *ik = NULL, *hk = NULL;
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
	if ((r = csa_key_generate(ctx, o->key_type, &rk)) != CS_OK ||
	    (r = csa_key_generate(ctx, o->key_type, &ik)) != CS_OK ||
	    (hw && (r = csa_key_generate(ctx, o->key_type, &hk)) != CS_OK) ||
	    (r = csa_config_policies(ca, true, true, pol, sizeof(pol))) !=
	        CS_OK ||
	    (r = make_ca_cert(ca, rk,
	         o->root_subject != NULL ? o->root_subject
	                                 : "CN=cardsmith Root CA",
	         o->root_days ? o->root_days : 7300, NULL, NULL, pol, 1,
	         &ca->root)) != CS_OK ||
	    (r = csa_config_policies(ca, true, !hw, pol, sizeof(pol))) !=
	        CS_OK ||
	    (r = make_ca_cert(ca, ik,
	         o->issuing_subject != NULL ? o->issuing_subject
	                                    : "CN=cardsmith Issuing CA",
	         o->issuing_days ? o->issuing_days : 3650, ca->root, rk, pol, 0,
	         &ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK)
		goto out;
	if (hw &&
	    ((r = csa_config_policies(ca, false, true, pol, sizeof(pol))) !=
	            CS_OK ||
	        (r = make_ca_cert(ca, hk,
	             o->hw_issuing_subject != NULL
	                 ? o->hw_issuing_subject
	                 : "CN=cardsmith Hardware Issuing CA",
	             o->issuing_days ? o->issuing_days : 3650, ca->root, rk,
	             pol, 0, &ca->signer_cert[CSA_SIGNER_HW])) != CS_OK))
		goto out;
	if ((r = csa_key_write(ctx, dir, "root.key.pem", rk, pass, passlen)) !=
	        CS_OK ||
	    (r = csa_key_write(ctx, dir, "issuing.key.pem", ik, pass,
	         passlen)) != CS_OK ||
	    (hw &&
	        (r = csa_key_write(ctx, dir, "hw-issuing.key.pem", hk, pass,
	             passlen)) != CS_OK) ||
	    (r = write_cert(ctx, dir, "root.crt.pem", ca->root)) != CS_OK ||
	    (r = write_cert(ctx, dir, "issuing.crt.pem",
	         ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK ||
	    (hw &&
	        (r = write_cert(ctx, dir, "hw-issuing.crt.pem",
	             ca->signer_cert[CSA_SIGNER_HW])) != CS_OK) ||
	    (r = install_support(ca, o)) != CS_OK ||
	    (r = csa_ca_open_store(ca, true)) != CS_OK ||
	    (r = csa_config_write(ca, hw)) != CS_OK)
		goto out;
	*out = ca;
	ca = NULL;
	r = CS_OK;
out:
	csa_key_free(rk);
	csa_key_free(ik);
	csa_key_free(hk);
	cs_ca_close(ca);
	return r;
}

enum cs_err
cs_ca_import(struct cs_ctx *ctx, const char *dir,
    const struct cs_ca_init_opts *o, const uint8_t *key, size_t keylen,
    const uint8_t *cert, size_t certlen, const uint8_t *chain, size_t chainlen,
    const char *pass, size_t passlen, struct cs_ca **out)
{
	struct cs_ca *ca = NULL;
	STACK_OF(X509) *sk = NULL;
	struct csa_key *k = NULL;
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
	/* Both decoded before either is judged; out: frees what decoded. */
	if ((r = csa_key_decode(ctx, "imported key", key, keylen, pass, passlen,
	         &k)) != CS_OK ||
	    (r = csa_cert_decode(ctx, "imported certificate", cert, certlen,
	         &x)) != CS_OK)
		goto out;
	if (!csa_key_matches(k, x)) {
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
	if ((r = csa_config_check_oids(ca,
	         (o->flags & CS_CA_INIT_LONG_OID_ARCS) != 0)) != CS_OK)
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
	if ((r = csa_key_write(ctx, dir, "issuing.key.pem", k, pass,
	         passlen)) != CS_OK ||
	    (r = write_cert(ctx, dir, "issuing.crt.pem",
	         ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK ||
	    (chain != NULL &&
	        ((r = csa_path(ctx, path, sizeof(path), dir, "chain.pem")) !=
	                CS_OK ||
	            (r = csa_write_file(ctx, path, chain, chainlen, 0600,
	                 true)) != CS_OK)) ||
	    (r = install_support(ca, o)) != CS_OK ||
	    (r = csa_ca_open_store(ca, true)) != CS_OK ||
	    (r = csa_config_write(ca, false)) != CS_OK)
		goto out;
	ca->extra_chain = sk;
	sk = NULL;
	*out = ca;
	ca = NULL;
	r = CS_OK;
out:
	csa_key_free(k);
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	cs_ca_close(ca);
	return r;
}
