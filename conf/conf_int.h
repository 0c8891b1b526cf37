/* SPDX-License-Identifier: MIT */
/* conf/conf_int.h - what the files of conf/ share, and nothing outside it.
 * Its names carry conf/'s internal marker, conf__ (mosquitto's module__verb:
 * conf__fail, conf__set_value); conf_ is the API of conf.h, which other
 * rooms call.
 *
 * conf.c     the schema of conf's own sections: every key with its type,
 *            range and default (conf__keys[]), the sections (conf_sect_*,
 *            section.h) and where they are in a struct conf (conf__own[])
 * sections.c the sections in force: conf's and those the rooms above hand
 *            down (conf_use_sections), in list order; where each instance
 *            is, the steps after the parse and the parts of the summary;
 *            the queries a room's checks ask of the others by their data
 *            (conf_section_on, conf_listen_user, conf_wire_user)
 * values.c   one parser per key type: text in, a field of a section out
 * url.c      the URL type (KT_URL): scheme, host, credentials taken out
 * address.c  hosts, ports, networks, Bluetooth addresses, the pack port
 * reader.c   the INI reader (lines, comments, [section] headers), inih's
 *            handler, conf_load_file() / conf_load_string()
 * check.c    the checks that need the whole file, after the parse: the
 *            packs and the sections that read them ([bank], [mqtt])
 * check_limits.c  [limits]: the chemistry's defaults, its voltages in order
 * check_soc.c  [soc]: the chemistry's defaults, each pack's copy, the checks
 * check_ble.c, check_mqttjson.c, check_wset.c  a pack's Bluetooth, MQTT
 *            and BMS-settings checks
 * check_files.c  one file, one role (the rows' roles; the state directory
 *            handed down: conf_use_state_dir)
 * summary.c  conf_print_summary() for --check
 * summary_out.c  its parts for [limits], [soc] and [health]
 * keys.c     the key table read back: conf_section_same() for a reload,
 *            a value as text (/api/config), bmsgw --keys
 * schema.c   the key table for the setup page: a section's kind from its
 *            name, a key's type and range, the keys a protocol takes
 * checkall.c every error of the check, each on its field (the setup API)
 * ini.c      the file as its lines, changed in place (ini.h, pure)
 *
 * A new key of conf's own sections: its field in the section's struct
 * (conf.h), its K_ below (among its section's, which stand together) and
 * its row in conf__keys[] with its reload class.  An output's section is
 * its room's own (section.h; gateway/README.md "Adding an output"), and so
 * is an inverter protocol's every fact (gateway/inverter/dialects.h): conf/
 * names neither.
 */
#ifndef CONF_CONF_INT_H
#define CONF_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "section.h"

#define CONF_BASE_MAX (65535 - REG_MAP_SIZE + 1) /* the register map must fit */
#define CONF_LINE_BUF 1024              /* longest physical line we read */
#define CONF_EXP_MAX 1536               /* one "expected ..." text or list (about 150 protocol names) */


