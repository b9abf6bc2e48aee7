/*
 * cardsmith ca trust list, add, remove: the manufacturer roots and
 * intermediates attestation is checked against (the CA's trust/
 * directory). The runner opens the CA (NEED_CA).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca_common.h"
#include "exit.h"
#include "out.h"
#include "pem.h"
#include "secret.h"

#include "banned.h"

static const struct cli_usage trust_usage = {
	"ROOT.pem [--dir DIR]",
	"Trust the manufacturer root(s) in ROOT.pem for attestation (added to "
	"the CA's\ntrust/ directory next to the shipped Yubico PIV roots).",
	"  cardsmith ca trust add --dir /srv/ca vendor-root.pem",
};

int
ca_trust_add(struct cli *cli, int argc, const char **argv)
{
	char *path = NULL;
	uint8_t *data = NULL;
	size_t len = 0, n = 0;
	json_t *doc;
	int code;
	enum cs_err r = CS_ERR_INTERNAL;

	cli->defer_needs = 1;
	if ((code = ca_parse_dir(cli, argc, argv, &trust_usage,
	         "ROOT.pem missing", &path)) != CLI_CONTINUE ||
	    (code = pem_read_file(cli, path, &data, &len)) != CLI_CONTINUE ||
	    (code = cli_open_needs(cli)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_trust_add(cli->ca, data, len, &n)) != CS_OK) {
		code = out_failf(cli, r, "ca trust add: %s: %s", path,
		    cs_ctx_errmsg(cli->ctx));
		goto out;
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "added", json_integer((json_int_t)n));
		code = out_emit(cli, doc);
	} else {
		if (!cli->quiet && n == 0)
			printf("%s: every certificate in it is trusted "
			       "already\n",
			    path);
		else if (!cli->quiet)
			printf("trusted %zu certificate%s from %s\n", n,
			    n == 1 ? "" : "s", path);
		code = CLI_EXIT_OK;
	}
out:
	free(path);
	free(data);
	return code;
}

static void
trust_fp(const struct cs_ca_trust_entry *e, char *buf, size_t cap, size_t bytes,
    bool colons)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < bytes && i < sizeof(e->sha256); i++) {
		if (o + (colons && i > 0 ? 3 : 2) >= cap)
			break;
		o += (size_t)snprintf(buf + o, cap - o,
		    colons && i > 0 ? ":%02X" : "%02X", e->sha256[i]);
	}
}

static json_t *
trust_json(const struct cs_ca_trust_entry *e)
{
	char fp[3 * CS_CA_SHA256_LEN + 1];
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	trust_fp(e, fp, sizeof(fp), CS_CA_SHA256_LEN, true);
	out_set(o, "kind", out_str(cs_ca_trust_kind_name(e->kind)));
	out_set(o, "subject", out_str(e->subject));
	out_set(o, "issuer", out_str(e->issuer));
	out_set(o, "sha256_fingerprint", out_str(fp));
	out_set(o, "file", out_str(e->file));
	out_set(o, "index", json_integer((json_int_t)e->index));
	out_set(o, "not_before", json_integer(e->not_before));
	out_set(o, "not_after", json_integer(e->not_after));
	return o;
}

static void
day_str(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, cap, "-");
}

#define TRUST_ROW "%-13s %-16s %-10s %-10s %-24s %s\n"

static void
trust_text(const struct cs_ca_trust_entry *e)
{
	char fp[2 * 8 + 1], nb[16], na[16], file[CS_CA_TRUST_FILE_MAX + 16];

	trust_fp(e, fp, sizeof(fp), 8, false);
	day_str(e->not_before, nb, sizeof(nb));
	day_str(e->not_after, na, sizeof(na));
	snprintf(file, sizeof(file), "%s#%zu", e->file, e->index);
	printf("%-13s %-16s %-10s %-10s ", cs_ca_trust_kind_name(e->kind), fp,
	    nb, na);
	out_safe(stdout, file);
	printf("%*s", (int)(strlen(file) < 24 ? 24 - strlen(file) : 0), "");
	fputc(' ', stdout);
	out_safe(stdout, e->subject);
	fputc('\n', stdout);
}

struct trust_ls {
	json_t *arr; /* --json */
	size_t n;
};

static int
trust_one(void *arg, const struct cs_ca_trust_entry *e)
{
	struct trust_ls *t = arg;

	if (t->arr != NULL)
		out_append(t->arr, trust_json(e));
	else {
		if (t->n == 0)
			printf(TRUST_ROW, "KIND", "SHA-256", "NOT-BEFORE",
			    "NOT-AFTER", "FILE", "SUBJECT");
		trust_text(e);
	}
	t->n++;
	return 0;
}

static const struct cli_usage trust_list_usage = {
	"[--dir DIR] [--json]",
	"List the certificates attestation is checked against: the files in "
	"the CA's\ntrust/ directory (the shipped Yubico PIV roots and "
	"intermediates, and what\n'cardsmith ca trust add' added). KIND is "
	"anchor (a self-signed root: chains end\nhere), intermediate (never "
	"an anchor) or legacy-anchor (the Yubico U2F root,\nnot trusted for "
	"PIV by default). SHA-256 shows the first 8 bytes of the\n"
	"fingerprint (--json: all of it); FILE#N is the N-th certificate of "
	"that file.\nThe fingerprint (or those 8 bytes) or the file name is "
	"what 'cardsmith ca\ntrust remove' takes.",
	"  cardsmith ca trust list --dir /srv/ca",
};

