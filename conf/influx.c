/* SPDX-License-Identifier: MIT */
/* conf/influx.c - [influx]: the checks after the parse (an http(s) URL
 * without a query; v1 with database = or v2 with org = and bucket =, not
 * both; the password and the token read from private files, section 20 of
 * the design) and its lines of --check. */
#include "conf_int.h"

#include <string.h>

/* The URL: http:// or https://, no user or password in it (they would show
 * in a log), no query or fragment (bmsgw writes the query); a trailing /
 * taken off. */
static void check_url(struct load *x, struct conf_influx *ix, const int *seen)
{
	struct conf_alert_url *u = &ix->url;
	if (u->scheme != CONF_URL_HTTP && u->scheme != CONF_URL_HTTPS)
		conf__fail(x, seen[K_IX_URL], "influx", "url", "InfluxDB is written over http:// or https://");
	else if (u->user[0] || u->pass[0])
		conf__fail(x, seen[K_IX_URL], "influx", "url", "a user or password in the URL (expected username = "
			   "and password_file =, or token_file =)");
	else if (strpbrk(u->bare, "?#"))
		conf__fail(x, seen[K_IX_URL], "influx", "url", "the URL holds a query (bmsgw writes it: expected "
			   "http(s)://HOST:PORT, a path prefix at most)");
	for (size_t n = strlen(u->bare); n && u->bare[n - 1] == '/' && !x->failed; n--)
		u->bare[n - 1] = '\0';
}

/* v1: database, with a user and a password if the server asks for them. */
static void check_v1(struct load *x, struct conf_influx *ix, const int *seen)
{
	char why[CONF_WHY_MAX];
	ix->version = 1;
	int k = seen[K_IX_ORG] ? K_IX_ORG : seen[K_IX_BUCKET] ? K_IX_BUCKET : seen[K_IX_TOKEN_FILE] ? K_IX_TOKEN_FILE : -1;
	if (k >= 0) {
		conf__fail(x, seen[k], "influx", conf__keys[k].name, "is for InfluxDB 2 (org = and bucket =), not "
			   "with database =");
		return;
	}
	if (seen[K_IX_USERNAME] != 0 && !seen[K_IX_PASSWORD_FILE])
		conf__fail(x, seen[K_IX_USERNAME], "influx", "username", "a user needs password_file = too");
	else if (seen[K_IX_PASSWORD_FILE] && !seen[K_IX_USERNAME])
		conf__fail(x, seen[K_IX_PASSWORD_FILE], "influx", "password_file", "a password needs a user name "
			   "(expected username = ... too)");
	else if (seen[K_IX_PASSWORD_FILE] &&
		 conf_read_password(ix->password_file, ix->password, sizeof(ix->password), why, sizeof(why)) < 0)
		conf__fail(x, seen[K_IX_PASSWORD_FILE], "influx", "password_file", "%s", why);
}

/* v2: org and bucket, and the API token. */
static void check_v2(struct load *x, struct conf_influx *ix, const int *seen)
{
	char why[CONF_WHY_MAX];
	ix->version = 2;
	int k = seen[K_IX_USERNAME] ? K_IX_USERNAME : seen[K_IX_PASSWORD_FILE] ? K_IX_PASSWORD_FILE : -1;
	if (k >= 0)
		conf__fail(x, seen[k], "influx", conf__keys[k].name, "is for InfluxDB 1 (database =); InfluxDB 2 "
			   "takes token_file =");
	else if (!seen[K_IX_ORG] || !seen[K_IX_BUCKET])
		conf__fail(x, seen[K_IX_ORG] ? seen[K_IX_ORG] : seen[K_IX_BUCKET], "influx",
			   seen[K_IX_ORG] ? "bucket" : "org", "InfluxDB 2 needs both org = and bucket =");
	else if (!seen[K_IX_TOKEN_FILE])
		conf__fail(x, ix->line, "influx", "token_file", "missing (InfluxDB 2 needs an API token: a private "
			   "file whose first line is the token)");
	else if (conf_read_password(ix->token_file, ix->token, sizeof(ix->token), why, sizeof(why)) < 0)
		conf__fail(x, seen[K_IX_TOKEN_FILE], "influx", "token_file", "%s", why);
}

void conf__finish_influx(struct load *x)
{
	struct conf_influx *ix = &x->c.influx;
	const int *seen = x->influx_seen;
	if (!ix->enabled)
		return;
	if (!seen[K_IX_URL]) {
		conf__fail(x, ix->line, "influx", "url", "missing (expected http://HOST:8086 or https://...)");
		return;
	}
	check_url(x, ix, seen);
	if (x->failed)
		return;
	if (seen[K_IX_DATABASE] && (seen[K_IX_ORG] || seen[K_IX_BUCKET]))
		conf__fail(x, seen[K_IX_DATABASE], "influx", "database", "database = is InfluxDB 1, org = and bucket = "
			   "InfluxDB 2: one or the other");
	else if (seen[K_IX_DATABASE])
		check_v1(x, ix, seen);
	else if (seen[K_IX_ORG] || seen[K_IX_BUCKET])
		check_v2(x, ix, seen);
	else
		conf__fail(x, ix->line, "influx", "database", "missing (expected database = for InfluxDB 1, or org = "
			   "and bucket = for InfluxDB 2)");
	if (!x->failed && ix->batch > ix->queue)
		conf__fail(x, seen[K_IX_BATCH], "influx", "batch", "larger than queue = (%d points)", ix->queue);
}

void conf__print_influx(const struct conf *c, FILE *out)
{
	const struct conf_influx *ix = &c->influx;
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
