/* SPDX-License-Identifier: MIT */
/* gateway/influx/influx_conf.c - [influx], the output's own section of the
 * configuration (conf/section.h): its keys, the checks after the parse (an
 * http(s) URL without a query; v1 with database = or v2 with org = and
 * bucket =, not both; the password and the token read from private files,
 * section 20 of the design) and its lines of --check. */
#include "influx_conf.h"

#include <stddef.h>
#include <string.h>

/* its keys, in the order messages and lists give them */
enum {
	IX_URL, IX_DATABASE, IX_USERNAME, IX_PASSWORD_FILE, IX_ORG, IX_BUCKET, IX_TOKEN_FILE, IX_CA_FILE, IX_INTERVAL,
	IX_TIMEOUT, IX_BATCH, IX_QUEUE, IX_NKEYS
};

#define IX(f) offsetof(struct conf_influx, f)

/* any change restarts the output (the points it queued are lost) */
static const struct conf_key keys[IX_NKEYS] = {
	[IX_URL] = {"url", CONF_RESTART, KT_URL, 0, 0, false, NULL, IX(url), NULL},
	[IX_DATABASE] = {"database", CONF_RESTART, KT_TEXT, 0, 0, false, NULL, IX(database), NULL},
	[IX_USERNAME] = {"username", CONF_RESTART, KT_TEXT, 0, 0, false, NULL, IX(username), NULL},
	[IX_PASSWORD_FILE] = {"password_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, IX(password_file), NULL,
			      .file = CONF_FILE_SECRET},
	[IX_ORG] = {"org", CONF_RESTART, KT_TEXT, 0, 0, false, NULL, IX(org), NULL},
	[IX_BUCKET] = {"bucket", CONF_RESTART, KT_TEXT, 0, 0, false, NULL, IX(bucket), NULL},
	[IX_TOKEN_FILE] = {"token_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, IX(token_file), NULL,
			   .file = CONF_FILE_SECRET},
	[IX_CA_FILE] = {"ca_file", CONF_RESTART, KT_PATH, 0, 0, false, NULL, IX(ca_file), NULL, .file = CONF_FILE_CERT},
	[IX_INTERVAL] = {"interval", CONF_RESTART, KT_DOUBLE, 1, 3600, false, NULL, IX(interval), "10"},
	[IX_TIMEOUT] = {"timeout", CONF_RESTART, KT_DOUBLE, 1, 300, false, NULL, IX(timeout), "10"},
	[IX_BATCH] = {"batch", CONF_RESTART, KT_INT, 1, 5000, false, NULL, IX(batch), "1000"},
	[IX_QUEUE] = {"queue", CONF_RESTART, KT_INT, 10, 1000000, false, NULL, IX(queue), "10000"},
};

/* its password and token, as read from their files */
static const struct conf_derived derived[] = {
	{ IX(password), CONF_RESTART },
	{ IX(token), CONF_RESTART },
};

/* The URL: http:// or https://, no user or password in it (they would show
 * in a log), no query or fragment (bmsgw writes the query); a trailing /
 * taken off. */
static void check_url(struct conf_load *x, struct conf_influx *ix, const int *seen)
{
	struct conf_url *u = &ix->url;
	if (u->scheme != CONF_URL_HTTP && u->scheme != CONF_URL_HTTPS)
		conf_fail(x, seen[IX_URL], "influx", "url", "InfluxDB is written over http:// or https://");
	else if (u->user[0] || u->pass[0])
		conf_fail(x, seen[IX_URL], "influx", "url", "a user or password in the URL (expected username = "
			   "and password_file =, or token_file =)");
	else if (strpbrk(u->bare, "?#"))
		conf_fail(x, seen[IX_URL], "influx", "url", "the URL holds a query (bmsgw writes it: expected "
			   "http(s)://HOST:PORT, a path prefix at most)");
	for (size_t n = strlen(u->bare); n && u->bare[n - 1] == '/' && !conf_failed(x); n--)
		u->bare[n - 1] = '\0';
}

