/* SPDX-License-Identifier: MIT */
/* gateway/wire/esphome/espkey.c - the `api: encryption: key:` of an ESPHome
 * device: base64 (RFC 4648, the standard alphabet, padded, as ESPHome's
 * YAML validator and aioesphomeapi's base64.b64decode take it) of 32
 * bytes.  See espcodec.h. */
#include "espcodec.h"
#include "espnoise.h"

#include <stdio.h>
#include <string.h>

/* a base64 digit's value, or -1 */
static int b64_digit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int key_fail(char *why, size_t wl, const char *text)
{
	if (wl)
		snprintf(why, wl, "%s", text);
	return -1;
}

int esp_key_decode(const char *base64, uint8_t psk[32], char *why, size_t wl)
{
	const char *s = base64, *e;
	uint8_t out[48];
	size_t n, o = 0, pad = 0;
	uint32_t acc = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	n = (size_t)(e - s);
	if (n == 0 || n % 4)
		return key_fail(why, wl, "not base64");
	if (n > 64)
		return key_fail(why, wl, "not 32 bytes");
	while (pad < 2 && e[-1 - (long)pad] == '=')
		pad++;
	for (size_t i = 0; i < n; i++) {
		int d = i >= n - pad ? 0 : b64_digit(s[i]);

		if (d < 0)
			return key_fail(why, wl, "not base64");
		acc = acc << 6 | (uint32_t)d;
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	o -= pad;
	if (o != 32) {
		esp_noise_wipe(out, sizeof(out));
		return key_fail(why, wl, "not 32 bytes");
	}
	memcpy(psk, out, 32);
	esp_noise_wipe(out, sizeof(out));
	return 0;
}
