/*
 * The CA handle: open (permission checks, ca.cnf, certificates, registry),
 * close, the chain. Creating a CA is init.c; keys are sign.c.
 *
 * Layout (ca/README.md): ca.cnf, root.crt.pem, root.key.pem,
 * issuing.{crt,key}.pem, [hw-issuing.{crt,key}.pem], chain.pem (imported
 * CAs), trust/ (PEM roots), profiles/ (.cnf), registry.db; every file is
 * 0600 and the directory 0700.
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
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca_int.h"

#include "banned.h"

enum cs_err
csa_ca_new(struct cs_ctx *ctx, const char *dir, struct cs_ca **out)
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

/* create: ca init makes the registry; every later open needs it there. */
enum cs_err
csa_ca_open_store(struct cs_ca *ca, bool create)
{
	char path[CSA_PATH_MAX];
	enum cs_err r = CS_ERR_INTERNAL;

	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir,
	         "registry.db")) != CS_OK)
		return r;
	return csa_store_open_sqlite(ca->ctx, path, create, &ca->store);
}

static enum cs_err
load_cert_file(struct cs_ca *ca, const char *name, bool optional, X509 **out)
{
	char path[CSA_PATH_MAX];
	uint8_t *data = NULL;
	size_t len = 0;
	enum cs_err r = CS_ERR_INTERNAL;

	*out = NULL;
	if ((r = csa_path(ca->ctx, path, sizeof(path), ca->dir, name)) != CS_OK)
		return r;
	if (optional && !csa_file_exists(path))
		return CS_OK;
	if ((r = cs_file_read(ca->ctx, path, CSA_FILE_MAX, &data, &len)) ==
	    CS_OK)
		r = csa_cert_decode(ca->ctx, name, data, len, out);
	cs_free(data);
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
	enum cs_err r = CS_ERR_INTERNAL;

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
	enum cs_err r = CS_ERR_INTERNAL;

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
	if ((r = csa_ca_new(ctx, dir, &ca)) != CS_OK)
		return r;
	if ((r = perm_check_all(ca)) != CS_OK ||
	    (r = csa_config_read(ca)) != CS_OK ||
	    (r = load_cert_file(ca, "root.crt.pem", true, &ca->root)) !=
	        CS_OK ||
	    (r = load_cert_file(ca, "issuing.crt.pem", false,
	         &ca->signer_cert[CSA_SIGNER_ISSUING])) != CS_OK ||
	    (r = load_cert_file(ca, "hw-issuing.crt.pem", true,
	         &ca->signer_cert[CSA_SIGNER_HW])) != CS_OK ||
	    (r = csa_path(ctx, path, sizeof(path), dir, "chain.pem")) != CS_OK)
		goto out;
	if (csa_file_exists(path)) {
		if ((r = cs_file_read(ctx, path, CSA_FILE_MAX, &data, &len)) !=
		        CS_OK ||
		    (r = csa_certs_decode(ctx, "chain.pem", data, len,
		         &ca->extra_chain)) != CS_OK)
			goto out;
	}
	if ((r = csa_ca_open_store(ca, false)) != CS_OK)
		goto out;
	*out = ca;
	ca = NULL;
	r = CS_OK;
out:
	cs_free(data);
	cs_ca_close(ca);
	return r;
}

static enum cs_err
pem_append(struct cs_ctx *ctx, BIO *b, X509 *x)
{
	if (x != NULL && !PEM_write_bio_X509(b, x))
		return cs_ctx_fail_crypto(ctx, CS_ERR_CRYPTO, "chain");
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
