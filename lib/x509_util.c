/*
 * Small X.509 helpers shared by attest.c, x509.c and csr.c: time
 * conversion, the PIV algorithm of a key and the PEM callback that
 * refuses encrypted input.
 */
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "cardsmith/piv.h"
#include "x509_int.h"

#include "banned.h"

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days
 * inverse), so conversion never depends on the process time zone or on
 * timegm's range.
 */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool
csi_asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	*out = days_from_civil((int64_t)tm.tm_year + 1900,
	    (int64_t)tm.tm_mon + 1, tm.tm_mday) * 86400 +
	    (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

uint8_t
csi_pkey_piv_alg(const EVP_PKEY *k)
{
	char group[64];
	size_t glen = 0;

	if (k == NULL)
		return 0;
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		switch (EVP_PKEY_get_bits(k)) {
		case 1024:
			return CS_PIV_ALG_RSA1024;
		case 2048:
			return CS_PIV_ALG_RSA2048;
		case 3072:
			return CS_PIV_ALG_RSA3072;
		case 4096:
			return CS_PIV_ALG_RSA4096;
		default:
			return 0;
		}
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) != 1)
			return 0;
		switch (OBJ_sn2nid(group)) {
		case NID_X9_62_prime256v1:
			return CS_PIV_ALG_P256;
		case NID_secp384r1:
			return CS_PIV_ALG_P384;
		default:
			return 0;
		}
	case EVP_PKEY_ED25519:
		return CS_PIV_ALG_ED25519;
	case EVP_PKEY_X25519:
		return CS_PIV_ALG_X25519;
	default:
		return 0;
	}
}

int
csi_pem_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}
