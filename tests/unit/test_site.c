/* SPDX-License-Identifier: MIT */
/* tests/unit/test_site.c - [gateway] site: the label on every /metrics sample
 * (gw_prom_with_site), the MQTT topic prefix's default and what a reload
 * compares, the Home Assistant ids and device names (discovery and
 * --ha-yaml); and a gateway without a site exactly as before.  Also the
 * BMS settings' diagnostic sensors of an mqtt-json pack: the keys its map
 * names (setting_<key>), no others; the status page labels each setting as
 * its entity is named (bms/base/settings.c's label); --ha-yaml's sensors
 * are those of the values a pack's protocol gives (no "SOH 0 %" of a Daly)
 * and the counted SOC's only where the count can run. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bms/settings.h"
#include "../../conf/section.h"
#include "../../gateway/core/prom.h"
#include "../../gateway/ha/discovery.h"
#include "../../gateway/ha/hayaml.h"
#include "check.h"

static struct conf c;
static char err[CONF_ERR_MAX];

#define PACK "[pack.house]\nprotocol = daly\nport = /dev/ttyUSB0\n"
#define MQTT "[mqtt]\nhost = 127.0.0.1\nclient_id = gw1\n"

static int load(const char *text)
{
	int rc = conf_load_string(text, "t.ini", &c, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  %s\n", err);
	return rc;
}

/* gw_prom_with_site over text, into a string the caller frees. */
static char *with_site(const char *text, const char *site)
{
	char *out = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&out, &len);
	gw_prom_with_site(o, text, strlen(text), site);
	fclose(o);
	return out;
}

static void test_prom(void)
{
	char *s = with_site("# HELP bmsgw_up Up.\n# TYPE bmsgw_up gauge\nbmsgw_up 1\n"
			    "bmsgw_pack_voltage{pack=\"house\"} 53.2\n"
			    "bmsgw_info{version=\"0.1.0\"} 1\n"
			    "bmsgw_empty{} 3\n"
			    "\n"
			    "bmsgw_string_member{string=\"s1\",pack=\"a{b} c\"} 1\n",
			    "cabin");
	CHECK_STR(s, "# HELP bmsgw_up Up.\n# TYPE bmsgw_up gauge\nbmsgw_up{site=\"cabin\"} 1\n"
		     "bmsgw_pack_voltage{site=\"cabin\",pack=\"house\"} 53.2\n"
		     "bmsgw_info{site=\"cabin\",version=\"0.1.0\"} 1\n"
		     "bmsgw_empty{site=\"cabin\"} 3\n"
		     "\n"
		     "bmsgw_string_member{site=\"cabin\",string=\"s1\",pack=\"a{b} c\"} 1\n");
	free(s);
	/* a last line without its newline keeps none */
	s = with_site("bmsgw_up 1", "x");
	CHECK_STR(s, "bmsgw_up{site=\"x\"} 1");
	free(s);
	s = with_site("", "x");
	CHECK_STR(s, "");
	free(s);
	/* names with digits and colons; a line that is no sample is left alone */
	s = with_site("a:b_2 7\n 9\n", "s-1");
	CHECK_STR(s, "a:b_2{site=\"s-1\"} 7\n 9\n");
	free(s);
}

static void test_conf(void)
{
	/* no site: as before */
	CHECK_EQ_INT(load(PACK MQTT), 0);
	CHECK_STR(c.gw.site, "");
	CHECK_STR(c.mqtt.topic_prefix, "bmsgw");
	CHECK_STR(c.mqtt.site, "");
	CHECK(!c.mqtt.victron);
	/* a site: the prefix's default names it */
	CHECK_EQ_INT(load("[gateway]\nsite = cabin\n" PACK MQTT "victron = true\n"), 0);
	CHECK_STR(c.gw.site, "cabin");
	CHECK_STR(c.mqtt.topic_prefix, "bmsgw/cabin");
	CHECK_STR(c.mqtt.site, "cabin");
	CHECK(c.mqtt.victron);
	/* an explicit topic_prefix wins */
	CHECK_EQ_INT(load("[gateway]\nsite = cabin\n" PACK MQTT "topic_prefix = farm/x\n"), 0);
	CHECK_STR(c.mqtt.topic_prefix, "farm/x");
	/* a reload that changes the site restarts the MQTT client (its topics
	 * and HA ids name it), even with an explicit prefix; victron is live */
	static struct conf a, b;
	CHECK_EQ_INT(conf_load_string("[gateway]\nsite = one\n" PACK MQTT "topic_prefix = p\n", "a", &a, err,
				      sizeof(err)), 0);
	CHECK_EQ_INT(conf_load_string("[gateway]\nsite = two\n" PACK MQTT "topic_prefix = p\nvictron = true\n",
				      "b", &b, err, sizeof(err)), 0);
	CHECK(!conf_section_same(&conf_sect_mqtt, CONF_RESTART, &a.mqtt, &b.mqtt));
	CHECK(!conf_section_same(&conf_sect_mqtt, CONF_LIVE, &a.mqtt, &b.mqtt));
	CHECK_EQ_INT(conf_load_string("[gateway]\nsite = one\n" PACK MQTT "topic_prefix = p\nvictron = true\n", "b",
				      &b, err, sizeof(err)), 0);
	CHECK(conf_section_same(&conf_sect_mqtt, CONF_RESTART, &a.mqtt, &b.mqtt));
	/* a site is an identifier */
	CHECK_EQ_INT(conf_load_string("[gateway]\nsite = a b\n" PACK, "t", &a, err, sizeof(err)), -1);
}

