#include <stddef.h>

#include "internal.h"

#include "banned.h"

struct err_text {
	const char *name;
	const char *text;
};

/* Indexed by enum cs_err; keep in the enum's order. */
static const struct err_text err_texts[CS_ERR__COUNT] = {
	[CS_OK] = { "CS_OK", "success" },
	[CS_ERR_INTERNAL] = { "CS_ERR_INTERNAL", "internal error" },
	[CS_ERR_NOMEM] = { "CS_ERR_NOMEM", "out of memory" },
	[CS_ERR_ARG] = { "CS_ERR_ARG", "invalid argument" },
	[CS_ERR_LIMIT] = { "CS_ERR_LIMIT", "size limit exceeded" },
	[CS_ERR_TRUNCATED] = { "CS_ERR_TRUNCATED", "truncated data" },
	[CS_ERR_MALFORMED] = { "CS_ERR_MALFORMED", "malformed data" },
	[CS_ERR_TRANSPORT] = { "CS_ERR_TRANSPORT", "reader communication failed" },
	[CS_ERR_NO_CARD] = { "CS_ERR_NO_CARD", "no card" },
	[CS_ERR_SW] = { "CS_ERR_SW", "card returned an error" },
	[CS_ERR_AUTH] = { "CS_ERR_AUTH", "authentication failed" },
	[CS_ERR_BLOCKED] = { "CS_ERR_BLOCKED", "blocked" },
	[CS_ERR_VERIFY] = { "CS_ERR_VERIFY", "verification failed" },
	[CS_ERR_POLICY] = { "CS_ERR_POLICY", "refused by policy" },
	[CS_ERR_STORE] = { "CS_ERR_STORE", "registry error" },
	[CS_ERR_CRYPTO] = { "CS_ERR_CRYPTO", "cryptographic operation failed" },
	[CS_ERR_REMOVED] = { "CS_ERR_REMOVED", "card removed or reset" },
	[CS_ERR_NOT_FOUND] = { "CS_ERR_NOT_FOUND", "not found" },
	[CS_ERR_UNSUPPORTED] = { "CS_ERR_UNSUPPORTED", "not supported" },
	[CS_ERR_TIMEOUT] = { "CS_ERR_TIMEOUT", "timed out" },
	[CS_ERR_IO] = { "CS_ERR_IO", "I/O error" },
	[CS_ERR_CANCELLED] = { "CS_ERR_CANCELLED", "cancelled" },
	[CS_ERR_ACCESS] = { "CS_ERR_ACCESS", "security status not satisfied" },
};

const char *
cs_strerror(enum cs_err err)
{
	if ((unsigned)err >= CS_ERR__COUNT || err_texts[err].text == NULL)
		return "unknown error";
	return err_texts[err].text;
}

const char *
cs_errname(enum cs_err err)
{
	if ((unsigned)err >= CS_ERR__COUNT || err_texts[err].name == NULL)
		return "CS_ERR_UNKNOWN";
	return err_texts[err].name;
}

const char *
cs_version(void)
{
	return CS_VERSION;
}
