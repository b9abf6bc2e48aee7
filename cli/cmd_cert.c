/* cardsmith cert import|export|delete: a slot's certificate object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "certinfo.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"
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

struct cert_opts {
	char *slot, *in, *out;
	int compress, force;
};

static void
cert_opts_release(struct cert_opts *o)
{
	free(o->slot);
	free(o->in);
	free(o->out);
}

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
do_import(struct cli *cli, struct card_secrets *cs, const struct cert_opts *o,
    uint8_t slot)
{
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
	if ((code = cli_mgm_auth(cli, cs)) != CLI_CONTINUE)
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
cert_import(struct cli *cli, int argc, const char **argv)
{
	struct card_secrets cs;
	struct cert_opts o;
	poptContext con = NULL;
	uint8_t slot = 0;
	int r;

	memset(&o, 0, sizeof(o));
	card_secrets_init(&cs);
	cs.force = &o.force;
	struct poptOption opts[] = {
		{ "slot", 's', POPT_ARG_STRING, &o.slot, 0,
		    "the slot (9a, 9c, 9d, 9e, 82..95)", "SLOT" },
		{ "in", 'i', POPT_ARG_STRING, &o.in, 0,
		    "the certificate, PEM or DER (- for standard input)",
		    "FILE" },
		{ "compress", '\0', POPT_ARG_NONE, &o.compress, 0,
		    "store it gzip-compressed (large certificates)", NULL },
		CLI_FORCE_OPT(o.force,
		    "store it even if its key is not the slot's key"),
		SECRET_POPT(cs.pin, "pin", "PIN"),
		CARD_LAST_TRY_POPT(cs),
		SECRET_POPT(cs.mgm, "mgmt-key", "management key (hex)"),
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	if ((r = cli_parse(cli, argc, argv, opts, &import_usage, &con)) !=
	    CLI_CONTINUE)
		goto out;
	if ((r = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (r = cli_slot_arg(cli, o.slot, false, &slot)) != CLI_CONTINUE)
		goto out;
	if (o.in == NULL) {
		r = out_usage(cli, "cert import: --in FILE is required");
		goto out;
	}
	if ((r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_import(cli, &cs, &o, slot);
out:
	poptFreeContext(con);
	card_secrets_release(&cs);
	cert_opts_release(&o);
	return r;
}

static int
do_export(struct cli *cli, const struct cert_opts *o, uint8_t slot)
{
	uint8_t *der = NULL;
	size_t len = 0;
	json_t *doc;
	char *pem = NULL, s[3];
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	cli_slot_str(slot, s);
	r = cs_piv_read_cert(cli->card, slot, &der, &len);
	if (r == CS_ERR_NOT_FOUND)
		return out_failf(cli, r, "slot %s has no certificate", s);
	if (r != CS_OK)
		return cli_card_fail(cli, r, "read certificate", NULL);
	pem_encode("CERTIFICATE", der, len, &pem);
	if (o->out != NULL &&
	    (code = outfile_put(cli, o->out, pem,
	         OUTFILE_HINT_FORCE | (o->force ? OUTFILE_FORCE : 0))) !=
	        CLI_CONTINUE)
		goto out;
	if (cli->json) {
		doc = out_doc_new();
		out_set(doc, "slot", out_str(s));
		out_set(doc, "certificate_pem", out_str(pem));
		code = out_emit(cli, doc);
	} else {
		if (o->out == NULL)
			fputs(pem, stdout);
		code = CLI_EXIT_OK;
	}
out:
	free(pem);
	cs_free(der);
	return code;
}

static int
cert_export(struct cli *cli, int argc, const char **argv)
{
	struct cert_opts o;
	poptContext con = NULL;
	uint8_t slot = 0;
	int r;

	memset(&o, 0, sizeof(o));
	struct poptOption opts[] = {
		{ "slot", 's', POPT_ARG_STRING, &o.slot, 0,
		    "the slot (9a, 9c, 9d, 9e, 82..95, f9)", "SLOT" },
		CLI_OUT_OPT(o.out,
		    "write the PEM to FILE (default: standard output)"),
		CLI_FORCE_OPT(o.force, "replace an existing --out file"),
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	if ((r = cli_parse(cli, argc, argv, opts, &export_usage, &con)) !=
	    CLI_CONTINUE)
		goto out;
	if ((r = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (r = cli_slot_arg(cli, o.slot, true, &slot)) != CLI_CONTINUE)
		goto out;
	if ((r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_export(cli, &o, slot);
out:
	poptFreeContext(con);
	cert_opts_release(&o);
	return r;
}

static int
do_delete(struct cli *cli, struct card_secrets *cs, const struct cert_opts *o,
    uint8_t slot)
{
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
	if ((code = cli_mgm_auth(cli, cs)) != CLI_CONTINUE)
		return code;
	if ((r = cs_piv_delete_cert(cli->card, slot)) != CS_OK)
		return cli_card_fail(cli, r, "delete certificate",
		    "card "
		    "removed during the operation: check with 'cardsmith "
		    "inspect'");
	return done(cli, "deleted from", slot);
}

static int
cert_delete(struct cli *cli, int argc, const char **argv)
{
	struct card_secrets cs;
	struct cert_opts o;
	poptContext con = NULL;
	uint8_t slot = 0;
	int r;

	memset(&o, 0, sizeof(o));
	card_secrets_init(&cs);
	cs.force = &o.force;
	struct poptOption opts[] = {
		{ "slot", 's', POPT_ARG_STRING, &o.slot, 0,
		    "the slot (9a, 9c, 9d, 9e, 82..95)", "SLOT" },
		CLI_FORCE_OPT(o.force, "do not ask for confirmation"),
		SECRET_POPT(cs.pin, "pin", "PIN"),
		CARD_LAST_TRY_POPT(cs),
		SECRET_POPT(cs.mgm, "mgmt-key", "management key (hex)"),
		POPT_TABLEEND,
	};

	cli->defer_needs = 1;
	if ((r = cli_parse(cli, argc, argv, opts, &delete_usage, &con)) !=
	    CLI_CONTINUE)
		goto out;
	if ((r = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (r = cli_slot_arg(cli, o.slot, false, &slot)) != CLI_CONTINUE)
		goto out;
	if ((r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_delete(cli, &cs, &o, slot);
out:
	poptFreeContext(con);
	card_secrets_release(&cs);
	cert_opts_release(&o);
	return r;
}

int
cmd_cert(struct cli *cli, int argc, const char **argv)
{
	const struct cmd *sub = cli_find_sub(cert_subs, argc, argv);

	if (sub == NULL)
		return cli_group_usage(cli, cert_subs, argc, argv);
	return cli_run_sub(cli, sub, argc, argv);
}
