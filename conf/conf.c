/* conf/conf.c - the schema of the configuration file: every key of every
 * section with its type, range and default (conf_keys[]), and the kinds of
 * section (sect_kinds[]).
 *
 * The rest of conf/ walks these tables (conf_int.h says which file does
 * what): values.c parses a value by its key's type, reader.c finds keys and
 * sections here, check.c runs the checks that need the whole file,
 * summary.c prints what was loaded.  tests/integration/test_package.py reads
 * conf_keys[] from this file to check that bmsgw.ini(5) documents every key.
 */
#include "conf_int.h"

#include <stddef.h>
#include <string.h>

static const char *const float_words[] = {"cdab", "abcd", NULL};
static const char *const stale_words[] = {"exception", "flag", NULL};
static const char *const level_words[] = {"error", "warn", "info", "debug", NULL};
static const char *const cells_words[] = {"disabled", "enabled", "off", NULL};

_Static_assert(sizeof(enum reg_float_order) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_stale_policy) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_log_level) == sizeof(int), "enum stored as int");
_Static_assert(sizeof(enum conf_mqtt_cells) == sizeof(int), "enum stored as int");

#define GW(f) offsetof(struct conf_gateway, f)
#define PK(f) offsetof(struct conf_pack, f)
#define BK(f) offsetof(struct conf_bank, f)
#define UP(f) offsetof(struct conf_upstream, f)
#define MQ(f) offsetof(struct conf_mqtt, f)
#define TU(f) offsetof(struct conf_tunnel, f)
#define HT(f) offsetof(struct conf_http, f)
#define HI(f) offsetof(struct conf_history, f)
#define BL(f) offsetof(struct conf_ble, f)

/* The schema of the configuration file (README.md "Configuration",
 * bmsgw.ini(5) = conf/bmsgw.ini.5), defaults included. */
