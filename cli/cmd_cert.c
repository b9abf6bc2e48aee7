/* cardsmith cert import|export|delete: a slot's certificate object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "cardops.h"
#include "certinfo.h"
#include "exit.h"
#include "out.h"
#include "pem.h"

#include "banned.h"

static int cert_import(struct cli *, int, const char **);
static int cert_export(struct cli *, int, const char **);
static int cert_delete(struct cli *, int, const char **);

static const struct cmd cert_subs[] = {
	{ "cert import", cert_import, NEED_CARD,
	    "store a certificate (PEM or DER) in a slot" },
	{ "cert export", cert_export, NEED_CARD,
	    "print a slot's certificate as PEM" },
	{ "cert delete", cert_delete, NEED_CARD,
	    "delete a slot's certificate (the key stays)" },
	{ NULL, NULL, 0, NULL },
};

static const struct cli_usage import_usage = {
	"--slot SLOT --in FILE [--compress] [--force]",
	"Store the certificate in FILE (PEM or DER) in SLOT's certificate "
	"object. The\ncertificate's key should be the slot's key: when the "
	"card can tell (YubiKey\n5.3+), a certificate for another key is "
	"refused unless --force. Needs the\nmanagement key (default, "
	"PIN-protected, or --mgmt-key-fd/-file/-env).",
	"  cardsmith cert import --slot 9a --in cert.pem",
};

static const struct cli_usage export_usage = {
	"--slot SLOT [--out FILE]",
	"Print the certificate in SLOT (9a, 9c, 9d, 9e, 82..95, or f9 for "
	"the card's\nattestation certificate) as PEM, or write it to --out. "
	"An empty slot exits 1.",
	"  cardsmith cert export --slot 9c --out sign.pem",
};

static const struct cli_usage delete_usage = {
	"--slot SLOT [--force]",
	"Delete the certificate in SLOT; the private key stays. Asks on the "
	"terminal,\nor needs --force. Needs the management key.",
	"  cardsmith cert delete --slot 9d --force",
};

/* What the subcommands take; each uses some (the others stay unset). */
struct cert_opts {
	char *slot_arg, *in, *out; /* popt strings */
	int compress, force;
	struct card_secrets cs;
	uint8_t slot; /* slot_arg parsed */
};

/*
 * cert import, export and delete: the usage, and what runs once --slot is
 * parsed and the card is open.
 */
struct cert_op {
	const struct cli_usage *usage;
	bool allow_f9; /* --slot f9 (the attestation certificate) */
	bool needs_in; /* --in FILE is required */
	int (*run)(struct cli *, struct cert_opts *);
};

static int
done(struct cli *cli, const char *action, uint8_t slot)
{
	json_t *doc;
	char s[3];

	cli_slot_str(slot, s);
	if (!cli->json) {
		out_notice(cli, "certificate %s slot %s", action, s);
		return CLI_EXIT_OK;
	}
	doc = out_doc_new();
	out_set(doc, "slot", out_str(s));
	return out_emit(cli, doc);
}

/* Refuse a certificate for another key (when the card can tell). */
static int
check_key(struct cli *cli, uint8_t slot, const uint8_t *der, size_t len,
    bool force)
{
	struct cs_piv_key_meta meta;
	struct cs_cert_info ci;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	char err[128], s[3];
	int code = CLI_CONTINUE, same;

	cli_slot_str(slot, s);
	if (!certinfo_parse(der, len, &ci, err, sizeof(err)))
		return out_failf(cli, CS_ERR_MALFORMED, "certificate: %s", err);
	if (!cs_card_has(cli->card, CS_CAP_METADATA) ||
	    cs_piv_key_metadata(cli->card, slot, &meta, &spki, &spki_len) !=
	        CS_OK)
		goto out;
	same = certinfo_same_key(ci.spki, ci.spki_len, spki, spki_len);
	if (same == 0 && !force)
		code = out_failf(cli, CS_ERR_ARG,
		    "the certificate's key is not "
		    "the key in slot %s: nothing was written (--force stores it "
		    "anyway)",
		    s);
out:
	cs_free(spki);
	cs_cert_info_release(&ci);
	return code;
}

static int
do_import(struct cli *cli, struct cert_opts *o)
{
	uint8_t slot = o->slot;
	uint8_t *text = NULL, *der = NULL;
	size_t len = 0, derlen = 0;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	if ((code = pem_read_file(cli, o->in, &text, &len)) != CLI_CONTINUE)
		goto out;
	if (!pem_decode(CS_PEM_CERT, text, len, &der, &derlen)) {
		/* Not PEM: what the certificate parser says, as ever. */
		code = pem_is_armoured(text, len)
		    ? out_failf(cli, CS_ERR_MALFORMED, "%s: bad PEM", o->in)
		    : check_key(cli, slot, text, len, o->force);
		if (code == CLI_CONTINUE)
			code = out_failf(cli, CS_ERR_MALFORMED, "%s: bad PEM",
			    o->in);
		goto out;
	}
	if ((code = check_key(cli, slot, der, derlen, o->force)) !=
	    CLI_CONTINUE)
		goto out;
	if ((code = cli_mgm_auth(cli, &o->cs)) != CLI_CONTINUE)
		goto out;
	r = cs_piv_write_cert(cli->card, slot, der, derlen,
	    o->compress ? CS_PIV_CERT_COMPRESS : 0);
	if (r != CS_OK) {
		code = cli_card_fail(cli, r, "store certificate",
		    "card removed "
		    "while writing: the slot's certificate may be incomplete; "
		    "import it again");
		goto out;
	}
	code = done(cli, "stored in", slot);
out:
	free(text);
	free(der);
	return code;
}

