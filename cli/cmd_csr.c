/* cardsmith csr: a PKCS#10 request signed on the card by a slot's key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"
#include "cardops.h"
#include "exit.h"
#include "out.h"
#include "outfile.h"
#include "pem.h"

#include "banned.h"

#define CSR_SANS_MAX 32

static const struct cli_usage csr_usage = {
	"--slot SLOT --subject DN [--san TYPE:VALUE]... [--attest] "
	"[--digest sha256|sha384|sha512] [--pubkey FILE] [--out FILE]",
	"Build a certificate signing request for the key in SLOT and sign it "
	"on the card\n(the PIN is needed). DN is \"CN=Jane,O=Example\" or "
	"\"/CN=Jane/O=Example\". --san\nadds a subject alternative name "
	"(email:, dns:, uri:, ip:, upn:), repeatable.\n--attest embeds the "
	"slot's attestation and the F9 certificate, as\nyubico-piv-tool "
	"2.7.2 does, so a CA can check that the key was made on the\ncard. "
	"The public key is read from the card (YubiKey 5.3+) or --pubkey. "
	"The\nrequest is printed as PEM or written to --out. For a key with "
	"touch policy\nalways or cached, \"touch the card's button now\" "
	"goes to standard error just\nbefore the card waits.",
	"  cardsmith csr --slot 9a --subject \"CN=Jane Doe\" --san "
	"email:jane@example.org \\\n      --attest --out req.pem",
};

struct csr_opts {
	char *slot, *subject, *digest, *pubkey, *out;
	const char *sans[CSR_SANS_MAX + 1];
	size_t nsans;
	int attest, legacy, force;
};

static int
add_san(struct cli *cli, struct csr_opts *o, const char *v)
{
	if (o->nsans >= CSR_SANS_MAX)
		return out_usage(cli, "csr: at most %d --san", CSR_SANS_MAX);
	if (strchr(v, ':') == NULL)
		return out_usage(cli,
		    "csr: --san '%s': write TYPE:VALUE "
		    "(email:, dns:, uri:, ip:, upn:)",
		    v);
	o->sans[o->nsans++] = v;
	o->sans[o->nsans] = NULL;
	return CLI_CONTINUE;
}

/* A subject, SAN or digest cs_csr_build would refuse: a usage error. */
static int
check_names(struct cli *cli, const struct csr_opts *o)
{
	struct cs_csr_req req;
	enum cs_err r = CS_ERR_INTERNAL;

	memset(&req, 0, sizeof(req));
	req.subject = o->subject;
	req.sans = o->nsans > 0 ? o->sans : NULL;
	req.digest = o->digest;
	if ((r = cs_csr_check(cli->ctx, &req)) != CS_OK)
		return out_usage(cli, "csr: %s",
		    *cs_ctx_errmsg(cli->ctx) != '\0' ? cs_ctx_errmsg(cli->ctx)
		                                     : cs_strerror(r));
	return CLI_CONTINUE;
}

static int
read_pubkey(struct cli *cli, const char *path, uint8_t **spki, size_t *len)
{
	uint8_t *text = NULL;
	size_t tlen = 0;
	int code;

	if ((code = pem_read_file(cli, path, &text, &tlen)) != CLI_CONTINUE)
		return code;
	if (!pem_decode(CS_PEM_PUBKEY, text, tlen, spki, len))
		code = out_failf(cli, CS_ERR_MALFORMED,
		    "%s: not a PEM public "
		    "key",
		    path);
	free(text);
	return code;
}

static int
emit_csr(struct cli *cli, const struct csr_opts *o, uint8_t slot,
    const uint8_t *der, size_t len)
{
	json_t *doc = out_doc_new();
	char *pem = NULL, s[3];
	int code;

	pem_encode("CERTIFICATE REQUEST", der, len, &pem);
	out_set(doc, "slot", out_str(cli_slot_str(slot, s)));
	out_set(doc, "subject", out_str(o->subject));
	out_set(doc, "attestation", json_boolean(o->attest));
	code = cardops_put_pem(cli, o->out, o->force, doc, "csr_pem", pem);
	free(pem);
	return code;
}