const struct conf_key conf_keys[K_COUNT] = {
	[K_LISTEN] = {SEC_GATEWAY, "listen", KT_LISTEN, 0, 0, false, NULL, GW(listen_host), "0.0.0.0:502"},
	[K_BASE] = {SEC_GATEWAY, "base", KT_INT, 0, CONF_BASE_MAX, false, NULL, GW(base), "290"},
	[K_FLOAT_ORDER] = {SEC_GATEWAY, "float_order", KT_WORD, 0, 0, false, float_words, GW(float_order), "cdab"},
	[K_MAX_CLIENTS] = {SEC_GATEWAY, "max_clients", KT_INT, 1, 10000, false, NULL, GW(max_clients), "64"},
	[K_IDLE_TIMEOUT] = {SEC_GATEWAY, "idle_timeout", KT_DOUBLE, 0, 86400, true, NULL, GW(idle_timeout), "300"},
	[K_STALE_AFTER] = {SEC_GATEWAY, "stale_after", KT_DOUBLE, 0, 86400, true, NULL, GW(stale_after), "30"},
	[K_STALE_POLICY] = {SEC_GATEWAY, "stale_policy", KT_WORD, 0, 0, false, stale_words, GW(stale_policy), "exception"},
	[K_LOG_LEVEL] = {SEC_GATEWAY, "log_level", KT_WORD, 0, 0, false, level_words, GW(log_level), "info"},
	[K_STATE_FILE] = {SEC_GATEWAY, "state_file", KT_PATH, 0, 0, false, NULL, GW(state_file), NULL},
	[K_CONTROL_CLIENTS] = {SEC_GATEWAY, "control_clients", KT_NETS, 0, 0, false, NULL, GW(control_clients), NULL},

	[K_PROTOCOL] = {SEC_PACK, "protocol", KT_PROTOCOL, 0, 0, false, NULL, PK(driver), NULL},
	[K_PORT] = {SEC_PACK, "port", KT_PORT, 0, 0, false, NULL, PK(port), NULL},
	[K_BAUD] = {SEC_PACK, "baud", KT_BAUD, 0, 0, false, NULL, PK(baud), NULL},
	[K_ADDRESS] = {SEC_PACK, "address", KT_INT, 0, 255, false, NULL, PK(address), NULL},
	[K_UNIT_ID] = {SEC_PACK, "unit_id", KT_INT, 1, 247, false, NULL, PK(unit_id), NULL},
	[K_POLL_INTERVAL] = {SEC_PACK, "poll_interval", KT_DOUBLE, 0.2, 86400, false, NULL, PK(poll_interval), "5"},
	[K_TIMEOUT] = {SEC_PACK, "timeout", KT_DOUBLE, 0, 60, true, NULL, PK(timeout), "1.0"},
	[K_RETRIES] = {SEC_PACK, "retries", KT_INT, 0, 10, false, NULL, PK(retries), "2"},
	[K_GAP] = {SEC_PACK, "gap", KT_DOUBLE, 0, 10, false, NULL, PK(gap), NULL},
	[K_CELLS] = {SEC_PACK, "cells", KT_INT, 0, 32, false, NULL, PK(cells), "0"},
	[K_INVERT_CURRENT] = {SEC_PACK, "invert_current", KT_BOOL, 0, 0, false, NULL, PK(invert_current), "false"},
	[K_CONTROL] = {SEC_PACK, "control", KT_BOOL, 0, 0, false, NULL, PK(control), "false"},
	[K_CONTROL_TIMEOUT] = {SEC_PACK, "control_timeout", KT_DOUBLE, 0.5, 60, false, NULL, PK(control_timeout), "3"},
	[K_KEY] = {SEC_PACK, "key", KT_KEY, 0, 0, false, NULL, PK(have_key), NULL},

	[K_BANK_UNIT_ID] = {SEC_BANK, "unit_id", KT_INT, 1, 247, false, NULL, BK(unit_id), "100"},
	[K_BANK_PACKS] = {SEC_BANK, "packs", KT_NAMES, 0, 0, false, NULL, BK(packs_text), NULL},
	[K_BANK_DEVIATION] = {SEC_BANK, "max_deviation", KT_DOUBLE, 0, 100, true, NULL, BK(max_deviation), "1.0"},

	[K_UP_HOST] = {SEC_UPSTREAM, "host", KT_HOST, 0, 0, false, NULL, UP(host), NULL},
	[K_UP_PORT] = {SEC_UPSTREAM, "port", KT_INT, 1, 65535, false, NULL, UP(port), "502"},
	[K_UP_UNIT_ID] = {SEC_UPSTREAM, "unit_id", KT_INT, 0, 255, false, NULL, UP(unit_id), "1"},
	[K_UP_BASE] = {SEC_UPSTREAM, "base", KT_INT, 0, 65535, false, NULL, UP(base), NULL},
	[K_UP_SOURCE] = {SEC_UPSTREAM, "source", KT_NAME, 0, 0, false, NULL, UP(source), NULL},
	[K_UP_INTERVAL] = {SEC_UPSTREAM, "interval", KT_DOUBLE, 0.2, 86400, false, NULL, UP(interval), "5"},
	[K_UP_TIMEOUT] = {SEC_UPSTREAM, "timeout", KT_DOUBLE, 0, 60, true, NULL, UP(timeout), "2"},
	[K_UP_REGISTERS] = {SEC_UPSTREAM, "registers", KT_RANGE, 0, 124, false, NULL, UP(reg_first), "0-124"},

	[K_MQ_HOST] = {SEC_MQTT, "host", KT_HOST, 0, 0, false, NULL, MQ(host), NULL},
	[K_MQ_PORT] = {SEC_MQTT, "port", KT_INT, 1, 65535, false, NULL, MQ(port), "1883"},
	[K_MQ_CLIENT_ID] = {SEC_MQTT, "client_id", KT_IDENT, 0, 0, false, NULL, MQ(client_id), NULL},
	[K_MQ_USERNAME] = {SEC_MQTT, "username", KT_TEXT, 0, 0, false, NULL, MQ(username), NULL},
	[K_MQ_PASSWORD_FILE] = {SEC_MQTT, "password_file", KT_PATH, 0, 0, false, NULL, MQ(password_file), NULL},
	[K_MQ_TLS] = {SEC_MQTT, "tls", KT_BOOL, 0, 0, false, NULL, MQ(tls), "false"},
	[K_MQ_CA_FILE] = {SEC_MQTT, "ca_file", KT_PATH, 0, 0, false, NULL, MQ(ca_file), NULL},
	[K_MQ_CERT_FILE] = {SEC_MQTT, "cert_file", KT_PATH, 0, 0, false, NULL, MQ(cert_file), NULL},
	[K_MQ_KEY_FILE] = {SEC_MQTT, "key_file", KT_PATH, 0, 0, false, NULL, MQ(key_file), NULL},
	[K_MQ_TOPIC_PREFIX] = {SEC_MQTT, "topic_prefix", KT_TOPIC, 0, 0, false, NULL, MQ(topic_prefix), "bmsgw"},
	[K_MQ_DISCOVERY] = {SEC_MQTT, "discovery", KT_BOOL, 0, 0, false, NULL, MQ(discovery), "true"},
	[K_MQ_DISCOVERY_PREFIX] = {SEC_MQTT, "discovery_prefix", KT_TOPIC, 0, 0, false, NULL, MQ(discovery_prefix), "homeassistant"},
	[K_MQ_PUBLISH_INTERVAL] = {SEC_MQTT, "publish_interval", KT_DOUBLE, 0, 86400, false, NULL, MQ(publish_interval), "0"},
	[K_MQ_CELLS] = {SEC_MQTT, "cells", KT_WORD, 0, 0, false, cells_words, MQ(cells), "disabled"},
	[K_MQ_KEEPALIVE] = {SEC_MQTT, "keepalive", KT_INT, 5, 3600, false, NULL, MQ(keepalive), "30"},
	[K_MQ_CONTROL] = {SEC_MQTT, "control", KT_BOOL, 0, 0, false, NULL, MQ(control), "false"},

	[K_TU_PORT] = {SEC_TUNNEL, "port", KT_PATHTEXT, 0, 0, false, NULL, TU(port), NULL},
	[K_TU_LISTEN] = {SEC_TUNNEL, "listen", KT_LISTEN, 0, 0, false, NULL, TU(listen_host), NULL},
	[K_TU_CLIENTS] = {SEC_TUNNEL, "clients", KT_NETS, 0, 0, false, NULL, TU(clients), NULL},
	[K_TU_IDLE_TIMEOUT] = {SEC_TUNNEL, "idle_timeout", KT_DOUBLE, 0, 86400, true, NULL, TU(idle_timeout), "300"},

	[K_HT_LISTEN] = {SEC_HTTP, "listen", KT_LISTEN, 0, 0, false, NULL, HT(listen_host), "0.0.0.0:8080"},
	[K_HT_CLIENTS] = {SEC_HTTP, "clients", KT_NETS, 0, 0, false, NULL, HT(clients), NULL},
	[K_HT_MAX_CLIENTS] = {SEC_HTTP, "max_clients", KT_INT, 1, 1000, false, NULL, HT(max_clients), "32"},

	[K_HI_FILE] = {SEC_HISTORY, "file", KT_PATH, 0, 0, false, NULL, HI(file), NULL},
	[K_HI_INTERVAL] = {SEC_HISTORY, "interval", KT_DOUBLE, 1, 86400, false, NULL, HI(interval), "60"},
	[K_HI_RETENTION] = {SEC_HISTORY, "retention", KT_DOUBLE, 0, 3650, true, NULL, HI(retention), "180"},
	[K_HI_RAW_DAYS] = {SEC_HISTORY, "raw_days", KT_DOUBLE, 0, 3650, false, NULL, HI(raw_days), "7"},
	[K_BLE_ADAPTER] = {SEC_BLE, "adapter", KT_ADAPTER, 0, 0, false, NULL, BL(adapter), NULL},
	[K_BLE_CONNECT_TIMEOUT] = {SEC_BLE, "connect_timeout", KT_DOUBLE, 10, 120, false, NULL, BL(connect_timeout), "20"},
};


