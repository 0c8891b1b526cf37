/* SPDX-License-Identifier: MIT */
/* gateway/alerts/alerts_conf.c - [alerts.NAME], the output's own section of
 * the configuration (conf/section.h): its keys (url = is conf's URL type,
 * on = the conditions, a type of its own), the checks after the parse (what
 * an e-mail needs, the user and password from the URL or from a private
 * password file, section 20 of the design) and its lines of --check. */
#include "alerts_conf.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const gw_alert_words[CONF_AL_NCOND + 1] = {
	[CONF_AL_ALARM] = "alarm", [CONF_AL_STALE] = "stale", [CONF_AL_IMBALANCE] = "imbalance",
	[CONF_AL_WEAK_CELL] = "weak_cell", [CONF_AL_SOC_BELOW] = "soc_below", [CONF_AL_IR_RISE] = "ir_rise",
	[CONF_AL_NCOND] = NULL,
};

/* its keys, in the order messages and lists give them */
enum {
	AL_URL, AL_TO, AL_FROM, AL_USERNAME, AL_PASSWORD_FILE, AL_CA_FILE, AL_ON, AL_REPEAT, AL_IMBALANCE_MV,
	AL_IMBALANCE_HOLD, AL_NKEYS
};

#define AL(f) offsetof(struct conf_alerts, f)

static int parse_on(void *field, const char *v, char *why, size_t wl)
{
	return gw_alert_on_parse(field, v, why, wl);
}

static const struct conf_custom on_type = { "alerton", "text", parse_on };

/* a destination; any change restarts it (its queue and what it said of
 * each condition start again) */
