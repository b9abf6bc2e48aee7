#include <stdlib.h>

#include "internal.h"

#include "banned.h"

enum cs_err
cs_transport_new(const struct cs_transport_ops *ops, void *self,
    const char *name, struct cs_transport **out)
{
	struct cs_transport *t;

	*out = NULL;
	if (ops == NULL || ops->transmit == NULL)
		return CS_ERR_ARG;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return CS_ERR_NOMEM;
	t->ops = ops;
	t->self = self;
	t->name = name;
	*out = t;
	return CS_OK;
}

void
cs_transport_close(struct cs_transport *t)
{
	if (t == NULL)
		return;
	if (t->ops->close != NULL)
		t->ops->close(t->self);
	free(t);
}

enum cs_err
cs_transport_transmit(struct cs_transport *t, struct cs_ctx *ctx,
    const uint8_t *cmd, size_t cmdlen, uint8_t *resp, size_t respcap,
    size_t *resplen)
{
	*resplen = 0;
	return t->ops->transmit(t->self, ctx, cmd, cmdlen, resp, respcap,
	    resplen);
}

enum cs_err
cs_transport_begin(struct cs_transport *t, struct cs_ctx *ctx)
{
	if (t->ops->begin == NULL)
		return CS_OK;
	return t->ops->begin(t->self, ctx);
}

void
cs_transport_end(struct cs_transport *t)
{
	if (t->ops->end != NULL)
		t->ops->end(t->self);
}

enum cs_err
cs_transport_get_atr(struct cs_transport *t, struct cs_ctx *ctx,
    uint8_t *atr, size_t cap, size_t *len)
{
	*len = 0;
	if (t->ops->get_atr == NULL)
		return csi_fail(ctx, CS_ERR_UNSUPPORTED,
		    "%s: transport has no ATR", t->name);
	return t->ops->get_atr(t->self, ctx, atr, cap, len);
}
