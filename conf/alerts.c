/* SPDX-License-Identifier: MIT */
/* conf/alerts.c - [alerts.NAME]: a destination of alerts (an HTTP(S) POST
 * or an e-mail through SMTP).  The parsers of `url =` (its scheme and host
 * checked, a user and password in it taken out so that they are never
 * shown) and `on =` (the conditions), the checks after the parse (what an
 * e-mail needs, the password file: a private file, section 20 of the
 * design), its lines of --check. */
#include "conf_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const conf_alert_words[CONF_AL_NCOND + 1] = {
	[CONF_AL_ALARM] = "alarm", [CONF_AL_STALE] = "stale", [CONF_AL_IMBALANCE] = "imbalance",
	[CONF_AL_WEAK_CELL] = "weak_cell", [CONF_AL_SOC_BELOW] = "soc_below", [CONF_AL_IR_RISE] = "ir_rise",
	[CONF_AL_NCOND] = NULL,
};

/* snprintf where cutting a long text short is fine (as values.c's
 * conf_bfmt; not called, so that this file and values.c, which calls its
 * parsers, do not call each other). */
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
	enum conf_alert_scheme scheme;
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
static bool take_userinfo(struct conf_alert_url *u, const char *a, size_t n, char *why, size_t wl)
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

int conf__set_alert_url(struct conf_alert_url *u, const char *v, char *why, size_t wl)
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

/* The number after "word:" in item (a percentage 1..100 / 1..1000). */
static int cond_number(const char *item, const char *word, double max, double *out, char *why, size_t wl)
{
	const char *colon = strchr(item, ':');
	char *end = NULL;
	double d = colon ? strtod(colon + 1, &end) : 0;
	if (!colon || end == colon + 1 || *end || !(d > 0 && d <= max)) {
		fmt(why, wl, "%s needs a number after a colon, %s:N with N > 0 and <= %g", word, word, max);
		return -1;
	}
	*out = d;
	return 0;
}

/* One condition of on = into on. */
static int cond_item(struct conf_alert_on *on, const char *item, char *why, size_t wl)
{
	size_t wlen = strcspn(item, ":");
	for (int c = 0; c < CONF_AL_NCOND; c++) {
		const char *w = conf_alert_words[c];
		if (strlen(w) != wlen || strncasecmp(item, w, wlen) != 0)
			continue;
		if (on->bits & 1u << c) {
			fmt(why, wl, "%s is given twice", w);
			return -1;
		}
		on->bits |= 1u << c;
		if (c == CONF_AL_SOC_BELOW)
			return cond_number(item, w, 100, &on->soc_below, why, wl);
		if (c == CONF_AL_IR_RISE)
			return cond_number(item, w, 1000, &on->ir_rise, why, wl);
		if (item[wlen] == ':') {
			fmt(why, wl, "%s takes no number", w);
			return -1;
		}
		return 0;
	}
	fmt(why, wl, "\"%s\" is not a condition", item);
	return -1;
}

int conf__set_alert_on(struct conf_alert_on *on, const char *v, char *why, size_t wl)
{
	char buf[CONF_LINE_BUF];
	memset(on, 0, sizeof(*on));
	if (strlen(v) >= sizeof(on->text)) {
		fmt(why, wl, "too long");
		return -1;
	}
	fmt(on->text, sizeof(on->text), "%s", v);
	fmt(buf, sizeof(buf), "%s", v);
	for (char *next = buf, *item; (item = strsep(&next, ","));) {
		while (isspace((unsigned char)*item))
			item++;
		for (size_t n = strlen(item); n && isspace((unsigned char)item[n - 1]); n--)
			item[n - 1] = '\0';
		if (!*item) {
			fmt(why, wl, "an empty condition between commas");
			return -1;
		}
		if (cond_item(on, item, why, wl) < 0)
			return -1;
	}
	if (!on->bits) {
		fmt(why, wl, "no condition");
		return -1;
	}
	return 0;
}

/* An e-mail address as `to` and `from` take it: LOCAL@DOMAIN, no spaces
 * or angle brackets. */
static bool mailbox_ok(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	if (!at || at == s || at == s + n - 1 || memchr(at + 1, '@', (size_t)(s + n - at - 1)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]) || s[i] == '<' || s[i] == '>' || s[i] == ',')
			return false;
	return true;
}

/* `to`: one address or several separated by commas. */
static bool mailboxes_ok(const char *s)
{
	do {
		while (*s == ' ')
			s++;
		size_t n = strcspn(s, ",");
		size_t m = n;
		while (m && s[m - 1] == ' ')
			m--;
		if (!mailbox_ok(s, m))
			return false;
		s += n;
	} while (*s++ == ',');
	return true;
}

