#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cardsmith/transport.h"

#include "cardlist.h"

#include "banned.h"

/* "3B FD 13 ..." for the longest ATR, NUL included. */
#define ATR_TEXT_MAX (CS_ATR_MAX * 3)

enum line_kind {
	LINE_SKIP, /* comment, blank, or too long to be an ATR pattern */
	LINE_ATR,
	LINE_DESC,
};

/*
 * Read one line into buf[0..cap), without the newline and trailing
 * blanks. The rest of an over-long line is consumed and *toolong set.
 * Returns false at end of file.
 */
static bool
read_line(FILE *f, char *buf, size_t cap, bool *toolong)
{
	size_t n;
	int c;

	*toolong = false;
	if (fgets(buf, (int)cap, f) == NULL)
		return false;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(f)) {
		*toolong = true;
		while ((c = fgetc(f)) != EOF && c != '\n')
			;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return true;
}

static enum line_kind
classify(const char *line, bool toolong)
{
	if (line[0] == '\0' || line[0] == '#')
		return LINE_SKIP;
	if (line[0] == '\t' || line[0] == ' ')
		return LINE_DESC;
	return toolong ? LINE_SKIP : LINE_ATR;
}

/*
 * Cheap filter before regcomp: false only if pat cannot match s. Patterns
 * with quantifiers, groups, anchors or escapes are "maybe"; the rest match
 * one character per literal, '.' or bracket expression, so they can be
 * walked alongside s.
 */
bool
cardlist_may_match(const char *pat, const char *s)
{
	size_t i = 0, j = 0, k;

	if (strpbrk(pat, "*+?{}()|\\^$") != NULL)
		return true;
	while (pat[i] != '\0') {
		if (s[j] == '\0')
			return false;
		if (pat[i] == '[') {
			k = i + 1;
			if (pat[k] == ']') /* a leading ']' is literal */
				k++;
			while (pat[k] != '\0' && pat[k] != ']') {
				if (pat[k] == '[') /* [:class:] etc. */
					return true;
				k++;
			}
			if (pat[k] == '\0')
				return true; /* unbalanced: regcomp decides */
			i = k + 1;
		} else if (pat[i] != '.' &&
		    toupper((unsigned char)pat[i]) !=
		        toupper((unsigned char)s[j]))
			return false;
		else
			i++;
		j++;
	}
	return s[j] == '\0';
}

static bool
atr_matches(const char *pat, const char *atrtext)
{
	char re[CARDLIST_LINE_MAX + 8];
	regex_t rx;
	int n, rc;

	if (!cardlist_may_match(pat, atrtext))
		return false;
	n = snprintf(re, sizeof(re), "^(%s)$", pat);
	if (n < 0 || (size_t)n >= sizeof(re))
		return false;
	/* A malformed pattern is skipped: the list is data, not code. */
	if (regcomp(&rx, re, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
		return false;
	rc = regexec(&rx, atrtext, 0, NULL, 0);
	regfree(&rx);
	return rc == 0;
}

static void
copy_desc(const char *line, char *name, size_t cap)
{
	while (*line == '\t' || *line == ' ')
		line++;
	snprintf(name, cap, "%s", line);
}

bool
cardlist_lookup_path(const char *path, const uint8_t *atr, size_t atrlen,
    char *name, size_t cap)
{
	char line[CARDLIST_LINE_MAX], atrtext[ATR_TEXT_MAX];
	FILE *f = NULL;
	bool toolong, matched = false, found = false;
	size_t i, o = 0;

	if (cap > 0)
		name[0] = '\0';
	if (atrlen == 0 || atrlen > CS_ATR_MAX || cap == 0)
		goto out;
	for (i = 0; i < atrlen; i++)
		o += (size_t)snprintf(atrtext + o, sizeof(atrtext) - o,
		    i == 0 ? "%02X" : " %02X", atr[i]);
	if ((f = fopen(path, "re")) == NULL)
		goto out;
	while (!found && read_line(f, line, sizeof(line), &toolong)) {
		switch (classify(line, toolong)) {
		case LINE_ATR:
			/* an entry without descriptions names nothing */
			matched = atr_matches(line, atrtext);
			break;
		case LINE_DESC:
			if (matched) {
				copy_desc(line, name, cap);
				found = name[0] != '\0';
			}
			break;
		case LINE_SKIP:
		default:
			break;
		}
	}
out:
	if (f != NULL)
		fclose(f);
	return found;
}

bool
cardlist_lookup(const uint8_t *atr, size_t atrlen, char *name, size_t cap)
{
	const char *path = getenv(CARDLIST_ENV);

	if (path == NULL || *path == '\0')
		path = CARDLIST_PATH;
	return cardlist_lookup_path(path, atr, atrlen, name, cap);
}
