/*
 * OpenSSL-object helpers for ca/ and cli/: the one distinguished-name
 * parser, the one subjectAltName parser and the one certificate / request
 * decoder of the project, handing out OpenSSL objects.
 *
 * Unlike the other public headers this one carries OpenSSL types, so it
 * is not part of the umbrella cardsmith.h; include it explicitly. Every
 * object handed out is owned by the caller and freed with OpenSSL's own
 * *_free function.
 */
#ifndef CARDSMITH_X509_OSSL_H
#define CARDSMITH_X509_OSSL_H

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common.h"
#include "x509.h"

/*
 * Parse a distinguished name written as text. Two forms:
 *
 * - RFC 4514, "CN=Jane Doe,O=Example,C=DE": RDNs separated by ',', the
 *   attribute values of a multi-valued RDN joined by '+'. The string is
 *   written most specific first, so the RDNs are stored in reverse: the
 *   name's first (DER) RDN is the last one written (C=DE above), the last
 *   RDN is the first written (CN=Jane Doe). The AVAs of one '+' RDN keep
 *   the written order. Escapes (RFC 4514 section 2.4): "\XX" (two hex
 *   digits, one byte) or "\c" (c literally). An unescaped '"', ';', '<'
 *   or '>' anywhere in a value, or '#' at its start, is CS_ERR_ARG (the
 *   '#' hex-string form is not supported).
 * - OpenSSL, "/C=DE/O=Example/CN=Jane Doe" (starts with '/'): components
 *   separated by '/', kept in written order (the first written is the
 *   first DER RDN), one RDN per component; '+' is an ordinary character
 *   in values, "\c" the only escape, and one trailing '/' is allowed.
 *
 * So "CN=Root,O=Example,C=DE" and "/C=DE/O=Example/CN=Root" give the same
 * name, which prints (RFC 2253) as "CN=Root,O=Example,C=DE".
 *
 * In both forms: type is a short name ("CN"), long name ("commonName") or
 * dotted OID ("2.5.4.3"); spaces around the type and before the value are
 * skipped, unescaped trailing spaces of a value dropped; values are UTF-8
 * and OpenSSL picks each attribute's string type (C as PrintableString).
 * Limits: fewer than 4096 characters (CS_ERR_LIMIT), at most 64 attribute
 * values (CS_ERR_LIMIT). NULL, "", "/", an empty value, a missing '=', an
 * unknown type, a dangling '\', a trailing separator or a value the type
 * does not allow ("C=Germany") are CS_ERR_ARG with a message in ctx (may
 * be NULL) that quotes the component: "subject: \"CN\": expected
 * type=value". On CS_OK *out is the name; caller frees it with
 * X509_NAME_free. *out is NULL on failure.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_x509_name_parse(struct cs_ctx *ctx,
    const char *s, X509_NAME **out);

/*
 * Parse subject alternative names from a NULL-terminated list of
 * "kind:value" strings, kind (case-insensitive) one of: "email:a@b"
 * (rfc822Name), "dns:host" (dNSName), "uri:scheme:..." (URI), "ip:10.0.0.1"
 * or an IPv6 address (iPAddress), "upn:a@b" (Microsoft UPN otherName
 * 1.3.6.1.4.1.311.20.2.3, UTF-8). email, dns and uri values are printable
 * ASCII without spaces (IDNs as xn-- A-labels); an e-mail address needs an
 * inner '@', a URI a ':'. Values are 1 to 2048 characters, at most 64
 * names (CS_ERR_LIMIT); anything else is CS_ERR_ARG with "SAN \"...\": ..."
 * in ctx (may be NULL). sans NULL or empty gives CS_OK with *out NULL.
 * Names keep the list order. Caller frees *out with GENERAL_NAMES_free.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_x509_san_parse(struct cs_ctx *ctx,
    const char *const *sans, GENERAL_NAMES **out);

/*
 * Decode one certificate from p: exactly one DER certificate (no trailing
 * bytes), or with CS_X509_PEM and input that does not start with a DER
 * SEQUENCE (0x30) the first PEM "CERTIFICATE" block that decodes (see
 * cs_pem_decode). The same decoder cs_cert_info_parse uses, with the same
 * errors in ctx (may be NULL): CS_ERR_MALFORMED "not a DER X.509
 * certificate" (also empty input, trailing data) or "certificate: no PEM
 * X.509 certificate"; CS_ERR_LIMIT over CS_X509_DER_MAX bytes of DER
 * (PEM: twice that); CS_ERR_ARG for flags other than CS_X509_PEM or NULL
 * input with a length. Caller frees *out with X509_free; NULL on failure.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_x509_cert_decode(struct cs_ctx *ctx,
    const uint8_t *p, size_t len, unsigned int flags, X509 **out);

/*
 * Decode one PKCS#10 request, as cs_x509_cert_decode does certificates
 * (PEM label "CERTIFICATE REQUEST" or "NEW CERTIFICATE REQUEST"; messages
 * "not a DER certificate request", "certificate request: no PEM
 * certificate request"). flags: CS_X509_PEM, and CS_X509_CSR_VERIFY to
 * also require a public key OpenSSL can use (CS_ERR_MALFORMED
 * "certificate request: public key unreadable") and a valid
 * self-signature (CS_ERR_VERIFY "certificate request: signature does not
 * verify"). Caller frees *out with X509_REQ_free; NULL on failure.
 */
CS_EXPORT CS_MUST_CHECK enum cs_err cs_x509_csr_decode(struct cs_ctx *ctx,
    const uint8_t *p, size_t len, unsigned int flags, X509_REQ **out);

#endif