/* The discovery configs, concatenated. */
struct sink {
	char *text;
	size_t len;
	FILE *o;
};

static void emit(void *ctx, const char *topic, const char *payload)
{
	struct sink *k = ctx;
	fprintf(k->o, "%s %s\n", topic, payload);
}

static char *discovery(void)
{
	struct sink k = { NULL, 0, NULL };
	k.o = open_memstream(&k.text, &k.len);
	gw_disc_gateway(&c, emit, &k);
	gw_disc_pack(&c, &c.packs[0], 4, 1, emit, &k);
	if (c.bank.enabled)
		gw_disc_bank(&c, 1, emit, &k);
	fclose(k.o);
	return k.text;
}

static void test_ha(void)
{
	char gid[160];
	CHECK_EQ_INT(load(PACK MQTT), 0);
	gw_disc_gateway_id(&c, gid, sizeof(gid));
	CHECK_STR(gid, "bmsgw_gw1");
	char *d = discovery();
	CHECK(strstr(d, "homeassistant/sensor/bmsgw_gw1_house/voltage/config ") != NULL);
	CHECK(strstr(d, "\"unique_id\":\"bmsgw_gw1_house_voltage\"") != NULL);
	CHECK(strstr(d, "\"identifiers\":[\"bmsgw_gw1_house\"],\"name\":\"house\"") != NULL);
	CHECK(strstr(d, "\"identifiers\":[\"bmsgw_gw1\"],\"name\":\"gw1\"") != NULL);
	free(d);

	CHECK_EQ_INT(load("[gateway]\nsite = cabin\n" PACK "[bank]\npacks = house\n" MQTT), 0);
	gw_disc_gateway_id(&c, gid, sizeof(gid));
	CHECK_STR(gid, "bmsgw_cabin_gw1");
	d = discovery();
	CHECK(strstr(d, "homeassistant/sensor/bmsgw_cabin_gw1_house/voltage/config ") != NULL);
	CHECK(strstr(d, "\"unique_id\":\"bmsgw_cabin_gw1_house_voltage\"") != NULL);
	CHECK(strstr(d, "\"identifiers\":[\"bmsgw_cabin_gw1_house\"],\"name\":\"cabin house\"") != NULL);
	CHECK(strstr(d, "\"identifiers\":[\"bmsgw_cabin_gw1_bank\"],\"name\":\"cabin gw1 bank\"") != NULL);
	CHECK(strstr(d, "\"identifiers\":[\"bmsgw_cabin_gw1\"],\"name\":\"cabin gw1\"") != NULL);
	CHECK(strstr(d, "\"via_device\":\"bmsgw_cabin_gw1\"") != NULL);
	CHECK(strstr(d, "bmsgw_gw1_") == NULL); /* no id of the gateway without a site */
	/* the state topics under the site's prefix */
	CHECK(strstr(d, "\"state_topic\":\"bmsgw/cabin/house/state\"") != NULL);
	free(d);
}

/* An mqtt-json pack announces a sensor for each BMS setting its map names,
 * none for the others; a daly pack those its driver reads. */
static void test_ha_settings(void)
{
	CHECK_EQ_INT(load(MQTT "[pack.yam]\nprotocol = mqtt-json\ntopic = n/state\n"
			  "fields = voltage:v, soc:s, setting_cell_ovp_v:S.ovp, setting_capacity_ah:cap\n"),
		     0);
	char *d = discovery();
	CHECK(strstr(d, "homeassistant/sensor/bmsgw_gw1_yam/bms_cell_ovp_v/config ") != NULL);
	CHECK(strstr(d, "\"value_template\":\"{{ value_json.settings_bms.cell_ovp_v.value }}\"") != NULL);
	CHECK(strstr(d, "homeassistant/sensor/bmsgw_gw1_yam/bms_capacity_ah/config ") != NULL);
	CHECK(strstr(d, "bms_cell_uvp_v") == NULL);
	free(d);
	CHECK_EQ_INT(load(MQTT "[pack.yam]\nprotocol = mqtt-json\ntopic = n/state\nfields = voltage:v, soc:s\n"), 0);
	d = discovery();
	CHECK(strstr(d, "/bms_") == NULL); /* no setting mapped: none announced */
	free(d);
	CHECK_EQ_INT(load(PACK MQTT), 0);
	d = discovery();
	CHECK(strstr(d, "homeassistant/sensor/bmsgw_gw1_house/bms_cell_ovp_v/config ") != NULL);
	free(d);
}