/* A single section: struct conf member m of type t, its seen lines, the
 * offset of its `enabled` flag or CONF_NO_FIELD. */
#define SINGLE(w, s, m, t, seen, en) \
	{ w, s, false, 1, offsetof(struct conf, m), 0, 0, 0, offsetof(t, line), offsetof(struct load, seen), en }
/* A named section: array m of type t, at most mx, its count member n. */
#define NAMED(w, s, m, n, t, mx, seen) \
	{ w, s, true, mx, offsetof(struct conf, m), sizeof(t), offsetof(struct conf, n), offsetof(t, name), \
	  offsetof(t, line), offsetof(struct load, seen), CONF_NO_FIELD }

/* The sections, in the order messages list them. */
const struct sect_kind sect_kinds[] = {
	SINGLE("gateway", SEC_GATEWAY, gw, struct conf_gateway, gw_seen, CONF_NO_FIELD),
	NAMED("pack", SEC_PACK, packs, npacks, struct conf_pack, CONF_MAX_PACKS, pack_seen),
	SINGLE("bank", SEC_BANK, bank, struct conf_bank, bank_seen, offsetof(struct conf_bank, enabled)),
	NAMED("upstream", SEC_UPSTREAM, upstreams, nupstreams, struct conf_upstream, CONF_MAX_UPSTREAMS, up_seen),
	SINGLE("mqtt", SEC_MQTT, mqtt, struct conf_mqtt, mqtt_seen, offsetof(struct conf_mqtt, enabled)),
	NAMED("tunnel", SEC_TUNNEL, tunnels, ntunnels, struct conf_tunnel, CONF_MAX_TUNNELS, tunnel_seen),
	SINGLE("http", SEC_HTTP, http, struct conf_http, http_seen, offsetof(struct conf_http, enabled)),
	/* history's `enabled` depends on [http] and `file` (check.c) */
	SINGLE("history", SEC_HISTORY, history, struct conf_history, history_seen, CONF_NO_FIELD),
	SINGLE("ble", SEC_BLE, ble, struct conf_ble, ble_seen, CONF_NO_FIELD),
};
const size_t nsect_kinds = sizeof(sect_kinds) / sizeof(sect_kinds[0]);

const char *conf_key_word(int key, int i)
{
	const char *const *words = conf_keys[key].words;
	for (int j = 0; words && words[j]; j++)
		if (j == i)
			return words[j];
	return "?";
}

/* Defaults of every key of one section that has a fixed default. */
void apply_defaults(enum conf_sect sect, void *obj)
{
	char why[CONF_WHY_MAX];
	for (size_t i = 0; i < K_COUNT; i++)
		if (conf_keys[i].sect == sect && conf_keys[i].def)
			(void)set_value(&conf_keys[i], obj, conf_keys[i].def, why, sizeof(why));
}

void conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < nsect_kinds; i++)
		if (!sect_kinds[i].named)
			apply_defaults(sect_kinds[i].sect, (char *)c + sect_kinds[i].obj);
}