int
ca_trust_list(struct cli *cli, int argc, const char **argv)
{
	struct trust_ls t = { NULL, 0 };
	json_t *doc;
	int code;
	enum cs_err r = CS_ERR_INTERNAL;

	if ((code = ca_parse_dir(cli, argc, argv, &trust_list_usage, NULL,
	         NULL)) != CLI_CONTINUE)
		goto out;
	if (cli->json && (t.arr = json_array()) == NULL) {
		code = out_fail(cli, CS_ERR_NOMEM, NULL);
		goto out;
	}
	if ((r = cs_ca_trust_list(cli->ca, trust_one, &t)) != CS_OK) {
		code = out_fail(cli, r, "ca trust list");
		goto out;
	}
	code = CLI_EXIT_OK;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "certificates", t.arr);
		t.arr = NULL;
		code = out_emit(cli, doc);
	} else if (t.n == 0)
		out_notice(cli,
		    "the trust store is empty: no attestation can verify "
		    "(add roots with 'cardsmith ca trust add')");
out:
	json_decref(t.arr);
	return code;
}

static const struct cli_usage trust_remove_usage = {
	"(FINGERPRINT | FILE) [--force] [--dir DIR] [--json]",
	"Stop trusting a certificate for attestation: FINGERPRINT is its "
	"SHA-256\nfingerprint or a prefix of at least 8 hex digits that "
	"names one certificate\n(':' separators allowed, as 'ca trust list' "
	"and openssl print it); every copy\nis removed. FILE is a file in "
	"trust/ (all its certificates; also a file that\ndoes not decode). "
	"Asks for confirmation on a terminal; without one, give\n--force. "
	"Removing the last trust anchor is refused (exit 6) without --force:"
	"\nno attestation could verify afterwards, so nothing would be issued "
	"above\nsoftware.",
	"  cardsmith ca trust remove 63ECE914E54DD879\n"
	"  cardsmith ca trust remove --force added-1a2b3c4d5e6f7081.pem",
};

struct trust_rm {
	json_t *arr; /* --json: the removed entries */
	char first[CS_CA_NAME_MAX];
	size_t n;
};

static int
trust_rm_one(void *arg, const struct cs_ca_trust_entry *e)
{
	struct trust_rm *t = arg;

	if (t->n++ == 0)
		snprintf(t->first, sizeof(t->first), "%s", e->subject);
	if (t->arr != NULL)
		out_append(t->arr, trust_json(e));
	return 0;
}

static int
trust_rm_fail(struct cli *cli, enum cs_err r)
{
	if (r == CS_ERR_ARG)
		return out_usage(cli, "ca trust remove: %s",
		    cs_ctx_errmsg(cli->ctx));
	if (r == CS_ERR_POLICY)
		return out_failf(cli, r,
		    "ca trust remove: %s; add --force to remove it anyway",
		    cs_ctx_errmsg(cli->ctx));
	return out_fail(cli, r, "ca trust remove");
}

static int
trust_rm_run(struct cli *cli, struct cs_ca *ca, const char *which, int force)
{
	struct trust_rm plan, done;
	unsigned int fl = force ? CS_CA_TRUST_LAST_ANCHOR : 0;
	char q[CS_CA_NAME_MAX + 128];
	json_t *doc;
	int code;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&plan, 0, sizeof(plan));
	memset(&done, 0, sizeof(done));
	if ((r = cs_ca_trust_remove(ca, which, fl | CS_CA_TRUST_DRYRUN,
	         trust_rm_one, &plan, &plan.n)) != CS_OK)
		return trust_rm_fail(cli, r);
	if (plan.n == 0)
		snprintf(q, sizeof(q), "remove trust/%s", which);
	else
		snprintf(q, sizeof(q), "stop trusting %s%s for attestation",
		    plan.first, plan.n > 1 ? " and the others listed" : "");
	if ((code = secret_destructive(cli, force, q)) != CLI_CONTINUE)
		return code;
	done.arr = cli->json ? json_array() : NULL;
	if ((r = cs_ca_trust_remove(ca, which, fl, trust_rm_one, &done,
	         &done.n)) != CS_OK) {
		json_decref(done.arr);
		return trust_rm_fail(cli, r);
	}
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "removed", json_integer((json_int_t)done.n));
		out_set(doc, "certificates", done.arr);
		return out_emit(cli, doc);
	}
	if (!cli->quiet && done.n == 0)
		printf("removed trust/%s (it held no certificate that "
		       "decodes)\n",
		    which);
	else if (!cli->quiet) {
		printf("removed %zu certificate%s: ", done.n,
		    done.n == 1 ? "" : "s");
		out_safe(stdout, done.first);
		printf("%s\n", done.n > 1 ? ", ..." : "");
	}
	return CLI_EXIT_OK;
}

int
ca_trust_remove(struct cli *cli, int argc, const char **argv)
{
	char *which = NULL;
	int force = 0, code;
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		CLI_FORCE_OPT(force,
		    "do not ask; allow removing the last anchor"),
		POPT_TABLEEND,
	};

	if ((code = cli_parse_arg(cli, argc, argv, opts, &trust_remove_usage,
	         "FINGERPRINT or FILE missing (see 'cardsmith ca trust list')",
	         &which)) == CLI_CONTINUE)
		code = trust_rm_run(cli, cli->ca, which, force);
	free(which);
	return code;
}