/* Index of every key in conf__keys[] (and in the per-section "seen" lines). */
enum {
	K_LISTEN, K_BASE, K_FLOAT_ORDER, K_MAX_CLIENTS, K_IDLE_TIMEOUT, K_STALE_AFTER,
	K_STALE_POLICY, K_LOG_LEVEL, K_STATE_FILE, K_CONTROL_CLIENTS, K_SITE,
	K_PROTOCOL, K_PORT, K_BAUD, K_ADDRESS, K_UNIT_ID, K_POLL_INTERVAL, K_TIMEOUT,
	K_RETRIES, K_GAP, K_CELLS, K_INVERT_CURRENT, K_CONTROL, K_CONTROL_TIMEOUT, K_BMS_SETTINGS,
	K_BMS_SETTINGS_PER_DAY, K_KEY, K_PIN,
	K_PK_MAX_CHARGE, K_PK_MAX_DISCHARGE,
	K_ADDRESS_ANY, K_POSITION, K_PK_LISTEN, K_TAKEOVER_AFTER, K_BITRATE, K_PK_ADAPTER,
	K_PK_TOPIC, K_PK_FIELDS, K_PK_STALE_AFTER, K_PK_VENUS,
	/* a pack's own [soc] keys (K_PK_SOC_COUNTING + i overrides K_SOC_COUNTING + i) */
	K_PK_SOC_COUNTING, K_PK_SOC_SOURCE, K_PK_SOC_CAPACITY, K_PK_SOC_CHEMISTRY, K_PK_SOC_EFFICIENCY,
	K_PK_SOC_OFFSET, K_PK_SOC_THRESHOLD, K_PK_SOC_GAIN_ERROR, K_PK_SOC_OFFSET_ERROR, K_PK_SOC_FULL_CELL,
	K_PK_SOC_TAIL, K_PK_SOC_FULL_TIME,
	K_PK_SOC_EMPTY_CELL, K_PK_SOC_EMPTY_CURRENT, K_PK_SOC_EMPTY_TIME, K_PK_SOC_KNEE_CELL, K_PK_SOC_KNEE_SOC,
	K_PK_SOC_REST_CURRENT,
	K_PK_SOC_REST_TIME, K_PK_SOC_LEARN,
	K_BANK_UNIT_ID, K_BANK_PACKS, K_BANK_DEVIATION, K_BANK_STRINGS, K_BANK_CURRENT_DEVIATION, K_BANK_SHUNT,
	K_MQ_HOST, K_MQ_PORT, K_MQ_CLIENT_ID, K_MQ_USERNAME, K_MQ_PASSWORD_FILE, K_MQ_TLS, K_MQ_CA_FILE,
	K_MQ_CERT_FILE, K_MQ_KEY_FILE, K_MQ_TOPIC_PREFIX, K_MQ_DISCOVERY, K_MQ_DISCOVERY_PREFIX,
	K_MQ_PUBLISH_INTERVAL, K_MQ_CELLS, K_MQ_KEEPALIVE, K_MQ_CONTROL, K_MQ_VICTRON,
	K_MQ_BACKFILL,
	K_MQ_BACKFILL_RATE,
	K_BLE_ADAPTER, K_BLE_CONNECT_TIMEOUT, K_BLE_MAX_CONNECTIONS,
	K_BP_HOST, K_BP_PORT, K_BP_KEY, K_BP_PASSWORD_FILE,
	K_LI_CHEMISTRY, K_LI_MAX_CELL, K_LI_FLOAT_CELL, K_LI_MIN_CELL, K_LI_MAX_CHARGE, K_LI_MAX_DISCHARGE,
	K_LI_ABS_TIME, K_LI_ABS_DIFF, K_LI_REBULK_SOC, K_LI_REBULK_DIFF, K_LI_CHARGE_CELL, K_LI_DISCHARGE_CELL,
	K_LI_CHARGE_TEMP, K_LI_DISCHARGE_TEMP, K_LI_MOS_TEMP, K_LI_SOC_CHARGE, K_LI_SOC_DISCHARGE, K_LI_INTERP,
	K_LI_RECOVERY_HOLD, K_LI_RECOVERY_RATE, K_LI_CVL_HOLD, K_LI_CVL_RATE, K_LI_FORCE_SOC, K_LI_FULL_DAYS,
	K_LI_BANK_RULE, K_LI_BANK_STALE, K_LI_UNKNOWN_TEMP, K_LI_VOLTAGE_DROP, K_LI_ABS_TOL, K_LI_TAIL,
	K_LI_MAX_BULK, K_LI_HYST, K_LI_EXCEEDED,
	K_HE_IR_MIN_STEP,
	/* [soc] (the same keys but save_interval in [pack.NAME] above) */
	K_SOC_COUNTING, K_SOC_SOURCE, K_SOC_CAPACITY, K_SOC_CHEMISTRY, K_SOC_EFFICIENCY, K_SOC_OFFSET,
	K_SOC_THRESHOLD, K_SOC_GAIN_ERROR, K_SOC_OFFSET_ERROR, K_SOC_FULL_CELL, K_SOC_TAIL, K_SOC_FULL_TIME,
	K_SOC_EMPTY_CELL, K_SOC_EMPTY_CURRENT,
	K_SOC_EMPTY_TIME, K_SOC_KNEE_CELL, K_SOC_KNEE_SOC, K_SOC_REST_CURRENT, K_SOC_REST_TIME, K_SOC_LEARN,
	K_SOC_SAVE_INTERVAL,
	K_COUNT
};
/* The [soc] keys a [pack.NAME] may override: K_SOC_COUNTING .. K_SOC_LEARN. */
#define CONF_SOC_PACK_KEYS (K_SOC_LEARN - K_SOC_COUNTING + 1)
_Static_assert(K_PK_SOC_LEARN - K_PK_SOC_COUNTING + 1 == CONF_SOC_PACK_KEYS, "one pack key per [soc] key");


