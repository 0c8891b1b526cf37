/* SPDX-License-Identifier: MIT */
/* tests/unit/test_setup_hidden.c - which values of the configuration the
 * setup API never shows (gateway/web/setup/plan.c setup_value_hidden): the
 * secret keys, a URL's login, and an alert URL's path and query, where a
 * webhook's token is (?token=..., Slack's and Discord's /services/...). */
#include "../../gateway/web/setup/setup_int.h"
#include "check.h"
#include "sections.h"

int main(void)
{
	install_sections();
	/* a secret key, whatever its value */
	CHECK(setup_value_hidden("pack.v", "key", "00112233445566778899aabbccddeeff"));
	/* a BMS's PIN: a secret of its own, settable as one */
	CHECK(setup_value_hidden("pack.j", "pin", "1234"));
	/* a URL's login */
	CHECK(setup_value_hidden("alerts.hook", "url", "https://u:p@h/"));
	CHECK(setup_value_hidden("influx", "url", "http://u:p@h:8086"));
	/* an alert URL's path or query: its token */
	CHECK(setup_value_hidden("alerts.hook", "url", "https://h/hooks/T0/B1/XYZ"));
	CHECK(setup_value_hidden("alerts.hook", "url", "https://h?token=abc"));
	CHECK(setup_value_hidden("alerts.hook", "url", "https://ntfy.sh/my-battery"));
	/* shown: an alert URL that is a host alone, an InfluxDB URL with a path
	 * (its token is a key of its own), keys that are no secret */
	CHECK(!setup_value_hidden("alerts.hook", "url", "https://h/"));
	CHECK(!setup_value_hidden("alerts.hook", "url", "https://h:8443"));
	CHECK(!setup_value_hidden("influx", "url", "http://h:8086/influx"));
	CHECK(!setup_value_hidden("mqtt", "host", "broker.lan"));
	return check_report();
}