/* v1: database, with a user and a password if the server asks for them. */
static void check_v1(struct conf_load *x, struct conf_influx *ix, const int *seen)
{
	char why[CONF_WHY_MAX];
	ix->version = 1;
	int k = seen[IX_ORG] ? IX_ORG : seen[IX_BUCKET] ? IX_BUCKET : seen[IX_TOKEN_FILE] ? IX_TOKEN_FILE : -1;
	if (k >= 0) {
		conf_fail(x, seen[k], "influx", gw_influx_section.keys[k].name, "is for InfluxDB 2 (org = and bucket =), not "
			   "with database =");
		return;
	}
	if (seen[IX_USERNAME] != 0 && !seen[IX_PASSWORD_FILE])
		conf_fail(x, seen[IX_USERNAME], "influx", "username", "a user needs password_file = too");
	else if (seen[IX_PASSWORD_FILE] && !seen[IX_USERNAME])
		conf_fail(x, seen[IX_PASSWORD_FILE], "influx", "password_file", "a password needs a user name "
			   "(expected username = ... too)");
	else if (seen[IX_PASSWORD_FILE] &&
		 conf_read_password(ix->password_file, ix->password, sizeof(ix->password), why, sizeof(why)) < 0)
		conf_fail(x, seen[IX_PASSWORD_FILE], "influx", "password_file", "%s", why);
}

/* v2: org and bucket, and the API token. */
static void check_v2(struct conf_load *x, struct conf_influx *ix, const int *seen)
{
	char why[CONF_WHY_MAX];
	ix->version = 2;
	int k = seen[IX_USERNAME] ? IX_USERNAME : seen[IX_PASSWORD_FILE] ? IX_PASSWORD_FILE : -1;
	if (k >= 0)
		conf_fail(x, seen[k], "influx", gw_influx_section.keys[k].name, "is for InfluxDB 1 (database =); InfluxDB 2 "
			   "takes token_file =");
	else if (!seen[IX_ORG] || !seen[IX_BUCKET])
		conf_fail(x, seen[IX_ORG] ? seen[IX_ORG] : seen[IX_BUCKET], "influx",
			   seen[IX_ORG] ? "bucket" : "org", "InfluxDB 2 needs both org = and bucket =");
	else if (!seen[IX_TOKEN_FILE])
		conf_fail(x, ix->line, "influx", "token_file", "missing (InfluxDB 2 needs an API token: a private "
			   "file whose first line is the token)");
	else if (conf_read_password(ix->token_file, ix->token, sizeof(ix->token), why, sizeof(why)) < 0)
		conf_fail(x, seen[IX_TOKEN_FILE], "influx", "token_file", "%s", why);
}

static void finish(struct conf_load *x)
{
	struct conf_influx *ix = (struct conf_influx *)conf_obj(conf_loading(x), &gw_influx_section, 0);
	const int *seen = conf_seen(x, &gw_influx_section, 0);
	if (!ix->enabled)
		return;
	if (!seen[IX_URL]) {
		conf_fail(x, ix->line, "influx", "url", "missing (expected http://HOST:8086 or https://...)");
		return;
	}
	check_url(x, ix, seen);
	if (conf_failed(x))
		return;
	if (seen[IX_DATABASE] && (seen[IX_ORG] || seen[IX_BUCKET]))
		conf_fail(x, seen[IX_DATABASE], "influx", "database", "database = is InfluxDB 1, org = and bucket = "
			   "InfluxDB 2: one or the other");
	else if (seen[IX_DATABASE])
		check_v1(x, ix, seen);
	else if (seen[IX_ORG] || seen[IX_BUCKET])
		check_v2(x, ix, seen);
	else
		conf_fail(x, ix->line, "influx", "database", "missing (expected database = for InfluxDB 1, or org = "
			   "and bucket = for InfluxDB 2)");
	if (!conf_failed(x) && ix->batch > ix->queue)
		conf_fail(x, seen[IX_BATCH], "influx", "batch", "larger than queue = (%d points)", ix->queue);
}

static void print(const struct conf *c, FILE *out)
{
	const struct conf_influx *ix = gw_influx_conf(c);
	if (!ix->enabled)
		return;
	fprintf(out, "influx\n  url           %s\n", ix->url.text);
	if (ix->version == 1)
		fprintf(out, "  InfluxDB 1    database %s%s%s\n", ix->database, ix->username[0] ? ", user " : "",
			ix->username);
	else
		fprintf(out, "  InfluxDB 2    org %s, bucket %s, with a token\n", ix->org, ix->bucket);
	fprintf(out, "  every         %g s a point of each unit; POSTs of %d points at most, %g s each\n", ix->interval,
		ix->batch, ix->timeout);
	fprintf(out, "  queue         %d points while the server is away (the oldest dropped first)\n", ix->queue);
}

const struct conf_section gw_influx_section = {
	.word = "influx", .max = 1, .size = sizeof(struct conf_influx), .name = CONF_NO_FIELD, .line = IX(line),
	.enabled = IX(enabled), .keys = keys, .nkeys = IX_NKEYS, .derived = derived,
	.nderived = (int)(sizeof(derived) / sizeof(derived[0])),
	.list_order = 190, .finish_order = 150, .print_order = 180, .finish = finish, .print = print,
};
