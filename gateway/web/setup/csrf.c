/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/csrf.c - the X-CSRF-Token of every change, and the
 * other checks of a POST.
 *
 * A token is a random nonce and an HMAC-SHA256 over it and its binding:
 * the login ("u:" and its name) or the setup code ("c:" and the code's
 * number), under a key drawn when the daemon starts.  It holds no state
 * on the server: any token of the same binding is good, a token of
 * another login or of a code that is void is not.  A page on another site
 * cannot read it (GET /api/setup/session is same-origin JSON), and cannot
 * send JSON with a custom header without CORS, which this server never
 * grants; the Origin, where a browser sends one, must be the page's own. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "setup_int.h"

#define NONCE 8
#define MACLEN 16

void setup_csrf_binding(const struct gw_setup *s, const struct gw_setup_req *q, char *out, size_t cap)
{
	if (q->user)
		snprintf(out, cap, "u:%s", q->user);
	else if (s->code_live)
		snprintf(out, cap, "c:%u", s->code_gen);
	else
		snprintf(out, cap, "-");
}

static void mac(const struct gw_setup *s, const uint8_t *nonce, const char *binding, uint8_t out[MACLEN])
{
	uint8_t msg[NONCE + 96], d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	size_t bl = strlen(binding) < 96 ? strlen(binding) : 96;
	memcpy(msg, nonce, NONCE);
	memcpy(msg + NONCE, binding, bl);
	if (!HMAC(EVP_sha256(), s->key, (int)sizeof(s->key), msg, NONCE + bl, d, &n) || n < MACLEN)
		memset(d, 0xff, MACLEN); /* never a token's: nothing checks good */
	memcpy(out, d, MACLEN);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

void setup_csrf_token(const struct gw_setup *s, const char *binding, char *out, size_t cap)
{
	uint8_t nonce[NONCE], m[MACLEN];
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		memset(nonce, 0, sizeof(nonce)); /* getrandom() never fails once the pool is ready */
	mac(s, nonce, binding, m);
	if (cap < 2 * (NONCE + MACLEN) + 1) {
		out[0] = '\0';
		return;
	}
	hex(nonce, NONCE, out);
	hex(m, MACLEN, out + 2 * NONCE);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool setup_csrf_ok(const struct gw_setup *s, const char *binding, const char *token)
{
	uint8_t got[NONCE + MACLEN], m[MACLEN];
	if (!token || strlen(token) != 2 * sizeof(got) || strcmp(binding, "-") == 0)
		return false;
	for (size_t i = 0; i < sizeof(got); i++) {
		int hi = unhex(token[2 * i]), lo = unhex(token[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		got[i] = (uint8_t)(hi << 4 | lo);
	}
	mac(s, got, binding, m);
	uint8_t diff = 0;
	for (size_t i = 0; i < MACLEN; i++)
		diff |= (uint8_t)(m[i] ^ got[NONCE + i]);
	return diff == 0;
}

/* The Origin a browser sends, against the page it asked (scheme and Host). */
static bool origin_ok(const struct gw_setup_req *q)
{
	/* through Home Assistant's ingress proxy the Origin is Home Assistant's
	 * and the Host the proxy's: the token alone (a custom header no other
	 * site can send without CORS) */
	if (!q->origin || q->ingress)
		return true;
	if (!q->host)
		return false;
	const char *scheme = q->tls ? "https://" : "http://";
	size_t sl = strlen(scheme);
	return strncmp(q->origin, scheme, sl) == 0 && strcasecmp(q->origin + sl, q->host) == 0;
}

const char *setup_post_bad(const struct gw_setup *s, const struct gw_setup_req *q)
{
	const char *ct = q->content_type;
	if (!ct || strncasecmp(ct, "application/json", 16) != 0 || (ct[16] && ct[16] != ';' && ct[16] != ' '))
		return "a change is a POST of JSON (Content-Type: application/json)";
	if (!origin_ok(q))
		return "the Origin of the request is not this page's (a change comes from the page itself)";
	char binding[80];
	setup_csrf_binding(s, q, binding, sizeof(binding));
	if (!q->csrf)
		return "no X-CSRF-Token header (take one from GET /api/setup/session)";
	if (!setup_csrf_ok(s, binding, q->csrf))
		return "the X-CSRF-Token is not this login's or this setup code's (take a new one from GET "
		       "/api/setup/session)";
	return NULL;
}

const char *gw_setup_post_check(const struct gw_setup *s, const struct gw_setup_req *q)
{
	return setup_post_bad(s, q);
}
