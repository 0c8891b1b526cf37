/* SPDX-License-Identifier: MIT */
/* conf/b64.c - base64 (RFC 4648 section 4: the standard alphabet, padded)
 * of the values and files the configuration names: the ESPHome API key of
 * a [ble_proxy.NAME] and the salts and hashes of [http]'s users file.  The
 * one base64 of bmsgw, strict: no blank, no missing or misplaced padding,
 * on OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock. */
#include "conf.h"

#include <openssl/evp.h>
#include <string.h>

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

long conf_b64_decode(const char *s, size_t n, uint8_t *out, size_t max)
{
	if (n == 0 || n % 4 || n > CONF_B64_MAX)
		return -1;
	size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(s[i]))
			return -1;
	unsigned char tmp[CONF_B64_MAX / 4 * 3];
	int len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
	if (len < 0 || (size_t)len < pad || (size_t)len - pad > max) {
		OPENSSL_cleanse(tmp, sizeof(tmp));
		return -1;
	}
	len -= (int)pad; /* EVP_DecodeBlock counts the padding as zeros */
	memcpy(out, tmp, (size_t)len);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return len;
}

size_t conf_b64_encode(const uint8_t *in, size_t n, char *out, size_t outlen)
{
	size_t need = (n + 2) / 3 * 4;
	if (outlen < need + 1 || n > CONF_B64_MAX / 4 * 3)
		return 0;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	out[need] = '\0';
	return need;
}
