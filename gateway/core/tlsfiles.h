/* SPDX-License-Identifier: MIT */
/* gateway/core/tlsfiles.h - a TLS server's files into GnuTLS credentials:
 * the certificate chain, the key (which must match it) and the CAs of the
 * clients (verified and told to the client).  --check, a start and a
 * reload load them so; tlsconn.c builds its contexts with it. */
#ifndef GATEWAY_CORE_TLSFILES_H
#define GATEWAY_CORE_TLSFILES_H

#include <stddef.h>

#include <gnutls/gnutls.h>

/* Into cred: 0, or -1 with the file and what is wrong with it in err
 * (starting "certificate", "key" or "CA file"). */
int gw_tls_files_load(gnutls_certificate_credentials_t cred, const char *cert, const char *key, const char *ca,
		      char *err, size_t errlen);
/* The check of --check ([modbus_tls]'s, gateway/modbus/mbtls_conf.c): the files into
 * credentials of their own, freed.  0, or -1 with why ("out of memory"). */
int gw_tls_files_check(const char *cert, const char *key, const char *ca, char *why, size_t wl);

#endif
