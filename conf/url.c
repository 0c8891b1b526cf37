/* SPDX-License-Identifier: MIT */
/* conf/url.c - the URL type of the keys (KT_URL: an alert's destination,
 * the InfluxDB server): http://, https://, smtp:// or smtps://, its host
 * and port checked, a user and password in it taken out so that they are
 * never shown, and the text that is shown instead (section.h). */
#include "conf_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* snprintf where cutting a long text short is fine (as values.c's
 * conf_bfmt; not called, so that this file and values.c, which calls its
 * parser, do not call each other). */
__attribute__((format(printf, 3, 4)))
static void fmt(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, cap, f, ap);
	va_end(ap);
}

static const struct {
	const char *prefix;
	enum conf_url_scheme scheme;
} schemes[] = {
	{ "http://", CONF_URL_HTTP }, { "https://", CONF_URL_HTTPS },
	{ "smtp://", CONF_URL_SMTP }, { "smtps://", CONF_URL_SMTPS },
};

/* %XX decoded from s[0..n) into out (cap); false when it does not fit or a
 * % is not followed by two hex digits, or decodes to a control character. */
static bool pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
				return false;
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			c = (int)strtol(hex, NULL, 16);
			i += 2;
		}
		if (c < 0x20 || c == 0x7F || o + 1 >= cap)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

/* The user and password of the authority [user[:password]@]host[:port]
 * (n bytes at a) into u; false with why when one does not decode. */
static bool take_userinfo(struct conf_url *u, const char *a, size_t n, char *why, size_t wl)
{
	const char *colon = memchr(a, ':', n);
	size_t ul = colon ? (size_t)(colon - a) : n;
	if (!pct_decode(a, ul, u->user, sizeof(u->user)) ||
	    (colon && !pct_decode(colon + 1, n - ul - 1, u->pass, sizeof(u->pass)))) {
		fmt(why, wl, "the user or password in the URL is too long or badly %%-encoded");
		return false;
	}
	return true;
}

/* The host of the authority after its userinfo: not empty, no space; a
 * port, if any, a number 1..65535. */
static bool host_ok(const char *h, size_t n)
{
	if (!n || h[0] == ':')
		return false;
	const char *end = h + n, *port = NULL;
	if (h[0] == '[') {
		const char *rb = memchr(h, ']', n);
		if (!rb || rb == h + 1)
			return false;
		port = rb + 1 < end && rb[1] == ':' ? rb + 2 : NULL;
		if (!port && rb + 1 != end)
			return false;
	} else {
		const char *c = memchr(h, ':', n);
		port = c ? c + 1 : NULL;
	}
	if (!port)
		return true;
	long v = 0;
	if (port == end || end - port > 5)
		return false;
	for (const char *p = port; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535;
}

int conf_url_parse(struct conf_url *u, const char *v, char *why, size_t wl)
{
	memset(u, 0, sizeof(*u));
	size_t n = strlen(v), pl = 0;
	if (n >= sizeof(u->bare)) {
		fmt(why, wl, "too long (at most %zu characters)", sizeof(u->bare) - 1);
		return -1;
	}
	for (const char *p = v; *p; p++)
		if (*p <= 0x20 || *p >= 0x7F) {
			fmt(why, wl, "the URL holds a space or a character that is not printable ASCII");
			return -1;
		}
	size_t i;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		pl = strlen(schemes[i].prefix);
		if (strncasecmp(v, schemes[i].prefix, pl) == 0)
			break;
	}
	if (i == sizeof(schemes) / sizeof(schemes[0])) {
		fmt(why, wl, "the URL's scheme is not http, https, smtp or smtps");
		return -1;
	}
	u->scheme = schemes[i].scheme;
	const char *auth = v + pl;
	size_t alen = strcspn(auth, "/?#");
	const char *at = NULL;
	for (size_t k = 0; k < alen; k++)
		if (auth[k] == '@')
			at = auth + k; /* the last @ ends the userinfo */
	const char *host = at ? at + 1 : auth;
	size_t hl = alen - (size_t)(host - auth);
	if (!host_ok(host, hl)) {
		fmt(why, wl, "the URL has no host, or a bad port");
		return -1;
	}
	if (at && !take_userinfo(u, auth, (size_t)(at - auth), why, wl))
		return -1;
	fmt(u->bare, sizeof(u->bare), "%.*s%s", (int)pl, v, host);
	/* shown: the user as written, a password as ***, and nothing of the
	 * path and query but that there is one (a webhook's token is there:
	 * ?token=..., or Slack's and Discord's /services/T.../B.../...) */
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	const char *more = !auth[alen] ? "" : strcmp(auth + alen, "/") == 0 ? "/" : "/...";
	if (!at)
		fmt(u->text, sizeof(u->text), "%.*s%.*s%s", (int)pl, v, (int)hl, host, more);
	else
		fmt(u->text, sizeof(u->text), "%.*s%.*s%s@%.*s%s", (int)pl, v, (int)((colon ? colon : at) - auth), auth,
		    colon ? ":***" : "", (int)hl, host, more);
	return 0;
}