/* The schema (conf.c). */
extern const struct conf_key conf__keys[K_COUNT];


/* A default that depends on [limits] chemistry: text per enum conf_chemistry. */
#define CONF_NCHEM 3
struct chem_default {
	int key;
	const char *def[CONF_NCHEM];
};
extern const struct chem_default conf__chem_defaults[];
extern const size_t conf__nchem_defaults;

/* State of one load. */
struct conf_load {
	const char *file;           /* name for messages */
	FILE *fp;                   /* input: a file ... */
	const char *s;              /* ... or the rest of a string */
	int lineno;                 /* lines handed out so far */

	const struct conf__rt *sect; /* section being read, NULL before the first */
	char sect_name[64];         /* its name without brackets, for messages */
	void *obj;                  /* the struct of the section being read */
	int *seen;                  /* line of each of its keys set (as sect->s->keys), 0 = unset */
	/* conf's own sections' lines, by K_ index */
	int gw_seen[K_COUNT];
	int pack_seen[CONF_MAX_PACKS][K_COUNT];
	int bank_seen[K_COUNT];
	int mqtt_seen[K_COUNT];
	int ble_seen[K_COUNT];
	int limits_seen[K_COUNT];
	int soc_seen[K_COUNT];
	int ble_proxy_seen[CONF_MAX_BLE_PROXIES][K_COUNT];
	int health_seen[K_COUNT];
	int room_seen[CONF_ROOM_SEEN]; /* the rooms' sections', by their keys' index */

	bool failed;
	char msg[CONF_ERR_MAX];     /* the first error */
	int err_line;               /* ... its line, section and key (struct conf_error) */
	char err_sect[64], err_key[64];
	size_t err_at;              /* where its problem starts in msg */
	struct conf c;              /* what we are building */
};

/* A section in force (sections.c): where its instances are in a struct
 * conf (a single one: one struct; a named one: an array of them and a
 * count) and where the reader keeps the line of each key it set.  conf's
 * own are in their members of struct conf, their lines by K_ index (an
 * instance's seen[first + j] for keys[j]); the rooms' in struct conf's
 * room area, their lines by their keys' index. */
struct conf__rt {
	const struct conf_section *s;
	bool own;
	size_t obj;                /* offset in struct conf of the struct or the array */
	size_t elem;               /* from one instance to the next */
	size_t count;              /* named: offset in struct conf of the count */
	size_t seen;               /* offset in struct conf_load of the lines ([max][stride]) */
	int stride, first;
};
/* conf.c: conf's own sections and where they are. */
extern const struct conf__rt conf__own[];
extern const size_t conf__nown;
/* A step after the parse or a part of the summary, by its order (conf.c:
 * conf's own; sections.c adds the rooms'). */
struct conf__step {
	int order, seq;
	void (*finish)(struct conf_load *x);
	void (*print)(const struct conf *c, FILE *out);
};
extern const struct conf__step conf__own_finish[], conf__own_print[];
#define CONF_OWN_STEPS 32 /* conf's own steps and parts, at most */
extern const size_t conf__nown_finish, conf__nown_print;

/* sections.c: the sections in force in list order; the one of s (NULL:
 * not in force); instance i's struct in c and its seen lines in x; the
 * rooms' steps after the parse (summary false) or their parts of the
 * summary, sorted by order.  check.c runs the steps among conf's own
 * (until the first error), summary.c the parts. */