static int
do_csr(struct cli *cli, struct card_secrets *cs, struct csr_opts *o,
    uint8_t slot)
{
	struct cs_csr_req req;
	uint8_t *spki = NULL, *der = NULL;
	size_t spki_len = 0, len = 0;
	enum cs_err r = CS_ERR_INTERNAL;
	int code;

	memset(&req, 0, sizeof(req));
	/* Before the PIN is spent on a signature that could not be kept. */
	if (o->out != NULL &&
	    (code = outfile_preflight(cli, o->out,
	         cardops_out_flags(o->force))) != CLI_CONTINUE)
		goto out;
	if (o->pubkey != NULL &&
	    (code = read_pubkey(cli, o->pubkey, &spki, &spki_len)) !=
	        CLI_CONTINUE)
		goto out;
	if ((code = cli_pin_verify(cli, cs)) != CLI_CONTINUE)
		goto out;
	cli_card_watch_touch(cli);
	req.subject = o->subject;
	req.sans = o->nsans > 0 ? o->sans : NULL;
	req.digest = o->digest;
	req.spki = spki;
	req.spki_len = spki_len;
	if (o->attest)
		req.flags |= CS_CSR_ATTEST;
	if (o->legacy)
		req.flags |= CS_CSR_ATTEST_LEGACY_OID;
	out_verbose(cli, "signing the request on the card");
	if ((r = cs_csr_build(cli->card, slot, &req, &der, &len)) != CS_OK) {
		code = cli_card_fail(cli, r, "certificate request",
		    "card removed during the operation; nothing was written");
		goto out;
	}
	code = emit_csr(cli, o, slot, der, len);
out:
	cs_free(der);
	free(spki);
	return code;
}

int
cmd_csr(struct cli *cli, int argc, const char **argv)
{
	enum { OPT_SAN = 1 };
	struct card_secrets cs;
	struct csr_opts o;
	char *san = NULL;
	poptContext con = NULL;
	uint8_t slot = 0;
	int r, rc;

	memset(&o, 0, sizeof(o));
	card_secrets_init(&cs, &o.force);
	struct poptOption opts[] = {
		CARDOPS_SLOT_OPT(o.slot,
		    "the slot whose key signs (9a, 9c, 9d, 9e, 82..95)"),
		{ "subject", '\0', POPT_ARG_STRING, &o.subject, 0,
		    "subject name, \"CN=...,O=...\"", "DN" },
		{ "san", '\0', POPT_ARG_STRING, &san, OPT_SAN,
		    "subject alternative name (repeatable)", "TYPE:VALUE" },
		{ "attest", '\0', POPT_ARG_NONE, &o.attest, 0,
		    "embed the slot's attestation and F9 certificate", NULL },
		{ "attest-legacy-oid", '\0', POPT_ARG_NONE, &o.legacy, 0,
		    "embed it under the pre-2.7.2 OID .3.11", NULL },
		{ "digest", '\0', POPT_ARG_STRING, &o.digest, 0,
		    "sha256 (default), sha384, sha512", "DIGEST" },
		{ "pubkey", '\0', POPT_ARG_STRING, &o.pubkey, 0,
		    "the slot's public key, for cards without metadata",
		    "FILE" },
		CLI_OUT_OPT(o.out,
		    "write the request to FILE (default: standard output)"),
		CLI_FORCE_OPT(o.force, "replace an existing --out file"),
		SECRET_POPT(cs.pin, "pin", "PIN"),
		CARD_LAST_TRY_POPT(cs),
		POPT_TABLEEND,
	};
	char *sanlist[CSR_SANS_MAX + 1];
	size_t nsan = 0, i;

	/* Own option loop: --san repeats. */
	cli->defer_needs = 1;
	r = cli_parse_repeat(cli, argc, argv, opts, &csr_usage, &con, OPT_SAN,
	    &san, sanlist, CSR_SANS_MAX, &nsan);
	if (r != CLI_CONTINUE)
		goto out;
	for (i = 0; i < nsan; i++)
		if ((rc = add_san(cli, &o, sanlist[i])) != CLI_CONTINUE) {
			r = rc;
			goto out;
		}
	if ((r = cli_no_args(cli, con)) != CLI_CONTINUE ||
	    (r = cli_slot_arg(cli, o.slot, false, &slot)) != CLI_CONTINUE)
		goto out;
	if (o.subject == NULL) {
		r = out_usage(cli, "csr: --subject is required");
		goto out;
	}
	if (o.legacy)
		o.attest = 1;
	if ((r = check_names(cli, &o)) == CLI_CONTINUE &&
	    (r = cli_open_needs(cli)) == CLI_CONTINUE)
		r = do_csr(cli, &cs, &o, slot);
out:
	for (i = 0; i < nsan; i++)
		free(sanlist[i]);
	poptFreeContext(con);
	card_secrets_release(&cs);
	free(o.slot);
	free(o.subject);
	free(o.digest);
	free(o.pubkey);
	free(o.out);
	return r;
}