static char *ha_yaml(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&out, &len);
	gw_write_ha_yaml(&c, o);
	fclose(o);
	return out;
}

static void test_ha_yaml(void)
{
	CHECK_EQ_INT(load(PACK), 0);
	char *y = ha_yaml();
	CHECK(strstr(y, "  - name: bmsgw\n") != NULL);
	CHECK(strstr(y, "      - name: \"house SOC\"\n        unique_id: bmsgw_house_soc\n") != NULL);
	free(y);
	CHECK_EQ_INT(load("[gateway]\nsite = cabin\n" PACK), 0);
	y = ha_yaml();
	CHECK(strstr(y, "  - name: bmsgw_cabin\n") != NULL);
	CHECK(strstr(y, "      - name: \"cabin house SOC\"\n        unique_id: bmsgw_cabin_house_soc\n") != NULL);
	CHECK(strstr(y, "unique_id: bmsgw_house_") == NULL);
	free(y);
}

/* The page's label of each setting (gateway/web/www/app.js, BMS_LABEL) is
 * the one Home Assistant's entity carries. */
static void test_page_labels(void)
{
	FILE *f = fopen("gateway/web/www/app.js", "r");
	CHECK(f != NULL);
	if (!f)
		return;
	static char js[256 * 1024];
	size_t n = fread(js, 1, sizeof(js) - 1, f);
	fclose(f);
	js[n] = '\0';
	for (int k = 0; k < BMS_SET_COUNT; k++) {
		char want[160];
		snprintf(want, sizeof(want), " %s: '%s',", bms_settings_name((enum bms_set_key)k),
			 bms_settings_label((enum bms_set_key)k));
		if (!strstr(js, want))
			fprintf(stderr, "  app.js lacks%s\n", want);
		CHECK(strstr(js, want) != NULL);
	}
}

/* The sensors of one unit of --ha-yaml's output: "\"house SOH\"" found or not. */
static bool has_sensor(const char *y, const char *name)
{
	char want[96];
	snprintf(want, sizeof(want), "      - name: \"%s\"\n", name);
	return strstr(y, want) != NULL;
}

static void test_ha_yaml_provides(void)
{
	/* a Daly: no SOH, no MOS temperature, no full capacity of its own (the
	 * rule's from remaining over SOC: there), no capacity to count with */
	CHECK_EQ_INT(load(PACK), 0);
	char *y = ha_yaml();
	CHECK(has_sensor(y, "house SOC") && has_sensor(y, "house cycles") && has_sensor(y, "house full capacity"));
	CHECK(!has_sensor(y, "house SOH") && !has_sensor(y, "house MOS temperature"));
	CHECK(!has_sensor(y, "house SOC (counted)") && !has_sensor(y, "house SOH (measured)") &&
	      !has_sensor(y, "house SOC (BMS)"));
	CHECK(strstr(y, "      # no counted SOC: no capacity") != NULL);
	free(y);
	/* its capacity configured: it counts */
	CHECK_EQ_INT(load(PACK "capacity = 100\n"), 0);
	y = ha_yaml();
	CHECK(has_sensor(y, "house SOC (counted)") && has_sensor(y, "house SOH (measured)"));
	CHECK(!has_sensor(y, "house SOH"));
	CHECK(strstr(y, "# no counted SOC") == NULL);
	free(y);
	/* [soc] count = false: none of the counted SOC's */
	CHECK_EQ_INT(load(PACK "capacity = 100\n[soc]\ncount = false\n"), 0);
	y = ha_yaml();
	CHECK(!has_sensor(y, "house SOC (counted)") && strstr(y, "# no counted SOC") == NULL);
	free(y);
	/* a JK-PB (SOH, MOS temperature, full capacity of its own): all of them, and it counts */
	CHECK_EQ_INT(load("[pack.van]\nprotocol = jk-pb\nport = /dev/ttyUSB0\n"), 0);
	y = ha_yaml();
	CHECK(has_sensor(y, "van SOH") && has_sensor(y, "van MOS temperature") && has_sensor(y, "van SOC (counted)"));
	free(y);
}

int main(void)
{
	test_prom();
	test_conf();
	test_ha();
	test_ha_settings();
	test_ha_yaml();
	test_ha_yaml_provides();
	test_page_labels();
	return check_report();
}
