/* SPDX-License-Identifier: MIT */
/* gateway/web/setup/csrf.c - the X-CSRF-Token of every change, and the
 * other checks of a POST.
 *
 * A token is a random nonce, the time it was issued and an HMAC-SHA256
 * over both and its binding: the login ("u:", its name and its password's
 * hash: PBKDF2's derived key of the users file's line) or the setup code
 * ("c:" and the code's number), under a key drawn when the daemon starts.
 * It holds no state on the server: a token of the same binding issued
 * within [http] csrf_lifetime is good; a token of another login, of a
 * password since changed, of a code that is void, or older, is not (403,
 * saying which).  A page on another site cannot read it (GET
 * /api/setup/session is same-origin JSON), and cannot send JSON with a
 * custom header without CORS, which this server never grants; the Origin,
 * where a browser sends one, must be the page's own. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "../../core/clock.h"
#include "setup_int.h"

#define NONCE 8
#define ISSUED 4        /* the monotonic clock's seconds at issue, big-endian */
#define MACLEN 16
#define TOKEN (NONCE + ISSUED + MACLEN)
#define BINDING 160

static void binding_of(const struct gw_setup *s, const struct gw_setup_req *q, char *out, size_t cap)
{
	size_t n;
	if (q->user) {
		n = (size_t)snprintf(out, cap, "u:%.40s:", q->user);
		for (size_t i = 0; q->cred && i < q->cred_len && n + 3 <= cap; i++, n += 2)
			snprintf(out + n, 3, "%02x", q->cred[i]);
	} else if (s->code_live) {
		snprintf(out, cap, "c:%u", s->code_gen);
	} else {
		snprintf(out, cap, "-");
	}
}

static void mac(const struct gw_setup *s, const uint8_t *head, const char *binding, uint8_t out[MACLEN])
{
	uint8_t msg[NONCE + ISSUED + BINDING], d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	size_t bl = strnlen(binding, BINDING);
	memcpy(msg, head, NONCE + ISSUED);
	memcpy(msg + NONCE + ISSUED, binding, bl);
	if (!HMAC(EVP_sha256(), s->key, (int)sizeof(s->key), msg, NONCE + ISSUED + bl, d, &n) || n < MACLEN)
		memset(d, 0xff, MACLEN); /* never a token's: nothing checks good */
	memcpy(out, d, MACLEN);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static uint32_t now_s(void)
{
	return (uint32_t)gw_mono();
}

void setup_csrf_token(const struct gw_setup *s, const struct gw_setup_req *q, char *out, size_t cap)
{
	uint8_t t[TOKEN];
	char binding[BINDING];
	uint32_t at = now_s();
	if (cap < 2 * TOKEN + 1) {
		out[0] = '\0';
		return;
	}
	if (getrandom(t, NONCE, 0) != NONCE)
		memset(t, 0, NONCE); /* getrandom() never fails once the pool is ready */
	for (int i = 0; i < ISSUED; i++)
		t[NONCE + i] = (uint8_t)(at >> (8 * (ISSUED - 1 - i)));
	binding_of(s, q, binding, sizeof(binding));
	mac(s, t, binding, t + NONCE + ISSUED);
	hex(t, TOKEN, out);
	explicit_bzero(binding, sizeof(binding));
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The token's lifetime ([http] csrf_lifetime). */
static double lifetime(const struct gw_setup *s)
{
	return s->have_http && s->http.csrf_lifetime > 0 ? s->http.csrf_lifetime : SETUP_CSRF_LIFE;
}

const char *setup_csrf_bad(const struct gw_setup *s, const struct gw_setup_req *q)
{
	uint8_t got[TOKEN], m[MACLEN];
	char binding[BINDING];
	const char *token = q->csrf;
	if (!token)
		return "no X-CSRF-Token header (take one from GET /api/setup/session)";
	binding_of(s, q, binding, sizeof(binding));
	bool ok = strlen(token) == 2 * TOKEN && strcmp(binding, "-") != 0;
	for (size_t i = 0; ok && i < TOKEN; i++) {
		int hi = unhex(token[2 * i]), lo = unhex(token[2 * i + 1]);
		ok = hi >= 0 && lo >= 0;
		if (ok)
			got[i] = (uint8_t)(hi << 4 | lo);
	}
	if (ok) {
		mac(s, got, binding, m);
		uint8_t diff = 0;
		for (size_t i = 0; i < MACLEN; i++)
			diff |= (uint8_t)(m[i] ^ got[NONCE + ISSUED + i]);
		ok = diff == 0;
	}
	explicit_bzero(binding, sizeof(binding));
	if (!ok)
		return "the X-CSRF-Token is not this login's (or its password changed since) or this setup code's "
		       "(take a new one from GET /api/setup/session)";
	uint32_t at = 0;
	for (int i = 0; i < ISSUED; i++)
		at = at << 8 | got[NONCE + i];
	if ((double)(uint32_t)(now_s() - at) > lifetime(s))
		return "the X-CSRF-Token has expired ([http] csrf_lifetime: take a new one from GET "
		       "/api/setup/session)";
	return NULL;
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
	return setup_csrf_bad(s, q);
}

const char *gw_setup_post_check(const struct gw_setup *s, const struct gw_setup_req *q)
{
	return setup_post_bad(s, q);
}
