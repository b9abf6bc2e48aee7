/* cardsmith: umbrella header. */
#ifndef CARDSMITH_H
#define CARDSMITH_H

#include "common.h"
#include "buf.h"
#include "file.h"
#include "hex.h"
#include "pem.h"
#include "tlv.h"
#include "transport.h"
#include "apdu.h"
#include "pcsc.h"
#include "attest.h"
#include "piv.h"
#include "csr.h"
#include "x509.h"
/* x509_ossl.h carries OpenSSL types: include it explicitly. */

#endif
