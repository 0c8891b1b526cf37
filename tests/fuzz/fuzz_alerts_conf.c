/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_alerts_conf.c - libFuzzer target: the parsers of
 * [alerts.NAME] url = and on = (conf/url.c, gateway/alerts/alerts_conf.c) on any text.  What they
 * take holds together: a URL of one of the four schemes with a host, its
 * user and password taken out of what is fetched, and a password never in
 * what is shown; conditions known, each once, their numbers in range.
 * (What comes back from a destination, HTTP and SMTP answers, is parsed
 * by libcurl, not by bmsgw.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/alerts/alerts_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static void check_url(const char *v)
{
	struct conf_url u;
	char why[CONF_WHY_MAX];
	if (conf_url_parse(&u, v, why, sizeof(why)) < 0) {
		REQUIRE(why[0]);
		return;
	}
	REQUIRE(u.scheme >= CONF_URL_HTTP && u.scheme <= CONF_URL_SMTPS);
	static const char *const pre[] = { "http://", "https://", "smtp://", "smtps://" };
	REQUIRE(strncasecmp(u.bare, pre[u.scheme], strlen(pre[u.scheme])) == 0);
	const char *auth = u.bare + strlen(pre[u.scheme]);
	size_t alen = strcspn(auth, "/?#");
	REQUIRE(alen > 0 && !memchr(auth, '@', alen)); /* no credentials fetched in the URL */
	/* shown: a password as *** (3 more than an empty one), the path and
	 * query as /... (3 more than a path of one "/") */
	REQUIRE(strlen(u.bare) <= strlen(v) && strlen(u.text) <= strlen(v) + 3 + 3);
	const char *ta = u.text + strlen(pre[u.scheme]);
	const char *rest = ta + strcspn(ta, "/?#");
	REQUIRE(!*rest || strcmp(rest, "/") == 0 || strcmp(rest, "/...") == 0); /* nothing of them shown */
	if (u.pass[0])
		REQUIRE(strstr(u.text, ":***@") != NULL);
	for (const char *p = u.user; *p; p++)
		REQUIRE((unsigned char)*p >= 0x20 && *p != 0x7F);
}

static void check_on(const char *v)
{
	struct conf_alert_on on;
	char why[CONF_WHY_MAX];
	if (gw_alert_on_parse(&on, v, why, sizeof(why)) < 0) {
		REQUIRE(why[0]);
		return;
	}
	REQUIRE(on.bits && on.bits < 1u << CONF_AL_NCOND);
	if (on.bits & 1u << CONF_AL_SOC_BELOW)
		REQUIRE(on.soc_below > 0 && on.soc_below <= 100);
	if (on.bits & 1u << CONF_AL_IR_RISE)
		REQUIRE(on.ir_rise > 0 && on.ir_rise <= 1000);
	REQUIRE(strcmp(on.text, v) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char v[1024];
	if (size >= sizeof(v))
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	check_url(v);
	check_on(v);
	return 0;
}
