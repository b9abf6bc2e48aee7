/* In-process simulator transport; see sim_transport.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "applet.h"
#include "sim_transport.h"

#include "banned.h"

struct simt {
	struct sim_card *card; /* borrowed */
	size_t left;           /* commands before removal; SIZE_MAX never */
	size_t nbegin, nend;
};

static enum cs_err
simt_transmit(void *self, struct cs_ctx *ctx, const uint8_t *cmd,
    size_t cmdlen, uint8_t *resp, size_t respcap, size_t *resplen)
{
	struct simt *s = self;

	*resplen = 0;
	if (s->left == 0)
		return csi_fail(ctx, CS_ERR_REMOVED, "sim: card removed");
	if (s->left != SIZE_MAX)
		s->left--;
	if (respcap < 2)
		return csi_fail(ctx, CS_ERR_TRANSPORT, "sim: buffer too small");
	sim_card_apdu(s->card, cmd, cmdlen, resp, respcap, resplen);
	if (*resplen < 2 || *resplen > respcap)
		return csi_fail(ctx, CS_ERR_TRANSPORT, "sim: bad answer");
	return CS_OK;
}

static enum cs_err
simt_begin(void *self, struct cs_ctx *ctx)
{
	struct simt *s = self;

	if (s->left == 0)
		return csi_fail(ctx, CS_ERR_REMOVED, "sim: card removed");
	s->nbegin++;
	return CS_OK;
}

static void
simt_end(void *self)
{
	struct simt *s = self;

	s->nend++;
}

static enum cs_err
simt_get_atr(void *self, struct cs_ctx *ctx, uint8_t *atr, size_t cap,
    size_t *len)
{
	(void)self;
	*len = 0;
	if (cap < sizeof(sim_card_atr))
		return csi_fail(ctx, CS_ERR_LIMIT, "sim: ATR buffer too small");
	memcpy(atr, sim_card_atr, sizeof(sim_card_atr));
	*len = sizeof(sim_card_atr);
	return CS_OK;
}

static void
simt_close(void *self)
{
	free(self);
}

static const struct cs_transport_ops simt_ops = {
	.transmit = simt_transmit,
	.begin = simt_begin,
	.end = simt_end,
	.get_atr = simt_get_atr,
	.close = simt_close,
};

enum cs_err
cs_sim_transport_new(struct sim_card *card, struct cs_transport **out)
{
	struct simt *s;
	enum cs_err r;

	*out = NULL;
	if (card == NULL)
		return CS_ERR_ARG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CS_ERR_NOMEM;
	s->card = card;
	s->left = SIZE_MAX;
	if ((r = cs_transport_new(&simt_ops, s, "sim", out)) != CS_OK)
		free(s);
	return r;
}

void
cs_sim_transport_remove_after(struct cs_transport *t, size_t n)
{
	struct simt *s = t->self;

	s->left = n;
}

size_t
cs_sim_transport_nbegin(const struct cs_transport *t)
{
	const struct simt *s = t->self;

	return s->nbegin;
}

size_t
cs_sim_transport_nend(const struct cs_transport *t)
{
	const struct simt *s = t->self;

	return s->nend;
}
