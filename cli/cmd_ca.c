/*
 * cardsmith ca: the subcommand table and 'ca chain'. The subcommands live
 * by concern: cmd_ca_init.c (init, import), cmd_ca_sign.c (sign),
 * cmd_ca_registry.c (revoke, crl, list, show, reconcile), cmd_ca_trust.c
 * (trust list/add/remove); ca_common.c has what they share. The runner
 * opens (and unlocks) the CA for them (NEED_CA, NEED_CA_KEY): argument
 * parsing, passphrase input and output only; every decision is made in
 * ca/.
 */
#include <stdlib.h>

#include "ca_common.h"
#include "cmd_ca.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"

#include "banned.h"

static int ca_chain(struct cli *, int, const char **);
static int ca_trust(struct cli *, int, const char **);

static const struct cmd ca_subs[] = {
	{ "ca init", ca_init, NEED_CA_DIR | NEED_CA_KEY,
	    "create a root and issuing CA" },
	{ "ca sign", ca_sign, NEED_CA | NEED_CA_KEY,
	    "issue a certificate for a CSR" },
	{ "ca revoke", ca_revoke, NEED_CA, "revoke a certificate or a card" },
	{ "ca crl", ca_crl, NEED_CA | NEED_CA_KEY, "write a CRL" },
	{ "ca list", ca_list, NEED_CA, "list the registry" },
	{ "ca show", ca_show, NEED_CA, "show one certificate" },
	{ "ca chain", ca_chain, NEED_CA, "print the CA chain for gateways" },
	{ "ca trust", ca_trust, 0, "manage manufacturer roots" },
	{ "ca reconcile", ca_reconcile, NEED_CA,
	    "resolve registry rows a crash left behind" },
	{ NULL, NULL, 0, NULL },
};

static const struct cmd trust_subs[] = {
	{ "ca trust list", ca_trust_list, NEED_CA,
	    "list the manufacturer roots and intermediates" },
	{ "ca trust add", ca_trust_add, NEED_CA,
	    "trust a manufacturer root for attestation" },
	{ "ca trust remove", ca_trust_remove, NEED_CA,
	    "stop trusting a certificate (by fingerprint) or a file" },
	{ NULL, NULL, 0, NULL },
};

int
cmd_ca(struct cli *cli, int argc, const char **argv)
{
	const struct cmd *sub = cli_find_sub(ca_subs, argc, argv);

	if (sub != NULL)
		return cli_run_sub(cli, sub, argc, argv);
	return cli_group_usage(cli, ca_subs, argc, argv);
}

static int
ca_trust(struct cli *cli, int argc, const char **argv)
{
	const struct cmd *sub = cli_find_sub(trust_subs, argc, argv);

	if (sub != NULL)
		return cli_run_sub(cli, sub, argc, argv);
	return cli_group_usage(cli, trust_subs, argc, argv);
}

static const struct cli_usage chain_usage = {
	"[--out FILE] [--dir DIR]",
	"Print the CA chain a gateway needs (issuing CA(s), then the root) as "
	"PEM:\nnginx ssl_client_certificate, Apache SSLCACertificateFile, "
	"'cardsmith verify\n--chain'. An existing --out file is replaced "
	"atomically (a character device\nor FIFO is written to, a symbolic "
	"link is refused).",
	"  cardsmith ca chain > ca-chain.pem",
};

static int
ca_chain(struct cli *cli, int argc, const char **argv)
{
	char *out = NULL, *pem = NULL;
	size_t len = 0;
	json_t *doc;
	int code;
	enum cs_err r = CS_ERR_INTERNAL;
	struct poptOption opts[] = {
		CLI_CA_DIR_OPT(cli),
		CLI_OUT_OPT(out, "write the chain here (replaced)"),
		POPT_TABLEEND,
	};

	if ((code = cli_parse_noargs(cli, argc, argv, opts, &chain_usage,
	         NULL)) != CLI_CONTINUE)
		goto out;
	if ((r = cs_ca_chain(cli->ca, &pem, &len)) != CS_OK) {
		code = out_fail(cli, r, "ca chain");
		goto out;
	}
	if (cli->json) {
		if (out != NULL &&
		    (code = outfile_put(cli, out, pem, OUTFILE_FORCE)) !=
		        CLI_CONTINUE)
			goto out;
		doc = out_doc_new();
		out_set(doc, "pem", out_str(pem));
		out_set(doc, "arc", out_str(cs_ca_arc(cli->ca)));
		out_set(doc, "policy_oids", ca_oids_json(cli->ca));
		code = out_emit(cli, doc);
	} else {
		code = outfile_put(cli, out, pem, OUTFILE_FORCE);
		if (code == CLI_CONTINUE)
			code = CLI_EXIT_OK;
	}
out:
	cs_free(pem);
	free(out);
	return code;
}