/* An e-mail destination's to and from; an HTTP one has neither. */
static void check_mail(struct conf_load *x, struct conf_alerts *a, const int *seen, const char *sect)
{
	bool mail = a->url.scheme == CONF_URL_SMTP || a->url.scheme == CONF_URL_SMTPS;
	if (!mail) {
		int k = seen[K_AL_TO] ? K_AL_TO : K_AL_FROM;
		if (seen[k])
			conf__fail(x, seen[k], sect, conf__keys[k].name, "is for an e-mail (url = smtp:// or smtps://)");
		return;
	}
	if (!seen[K_AL_TO] || !seen[K_AL_FROM]) {
		int k = seen[K_AL_TO] ? K_AL_FROM : K_AL_TO;
		conf__fail(x, a->line, sect, conf__keys[k].name, "an e-mail needs %s = (an address)", conf__keys[k].name);
	} else if (!mailboxes_ok(a->to))
		conf__fail(x, seen[K_AL_TO], sect, "to", "\"%s\" is not an address or a list of them (expected "
			   "name@example.org, separated by commas)", a->to);
	else if (!mailbox_ok(a->from, strlen(a->from)))
		conf__fail(x, seen[K_AL_FROM], sect, "from", "\"%s\" is not an address (expected "
			   "name@example.org)", a->from);
}

/* The user and password: from the URL, or username and password_file, not
 * both; a password file private (never readable by others). */
static void check_creds(struct conf_load *x, struct conf_alerts *a, const int *seen, const char *sect)
{
	char why[CONF_WHY_MAX];
	if (a->url.user[0] && seen[K_AL_USERNAME]) {
		conf__fail(x, seen[K_AL_USERNAME], sect, "username", "the URL names a user already");
		return;
	}
	if (a->url.pass[0] && seen[K_AL_PASSWORD_FILE]) {
		conf__fail(x, seen[K_AL_PASSWORD_FILE], sect, "password_file", "the URL holds a password already "
			   "(keep it in password_file alone: the configuration file is often readable)");
		return;
	}
	if (a->url.user[0])
		fmt(a->username, sizeof(a->username), "%s", a->url.user);
	if (a->url.pass[0])
		fmt(a->password, sizeof(a->password), "%s", a->url.pass);
	if (a->url.scheme == CONF_URL_HTTP && a->password[0]) {
		conf__fail(x, seen[K_AL_URL], sect, "url", "a password over http:// would cross the network readable "
			   "(expected https://)");
		return;
	}
	if (!seen[K_AL_PASSWORD_FILE])
		return;
	if (!a->username[0])
		conf__fail(x, seen[K_AL_PASSWORD_FILE], sect, "password_file",
			   "a password needs a user name (expected username = ... too)");
	else if (conf_read_password(a->password_file, a->password, sizeof(a->password), why, sizeof(why)) < 0)
		conf__fail(x, seen[K_AL_PASSWORD_FILE], sect, "password_file", "%s", why);
	else if (a->url.scheme == CONF_URL_HTTP)
		conf__fail(x, seen[K_AL_PASSWORD_FILE], sect, "password_file", "a password over http:// would cross "
			   "the network readable (expected url = https://)");
}

void conf__finish_alerts(struct conf_load *x)
{
	for (int i = 0; i < x->c.nalerts && !x->failed; i++) {
		struct conf_alerts *a = &x->c.alerts[i];
		const int *seen = x->alerts_seen[i];
		char sect[CONF_NAME_MAX + 16];
		fmt(sect, sizeof(sect), "alerts.%s", a->name);
		if (!seen[K_AL_URL]) {
			conf__fail(x, a->line, sect, "url", "missing (expected %s)",
				   "https://ntfy.sh/TOPIC, a webhook's http(s):// URL, or smtp://HOST:PORT");
			continue;
		}
		check_mail(x, a, seen, sect);
		if (!x->failed)
			check_creds(x, a, seen, sect);
		if (!x->failed && seen[K_AL_IMBALANCE_MV] && !(a->on.bits & 1u << CONF_AL_IMBALANCE))
			conf__fail(x, seen[K_AL_IMBALANCE_MV], sect, "imbalance_mv", "on = has no imbalance");
	}
}

void conf__print_alerts(const struct conf *c, FILE *out)
{
	if (!c->nalerts)
		return;
	fprintf(out, "alerts\n");
	for (int i = 0; i < c->nalerts; i++) {
		const struct conf_alerts *a = &c->alerts[i];
		bool mail = a->url.scheme == CONF_URL_SMTP || a->url.scheme == CONF_URL_SMTPS;
		fprintf(out, "  %s: %s %s%s%s; on %s; ", a->name, mail ? "e-mail through" : "POST to", a->url.text,
			mail ? " to " : "", mail ? a->to : "", a->on.text);
		if (a->repeat > 0)
			fprintf(out, "again every %g s while true", a->repeat);
		else
			fprintf(out, "never repeated");
		if (a->on.bits & 1u << CONF_AL_IMBALANCE)
			fprintf(out, "; imbalance above %d mV for %g s", a->imbalance_mv, a->imbalance_hold);
		fprintf(out, "%s\n", a->password[0] ? "; with a password" : "");
	}
}

static int parse_on(void *field, const char *v, char *why, size_t wl)
{
	return conf__set_alert_on(field, v, why, wl);
}

const struct conf_custom conf__alert_on = { "alerton", "text", parse_on };