static int
do_export(struct cli *cli, struct cert_opts *o)
{
	uint8_t *der = NULL;
	size_t len = 0;
	json_t *doc;
	char *pem = NULL, s[3];
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	cli_slot_str(o->slot, s);
	r = cs_piv_read_cert(cli->card, o->slot, &der, &len);
	if (r == CS_ERR_NOT_FOUND)
		return out_failf(cli, r, "slot %s has no certificate", s);
	if (r != CS_OK)
		return cli_card_fail(cli, r, "read certificate", NULL);
	pem_encode("CERTIFICATE", der, len, &pem);
	doc = out_doc_new();
	out_set(doc, "slot", out_str(s));
	code =
	    cardops_put_pem(cli, o->out, o->force, doc, "certificate_pem", pem);
	free(pem);
	cs_free(der);
	return code;
}

static int
do_delete(struct cli *cli, struct cert_opts *o)
{
	uint8_t slot = o->slot;
	uint8_t *der = NULL;
	size_t len = 0;
	char s[3], q[96];
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	cli_slot_str(slot, s);
	r = cs_piv_read_cert(cli->card, slot, &der, &len);
	cs_free(der);
	if (r == CS_ERR_NOT_FOUND)
		return out_failf(cli, r, "slot %s has no certificate", s);
	if (r != CS_OK)
		return cli_card_fail(cli, r, "read certificate",
		    "card removed "
		    "during the operation; nothing was deleted");
	snprintf(q, sizeof(q), "delete the certificate in slot %s", s);
	if ((code = secret_destructive(cli, o->force, q)) != CLI_CONTINUE)
		return code;
	if ((code = cli_mgm_auth(cli, &o->cs)) != CLI_CONTINUE)
		return code;
	if ((r = cs_piv_delete_cert(cli->card, slot)) != CS_OK)
		return cli_card_fail(cli, r, "delete certificate",
		    "card "
		    "removed during the operation: check with 'cardsmith "
		    "inspect'");
	return done(cli, "deleted from", slot);
}

static const struct cert_op import_op = { &import_usage, false, true,
	do_import };
static const struct cert_op export_op = { &export_usage, true, false,
	do_export };
static const struct cert_op delete_op = { &delete_usage, false, false,
	do_delete };

/*
 * The body of every cert subcommand, given the option table its caller
 * built over o: the --slot intake, --in, the card, then op->run.
 */
static int
cert_run(struct cli *cli, int argc, const char **argv, struct poptOption *opts,
    struct cert_opts *o, const struct cert_op *op)
{
	int r;

	memset(o, 0, sizeof(*o));
	card_secrets_init(&o->cs, &o->force);
	if ((r = cardops_slot_intake(cli, argc, argv, opts, op->usage,
	         &o->slot_arg, op->allow_f9, &o->slot)) != CLI_CONTINUE)
		goto out;
	if (op->needs_in && o->in == NULL) {
		r = out_usage(cli, "%s: --in FILE is required", cli->cmd->name);
		goto out;
	}
	if ((r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = op->run(cli, o);
out:
	card_secrets_release(&o->cs);
	free(o->slot_arg);
	free(o->in);
	free(o->out);
	return r;
}

static int
cert_import(struct cli *cli, int argc, const char **argv)
{
	struct cert_opts o;
	struct poptOption opts[] = {
		CARDOPS_SLOT_OPT(o.slot_arg,
		    "the slot (9a, 9c, 9d, 9e, 82..95)"),
		{ "in", 'i', POPT_ARG_STRING, &o.in, 0,
		    "the certificate, PEM or DER (- for standard input)",
		    "FILE" },
		{ "compress", '\0', POPT_ARG_NONE, &o.compress, 0,
		    "store it gzip-compressed (large certificates)", NULL },
		CLI_FORCE_OPT(o.force,
		    "store it even if its key is not the slot's key"),
		CARD_MGM_POPTS(o.cs),
		POPT_TABLEEND,
	};

	return cert_run(cli, argc, argv, opts, &o, &import_op);
}

static int
cert_export(struct cli *cli, int argc, const char **argv)
{
	struct cert_opts o;
	struct poptOption opts[] = {
		CARDOPS_SLOT_OPT(o.slot_arg,
		    "the slot (9a, 9c, 9d, 9e, 82..95, f9)"),
		CLI_OUT_OPT(o.out,
		    "write the PEM to FILE (default: standard output)"),
		CLI_FORCE_OPT(o.force, "replace an existing --out file"),
		POPT_TABLEEND,
	};

	return cert_run(cli, argc, argv, opts, &o, &export_op);
}

static int
cert_delete(struct cli *cli, int argc, const char **argv)
{
	struct cert_opts o;
	struct poptOption opts[] = {
		CARDOPS_SLOT_OPT(o.slot_arg,
		    "the slot (9a, 9c, 9d, 9e, 82..95)"),
		CLI_FORCE_OPT(o.force, "do not ask for confirmation"),
		CARD_MGM_POPTS(o.cs),
		POPT_TABLEEND,
	};

	return cert_run(cli, argc, argv, opts, &o, &delete_op);
}

int
cmd_cert(struct cli *cli, int argc, const char **argv)
{
	return cardops_group(cli, cert_subs, argc, argv);
}
