/*
 * Level names and the CA's level OIDs: the bottom of ca/, read by every
 * other file and calling none.
 */
#include <stdio.h>
#include <string.h>

#include "ca_int.h"

#include "banned.h"

static const char *const level_names[CS_CA_LEVEL_COUNT] = {
	"none",
	"software",
	"hardware-enrolled",
	"hardware-attested",
};

const char *
cs_ca_level_name(enum cs_ca_level level)
{
	if ((unsigned int)level >= CS_CA_LEVEL_COUNT)
		return "none";
	return level_names[level];
}

enum cs_err
cs_ca_level_parse(const char *name, enum cs_ca_level *out)
{
	size_t i;

	*out = CS_CA_LEVEL_NONE;
	if (name == NULL)
		return CS_ERR_ARG;
	for (i = 1; i < CS_CA_LEVEL_COUNT; i++)
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum cs_ca_level)i;
			return CS_OK;
		}
	return CS_ERR_ARG;
}

const char *
cs_ca_arc(const struct cs_ca *ca)
{
	return ca->arc;
}

const char *
cs_ca_level_oid(const struct cs_ca *ca, enum cs_ca_level level)
{
	if ((unsigned int)level >= CS_CA_LEVEL_COUNT)
		return "";
	return ca->oid[level];
}
