/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_csrf.c - the setup API's X-CSRF-Token as a client sends
 * it (gateway/web/setup/csrf.c): the input's first byte picks the binding
 * (a login with or without a password hash, a live setup code, none), the
 * next 32 bytes are the login's hash, the rest is the header's value.
 * Invariants: no crash, no read past the header; a token the client made
 * up is never good (its MAC is the server key's); a token the server made
 * for the same binding is good, and one byte changed, or another binding
 * (another name, another hash), is refused with a reason. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/web/setup/setup_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct gw_setup s = { .key = "a key drawn at the start", .have_http = true,
			     .http = { .csrf_lifetime = 3600 } };

static void round_trip(const struct gw_setup_req *q, const uint8_t *cred)
{
	char tok[80];
	setup_csrf_token(&s, q, tok, sizeof(tok));
	struct gw_setup_req r = *q;
	r.csrf = tok;
	if (setup_csrf_bad(&s, &r))
		abort(); /* its own token, at once */
	tok[(cred[0] % 56)] ^= tok[(cred[0] % 56)] == '0' ? 1 : 2; /* one hex digit changed */
	if (!setup_csrf_bad(&s, &r))
		abort();
	tok[(cred[0] % 56)] ^= tok[(cred[0] % 56)] == '1' ? 1 : 2;
	if (q->user) { /* another password hash */
		uint8_t other[32];
		memcpy(other, cred, sizeof(other));
		other[cred[1] % 32] ^= 0x80;
		r.cred = other;
		r.cred_len = sizeof(other);
		if (!setup_csrf_bad(&s, &r))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 33)
		return 0;
	uint8_t cred[32];
	memcpy(cred, data + 1, sizeof(cred));
	char *tok = malloc(size - 33 + 1);
	if (!tok)
		return 0;
	memcpy(tok, data + 33, size - 33);
	tok[size - 33] = '\0';
	struct gw_setup_req q = { .csrf = tok };
	switch (data[0] & 3) {
	case 0: q.user = "ada"; q.cred = cred; q.cred_len = sizeof(cred); break;
	case 1: q.user = "Home Assistant"; break;
	case 2: s.code_live = true; s.code_gen = data[1]; break;
	default: s.code_live = false; break;
	}
	if (!setup_csrf_bad(&s, &q))
		abort(); /* a made-up token taken */
	if ((data[0] & 3) != 3)
		round_trip(&q, cred);
	s.code_live = false;
	free(tok);
	return 0;
}