static const struct conf_key keys[AL_NKEYS] = {
	[AL_URL] = {"url", CONF_RESTART, KT_URL, 0, 0, false, NULL, AL(url), NULL, .flags = CONF_KF_PATH_SECRET},
	[AL_TO] = {"to", CONF_RESTART, KT_LINE, 0, 0, false, NULL, AL(to), NULL},
	[AL_FROM] = {"from", CONF_RESTART, KT_LINE, 0, 0, false, NULL, AL(from), NULL},
	[AL_USERNAME] = {"username", CONF_RESTART, KT_TEXT, 0, 0, false, NULL, AL(username), NULL},
	[AL_PASSWORD_FILE] = {"password_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, AL(password_file), NULL,
			      .file = CONF_FILE_SECRET},
	[AL_CA_FILE] = {"ca_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, AL(ca_file), NULL, .file = CONF_FILE_CERT},
	[AL_ON] = {"on", CONF_RESTART, KT_CUSTOM, 0, 0, false, NULL, AL(on), "alarm, stale", .custom = &on_type,
		   .expect = "some of alarm, stale, imbalance, weak_cell, soc_below:N (N percent), ir_rise:PCT separated "
			     "by commas"},
	[AL_REPEAT] = {"repeat", CONF_RESTART, KT_DOUBLE, 0, 2592000, false, NULL, AL(repeat), "3600"},
	[AL_IMBALANCE_MV] = {"imbalance_mv", CONF_RESTART, KT_INT, 1, 2000, false, NULL, AL(imbalance_mv), "100",
			     "millivolts"},
	[AL_IMBALANCE_HOLD] = {"imbalance_hold", CONF_RESTART, KT_DOUBLE, 0, 86400, false, NULL, AL(imbalance_hold),
			       "60"},
};

/* a destination's password (its file's, or the URL's) */
static const struct conf_derived derived[] = {
	{ AL(password), CONF_RESTART },
};

/* ------------------------------------------------------------------ on = */

/* The number after "word:" in item (a percentage 1..100 / 1..1000). */
static int cond_number(const char *item, const char *word, double max, double *out, char *why, size_t wl)
{
	const char *colon = strchr(item, ':');
	char *end = NULL;
	double d = colon ? strtod(colon + 1, &end) : 0;
	if (!colon || end == colon + 1 || *end || !(d > 0 && d <= max)) {
		conf_bfmt(why, wl, "%s needs a number after a colon, %s:N with N > 0 and <= %g", word, word, max);
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
		const char *w = gw_alert_words[c];
		if (strlen(w) != wlen || strncasecmp(item, w, wlen) != 0)
			continue;
		if (on->bits & 1u << c) {
			conf_bfmt(why, wl, "%s is given twice", w);
			return -1;
		}
		on->bits |= 1u << c;
		if (c == CONF_AL_SOC_BELOW)
			return cond_number(item, w, 100, &on->soc_below, why, wl);
		if (c == CONF_AL_IR_RISE)
			return cond_number(item, w, 1000, &on->ir_rise, why, wl);
		if (item[wlen] == ':') {
			conf_bfmt(why, wl, "%s takes no number", w);
			return -1;
		}
		return 0;
	}
	conf_bfmt(why, wl, "\"%s\" is not a condition", item);
	return -1;
}

int gw_alert_on_parse(struct conf_alert_on *on, const char *v, char *why, size_t wl)
{
	char buf[1024];
	memset(on, 0, sizeof(*on));
	if (strlen(v) >= sizeof(on->text)) {
		conf_bfmt(why, wl, "too long");
		return -1;
	}
	conf_bfmt(on->text, sizeof(on->text), "%s", v);
	conf_bfmt(buf, sizeof(buf), "%s", v);
	for (char *next = buf, *item; (item = strsep(&next, ","));) {
		while (isspace((unsigned char)*item))
			item++;
		for (size_t n = strlen(item); n && isspace((unsigned char)item[n - 1]); n--)
			item[n - 1] = '\0';
		if (!*item) {
			conf_bfmt(why, wl, "an empty condition between commas");
			return -1;
		}
		if (cond_item(on, item, why, wl) < 0)
			return -1;
	}
	if (!on->bits) {
		conf_bfmt(why, wl, "no condition");
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- checks */

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
		int k = seen[AL_TO] ? AL_TO : AL_FROM;
		if (seen[k])
			conf_fail(x, seen[k], sect, keys[k].name, "is for an e-mail (url = smtp:// or smtps://)");
		return;
	}
	if (!seen[AL_TO] || !seen[AL_FROM]) {
		int k = seen[AL_TO] ? AL_FROM : AL_TO;
		conf_fail(x, a->line, sect, keys[k].name, "an e-mail needs %s = (an address)", keys[k].name);
	} else if (!mailboxes_ok(a->to))
		conf_fail(x, seen[AL_TO], sect, "to", "\"%s\" is not an address or a list of them (expected "
			  "name@example.org, separated by commas)", a->to);
	else if (!mailbox_ok(a->from, strlen(a->from)))
		conf_fail(x, seen[AL_FROM], sect, "from", "\"%s\" is not an address (expected name@example.org)",
			  a->from);
}

/* The user and password: from the URL, or username and password_file, not
 * both; a password file private (never readable by others). */
static void check_creds(struct conf_load *x, struct conf_alerts *a, const int *seen, const char *sect)
{
	char why[CONF_WHY_MAX];
	if (a->url.user[0] && seen[AL_USERNAME]) {
		conf_fail(x, seen[AL_USERNAME], sect, "username", "the URL names a user already");
		return;
	}
	if (a->url.pass[0] && seen[AL_PASSWORD_FILE]) {
		conf_fail(x, seen[AL_PASSWORD_FILE], sect, "password_file", "the URL holds a password already "
			  "(keep it in password_file alone: the configuration file is often readable)");
		return;
	}
	if (a->url.user[0])
		conf_bfmt(a->username, sizeof(a->username), "%s", a->url.user);
	if (a->url.pass[0])
		conf_bfmt(a->password, sizeof(a->password), "%s", a->url.pass);
	if (a->url.scheme == CONF_URL_HTTP && a->password[0]) {
		conf_fail(x, seen[AL_URL], sect, "url", "a password over http:// would cross the network readable "
			  "(expected https://)");
		return;
	}
	if (!seen[AL_PASSWORD_FILE])
		return;
	if (!a->username[0])
		conf_fail(x, seen[AL_PASSWORD_FILE], sect, "password_file",
			  "a password needs a user name (expected username = ... too)");
	else if (conf_read_password(a->password_file, a->password, sizeof(a->password), why, sizeof(why)) < 0)
		conf_fail(x, seen[AL_PASSWORD_FILE], sect, "password_file", "%s", why);
	else if (a->url.scheme == CONF_URL_HTTP)
		conf_fail(x, seen[AL_PASSWORD_FILE], sect, "password_file", "a password over http:// would cross "
			  "the network readable (expected url = https://)");
}

static void finish(struct conf_load *x)
{
	struct conf *c = conf_loading(x);
	for (int i = 0; i < gw_nalerts(c) && !conf_failed(x); i++) {
		struct conf_alerts *a = (struct conf_alerts *)gw_alerts_cfg(c, i);
		const int *seen = conf_seen(x, &gw_alerts_section, i);
		char sect[CONF_NAME_MAX + 16];
		conf_bfmt(sect, sizeof(sect), "alerts.%s", a->name);
		if (!seen[AL_URL]) {
			conf_fail(x, a->line, sect, "url", "missing (expected %s)",
				  "https://ntfy.sh/TOPIC, a webhook's http(s):// URL, or smtp://HOST:PORT");
			continue;
		}
		check_mail(x, a, seen, sect);
		if (!conf_failed(x))
			check_creds(x, a, seen, sect);
		if (!conf_failed(x) && seen[AL_IMBALANCE_MV] && !(a->on.bits & 1u << CONF_AL_IMBALANCE))
			conf_fail(x, seen[AL_IMBALANCE_MV], sect, "imbalance_mv", "on = has no imbalance");
	}
}

/* ---------------------------------------------------------------- --check */

static void print(const struct conf *c, FILE *out)
{
	if (!gw_nalerts(c))
		return;
	fprintf(out, "alerts\n");
	for (int i = 0; i < gw_nalerts(c); i++) {
		const struct conf_alerts *a = gw_alerts_cfg(c, i);
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

const struct conf_section gw_alerts_section = {
	.word = "alerts", .named = true, .max = CONF_MAX_ALERTS, .size = sizeof(struct conf_alerts),
	.name = AL(name), .line = AL(line), .enabled = CONF_NO_FIELD, .keys = keys, .nkeys = AL_NKEYS,
	.derived = derived, .nderived = (int)(sizeof(derived) / sizeof(derived[0])),
	.list_order = 170, .finish_order = 140, .print_order = 160, .finish = finish, .print = print,
};