size_t conf__nsections(void);
const struct conf__rt *conf__rt_nth(size_t i);
const struct conf__rt *conf__rt_of(const struct conf_section *s);
void *conf__obj(struct conf *c, const struct conf__rt *r, int i);
int *conf__seen(struct conf_load *x, const struct conf__rt *r, int i);
const struct conf__step *conf__room_steps(bool summary, size_t *n);
void conf__run_finish(struct conf_load *x);

#define FIELD(base, off, type) ((type)(void *)((char *)(base) + (off)))

/* values.c: the defaults of every key of section s that has a fixed
 * default (each by its key's parser). */
void conf__apply_defaults(const struct conf_section *s, void *obj);

/* text.c */
char *conf__rstrip(char *s);
/* 0 ok, -1 not a number, -2 out of the range of long. */
int conf__parse_long(const char *s, long *out);
/* A hint when a value holds '#': only " ;" starts a comment after a value. */
const char *conf__comment_hint(const char *v);

/* values.c */
bool conf__valid_pack_name(const char *s, size_t len);
void conf__list_protocols(char *buf, size_t cap);
/* The same, of the protocols for which has() is true. */
void conf__list_protocols_with(char *buf, size_t cap, bool (*has)(const struct bms_driver *d));
/* check_wset.c: pack i's bms_settings against its protocol, its link and
 * its own chemistry line (false: failed). */
bool conf__check_bms_settings(struct conf_load *x, int i, const char *sect);
void conf__list_keys(const struct conf_section *s, char *buf, size_t cap);
/* Parse value v of key k into obj (the section's struct: conf_gateway,
 * conf_pack ...).  0, or -1 with the problem in why. */
int conf__set_value(const struct conf_key *k, void *obj, const char *v, char *why, size_t wl);
void conf__list_bauds(char *buf, size_t cap);

/* address.c */
bool conf__is_ipv4_like(const char *h);
/* A host name or address as written (no brackets); 0 or -1 with why. */
int conf__check_host(const char *h, bool v6, char *why, size_t wl);
/* One address or network: "192.168.1.0/24", "10.0.0.7", "fe80::/10", "[::1]". */
int conf__parse_net(const char *item, struct conf_net *n);
/* The port key: /dev/... or tcp://HOST:PORT. */
int conf__set_port(struct conf_pack *p, const char *v, char *why, size_t wl);
/* 1..15 characters of A-Z a-z 0-9 _ . - (a network interface's name). */
bool conf__is_ifname(const char *v);

/* fail.c */
/* Record the first error: "FILE:LINE: [sect] key: problem".  line 0 leaves
 * out the line, sect/key NULL leave out those parts. */
__attribute__((format(printf, 5, 6)))
void conf__fail(struct conf_load *x, int line, const char *sect, const char *key, const char *fmt, ...);

/* check_files.c: no key names another of bmsgw's own files; a file a key
 * names is a regular one, reached without another user's link. */
void conf__finish_files(struct conf_load *x);
/* fail.c: the line of key `key` of the section whose seen lines are `seen`,
 * or the line of its header when the key was not written. */
int conf__seen_line(const int *seen, int key, int header);

/* summary_out.c: the parts of the summary for the outputs. */
void conf__print_limits(const struct conf *c, FILE *out);

/* check_limits.c: [limits], after the packs and the bank. */
void conf__finish_limits(struct conf_load *x);
/* check_mqttjson.c: an mqtt-json pack's topic and fields (before the port
 * check; false after an error), then its broker after [mqtt]. */
bool conf__mqtt_pack(struct conf_load *x, int i, const char *sect);
void conf__finish_mqtt_packs(struct conf_load *x);
/* check_ble.c: each [ble_proxy.NAME], and the adapter of each ble:// pack. */
void conf__finish_ble(struct conf_load *x);
/* The [ble_proxy.NAME] the pack's adapter (its own, else [ble]'s) names, or NULL. */
const struct conf_ble_proxy *conf__pack_proxy(const struct conf_load *x, const struct conf_pack *p);
/* check_soc.c: [soc] and its keys in the packs, after [limits] (the full
 * cell voltage follows its target). */
void conf__finish_soc(struct conf_load *x);
/* summary_out.c */
void conf__print_soc(const struct conf *c, FILE *out);
void conf__print_health(const struct conf *c, FILE *out);

#endif
