/* SPDX-License-Identifier: MIT */
/* conf/conf_int.h - what the files of conf/ share, and nothing outside it.
 * Its names carry conf/'s internal marker, conf__ (mosquitto's module__verb:
 * conf__fail, conf__set_value); conf_ is the API of conf.h, which other
 * rooms call.
 *
 * conf.c     the schema: every key of every section with its type, range
 *            and default (conf__keys[]), the kinds of section (conf__sect_kinds[])
 * values.c   one parser per key type: text in, a field of a section out
 * address.c  hosts, ports, networks, Bluetooth addresses, the pack port
 * reader.c   the INI reader (lines, comments, [section] headers), inih's
 *            handler, conf_load_file() / conf_load_string()
 * check.c    the checks that need the whole file, after the parse: the
 *            packs and the services that read them
 * check_out.c  the same for the outputs: [limits], [inverter.NAME],
 *            [sunspec], [rtu]
 * check_soc.c  [soc]: the chemistry's defaults, each pack's copy, the checks
 * check_hv.c the high-voltage outputs' ranges: the protocol's, the source's
 * check_inv.c which [inverter.NAME] keys each protocol takes, their ranges
 *            and defaults by protocol, how each protocol speaks
 * summary.c  conf_print_summary() for --check
 * summary_out.c  its parts for the outputs
 * keys.c     the key table read back: conf_section_same() for a reload,
 *            a value as text (/api/config), bmsgw --keys
 * schema.c   the key table for the setup page: a section's kind from its
 *            name, a key's type and range, the keys a protocol takes
 * checkall.c every error of the check, each on its field (the setup API)
 * ini.c      the file as its lines, changed in place (ini.h, pure)
 *
 * A new key: its field in the section's struct (conf.h), its K_ below and
 * its row in conf__keys[] with its reload class.  A new section: its
 * CONF_SEC_ in enum conf_sect (conf.h), its keys, a `seen` array in struct
 * load, a row in conf__sect_kinds[], a step in check.c's finish_steps[] and
 * a printer in summary.c's printers[] (gateway/README.md "Adding an output").
 */
#ifndef CONF_CONF_INT_H
#define CONF_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

#define CONF_BASE_MAX (65535 - REG_MAP_SIZE + 1) /* the register map must fit */
#define CONF_LINE_BUF 1024              /* longest physical line we read */
#define CONF_EXP_MAX 1536               /* one "expected ..." text or list (about 150 protocol names) */
#define CONF_WHY_MAX 2048               /* one problem text (a whole message: CONF_ERR_MAX, conf.h) */

enum conf_type {
	KT_INT,      /* int, min..max */
	KT_DOUBLE,   /* double, min..max (or > min when `above`) */
	KT_BOOL,     /* bool */
	KT_WORD,     /* enum stored as int: index in words[] */
	KT_LISTEN,   /* listen_host + listen_port */
	KT_PROTOCOL, /* driver via bms_find() */
	KT_PORT,     /* port, is_tcp, tcp_host, tcp_port */
	KT_BAUD,     /* int, one of the standard rates */
	KT_NAMES,    /* text: a list of pack names, resolved after the parse */
	KT_STRINGS,  /* text: strings of pack names joined by +, separated by commas (resolved after) */
	KT_NAME,     /* text: one name ([a-z0-9_-]), resolved after the parse */
	KT_HOST,     /* text: a host name or address */
	KT_RANGE,    /* two ints: FIRST-LAST register offsets */
	KT_PATH,     /* text: an absolute file path */
	KT_TOPIC,    /* text: MQTT topic levels, no wildcards */
	KT_IDENT,    /* text: [A-Za-z0-9_-] (an MQTT client id) */
	KT_TEXT,     /* text: printable, no spaces (a user name) */
	KT_NETS,     /* struct conf_nets: addresses or CIDR networks, comma separated */
	KT_PATHTEXT, /* text: a port string as another section wrote it */
	KT_KEY,      /* 16 bytes as 32 hex digits (have_key + key) */
	KT_ADAPTER,  /* text: a Bluetooth adapter name, hci0 ... */
	KT_TABLE,    /* struct conf_table: x:fraction points, x within min..max */
	KT_OUTPORT,  /* text: an inverter's port, checked against its protocol after the parse */
	KT_DEVICE,   /* text: a serial device path */
	KT_LABEL,    /* text: min..max printable ASCII characters, spaces allowed */
	KT_FLAGS,    /* int: a comma list of words[] as bits (word i = bit i), or none */
	KT_VER,      /* int: a hex byte 0xNN within min..max, or echo (CONF_VER_ECHO) */
	KT_KEY32,    /* 32 bytes in base64 (have_key + key): an ESPHome API encryption key */
	KT_URL,      /* struct conf_alert_url: http(s):// or smtp(s)://, its credentials taken out */
	KT_LINE,     /* text: 1..255 printable ASCII characters, spaces allowed (e-mail addresses) */
	KT_FIELDS,   /* struct conf_fields: an mqtt-json pack's field map (bms/jsonmap.h) */
	KT_ALERTON,  /* struct conf_alert_on: alert conditions separated by commas, some with :N */
	KT_HOSTS,    /* text: host names (or *.DOMAIN, or *) separated by commas */
	KT_PIN,      /* text: a BMS's PIN or password, 1..CONF_PIN_MAX printable characters
	              * without blanks (its form by protocol: bms_pin_ok()); a secret */
	KT_COUNT
};

/* Index of every key in conf__keys[] (and in the per-section "seen" lines). */
enum {
	K_LISTEN, K_BASE, K_FLOAT_ORDER, K_MAX_CLIENTS, K_IDLE_TIMEOUT, K_STALE_AFTER,
	K_STALE_POLICY, K_LOG_LEVEL, K_STATE_FILE, K_CONTROL_CLIENTS, K_SITE,
	K_PROTOCOL, K_PORT, K_BAUD, K_ADDRESS, K_UNIT_ID, K_POLL_INTERVAL, K_TIMEOUT,
	K_RETRIES, K_GAP, K_CELLS, K_INVERT_CURRENT, K_CONTROL, K_CONTROL_TIMEOUT, K_BMS_SETTINGS,
	K_BMS_SETTINGS_PER_DAY, K_KEY, K_PIN,
	K_PK_MAX_CHARGE, K_PK_MAX_DISCHARGE,
	K_ADDRESS_ANY, K_POSITION, K_PK_LISTEN, K_TAKEOVER_AFTER, K_BITRATE, K_PK_ADAPTER,
	K_PK_TOPIC, K_PK_FIELDS, K_PK_STALE_AFTER,
	K_BANK_UNIT_ID, K_BANK_PACKS, K_BANK_DEVIATION, K_BANK_STRINGS, K_BANK_CURRENT_DEVIATION, K_BANK_SHUNT,
	K_UP_HOST, K_UP_PORT, K_UP_UNIT_ID, K_UP_BASE, K_UP_SOURCE, K_UP_INTERVAL, K_UP_TIMEOUT,
	K_UP_REGISTERS,
	K_MQ_HOST, K_MQ_PORT, K_MQ_CLIENT_ID, K_MQ_USERNAME, K_MQ_PASSWORD_FILE, K_MQ_TLS, K_MQ_CA_FILE,
	K_MQ_CERT_FILE, K_MQ_KEY_FILE, K_MQ_TOPIC_PREFIX, K_MQ_DISCOVERY, K_MQ_DISCOVERY_PREFIX,
	K_MQ_PUBLISH_INTERVAL, K_MQ_CELLS, K_MQ_KEEPALIVE, K_MQ_CONTROL, K_MQ_VICTRON,
	K_MQ_BACKFILL,
	K_MQ_BACKFILL_RATE,
	K_TU_PORT, K_TU_LISTEN, K_TU_CLIENTS, K_TU_IDLE_TIMEOUT,
	K_HT_LISTEN, K_HT_CLIENTS, K_HT_MAX_CLIENTS, K_HT_TLS_CERT, K_HT_TLS_KEY, K_HT_USERS_FILE, K_HT_METRICS_PUBLIC,
	K_HT_INGRESS, K_HT_SETUP, K_HT_ALLOWED_HOSTS, K_HT_CSRF_LIFETIME,
	K_HI_FILE, K_HI_INTERVAL, K_HI_RETENTION, K_HI_RAW_DAYS, K_HI_CELLS,
	K_BLE_ADAPTER, K_BLE_CONNECT_TIMEOUT, K_BLE_MAX_CONNECTIONS,
	K_BP_HOST, K_BP_PORT, K_BP_KEY, K_BP_PASSWORD_FILE,
	K_LI_CHEMISTRY, K_LI_MAX_CELL, K_LI_FLOAT_CELL, K_LI_MIN_CELL, K_LI_MAX_CHARGE, K_LI_MAX_DISCHARGE,
	K_LI_ABS_TIME, K_LI_ABS_DIFF, K_LI_REBULK_SOC, K_LI_REBULK_DIFF, K_LI_CHARGE_CELL, K_LI_DISCHARGE_CELL,
	K_LI_CHARGE_TEMP, K_LI_DISCHARGE_TEMP, K_LI_MOS_TEMP, K_LI_SOC_CHARGE, K_LI_SOC_DISCHARGE, K_LI_INTERP,
	K_LI_RECOVERY_HOLD, K_LI_RECOVERY_RATE, K_LI_CVL_HOLD, K_LI_CVL_RATE, K_LI_FORCE_SOC, K_LI_FULL_DAYS,
	K_LI_BANK_RULE, K_LI_BANK_STALE, K_LI_UNKNOWN_TEMP, K_LI_VOLTAGE_DROP, K_LI_ABS_TOL, K_LI_TAIL,
	K_LI_MAX_BULK, K_LI_HYST, K_LI_EXCEEDED,
	K_IN_PROTOCOL, K_IN_PORT, K_IN_SOURCE, K_IN_INTERVAL, K_IN_EXTRAS, K_IN_SOC_OVERRIDE, K_IN_SOC_HOLD, K_IN_BAUD,
	K_IN_ADDRESS, K_IN_REPLY_ADDRESS, K_IN_VER, K_IN_CURRENT_UNIT, K_IN_MANUFACTURER, K_IN_FAILSAFE,
	K_IN_BATTERY_TYPE, K_IN_REPORT_MODULES, K_IN_REPORT_CAPACITY, K_IN_REPORT_CELLS, K_IN_INSTANCE,
	K_IN_VARIANT,
	K_SS_BASE, K_SS_SERIAL,
	K_RT_PORT, K_RT_BAUD, K_RT_MODE, K_RT_CONTROL,
	K_MT_LISTEN, K_MT_CERT, K_MT_KEY, K_MT_CA, K_MT_WRITE_ROLE,
	K_AL_URL, K_AL_TO, K_AL_FROM, K_AL_USERNAME, K_AL_PASSWORD_FILE, K_AL_CA_FILE, K_AL_ON, K_AL_REPEAT,
	K_AL_IMBALANCE_MV, K_AL_IMBALANCE_HOLD,
	K_HE_IR_MIN_STEP,
	K_IX_URL, K_IX_DATABASE, K_IX_USERNAME, K_IX_PASSWORD_FILE, K_IX_ORG, K_IX_BUCKET, K_IX_TOKEN_FILE,
	K_IX_CA_FILE, K_IX_INTERVAL, K_IX_TIMEOUT, K_IX_BATCH, K_IX_QUEUE,
	/* [soc], then the same keys in [pack.NAME] (K_PK_SOC_COUNTING + i overrides
	 * K_SOC_COUNTING + i), save_interval aside */
	K_SOC_COUNTING, K_SOC_SOURCE, K_SOC_CAPACITY, K_SOC_CHEMISTRY, K_SOC_EFFICIENCY, K_SOC_OFFSET,
	K_SOC_THRESHOLD, K_SOC_GAIN_ERROR, K_SOC_OFFSET_ERROR, K_SOC_FULL_CELL, K_SOC_TAIL, K_SOC_FULL_TIME,
	K_SOC_EMPTY_CELL, K_SOC_EMPTY_CURRENT,
	K_SOC_EMPTY_TIME, K_SOC_KNEE_CELL, K_SOC_KNEE_SOC, K_SOC_REST_CURRENT, K_SOC_REST_TIME, K_SOC_LEARN,
	K_SOC_SAVE_INTERVAL,
	K_PK_SOC_COUNTING, K_PK_SOC_SOURCE, K_PK_SOC_CAPACITY, K_PK_SOC_CHEMISTRY, K_PK_SOC_EFFICIENCY,
	K_PK_SOC_OFFSET, K_PK_SOC_THRESHOLD, K_PK_SOC_GAIN_ERROR, K_PK_SOC_OFFSET_ERROR, K_PK_SOC_FULL_CELL,
	K_PK_SOC_TAIL, K_PK_SOC_FULL_TIME,
	K_PK_SOC_EMPTY_CELL, K_PK_SOC_EMPTY_CURRENT, K_PK_SOC_EMPTY_TIME, K_PK_SOC_KNEE_CELL, K_PK_SOC_KNEE_SOC,
	K_PK_SOC_REST_CURRENT,
	K_PK_SOC_REST_TIME, K_PK_SOC_LEARN,
	K_COUNT
};
/* The [soc] keys a [pack.NAME] may override: K_SOC_COUNTING .. K_SOC_LEARN. */
#define CONF_SOC_PACK_KEYS (K_SOC_LEARN - K_SOC_COUNTING + 1)
_Static_assert(K_PK_SOC_LEARN - K_PK_SOC_COUNTING + 1 == CONF_SOC_PACK_KEYS, "one pack key per [soc] key");

struct conf_key {
	enum conf_sect sect;
	const char *name;
	enum conf_reload reload;   /* what a change does on SIGHUP (conf.h, bmsgw(8) "RELOAD") */
	enum conf_type type;
	double min, max;           /* KT_INT, KT_DOUBLE */
	bool above;                /* KT_DOUBLE: value must be > min */
	const char *const *words;  /* KT_WORD: accepted words, index = stored value */
	size_t off;                /* in the section's struct (conf_gateway, conf_pack ...) */
	const char *def;           /* default as text, NULL = none or computed; "" = the key
	                            * may be empty, meaning none (a table of no points, -1) */
};

/* The schema (conf.c). */
extern const struct conf_key conf__keys[K_COUNT];

/* A text field the checks derive from a key after the parse, which a
 * reload compares as a key of its class (conf.c: the password read from
 * password_file). */
struct conf_derived {
	enum conf_sect sect;
	size_t off;                /* a NUL-terminated text in the section's struct */
	enum conf_reload reload;
};
extern const struct conf_derived conf__derived[];
extern const size_t conf__nderived;

/* A default that depends on [limits] chemistry: text per enum conf_chemistry. */
#define CONF_NCHEM 3
struct chem_default {
	int key;
	const char *def[CONF_NCHEM];
};
extern const struct chem_default conf__chem_defaults[];
extern const size_t conf__nchem_defaults;

/* State of one load. */
struct load {
	const char *file;           /* name for messages */
	FILE *fp;                   /* input: a file ... */
	const char *s;              /* ... or the rest of a string */
	int lineno;                 /* lines handed out so far */

	enum conf_sect sect;        /* section being read */
	char sect_name[64];         /* its name without brackets, for messages */
	void *obj;                  /* the struct of the section being read */
	int *seen;                  /* line of each key set in this section, 0 = unset */
	int gw_seen[K_COUNT];
	int pack_seen[CONF_MAX_PACKS][K_COUNT];
	int bank_seen[K_COUNT];
	int up_seen[CONF_MAX_UPSTREAMS][K_COUNT];
	int mqtt_seen[K_COUNT];
	int tunnel_seen[CONF_MAX_TUNNELS][K_COUNT];
	int http_seen[K_COUNT];
	int history_seen[K_COUNT];
	int ble_seen[K_COUNT];
	int limits_seen[K_COUNT];
	int inverter_seen[CONF_MAX_INVERTERS][K_COUNT];
	int sunspec_seen[K_COUNT];
	int rtu_seen[K_COUNT];
	int soc_seen[K_COUNT];
	int mbtls_seen[K_COUNT];
	int ble_proxy_seen[CONF_MAX_BLE_PROXIES][K_COUNT];
	int alerts_seen[CONF_MAX_ALERTS][K_COUNT];
	int health_seen[K_COUNT];
	int influx_seen[K_COUNT];

	bool failed;
	char msg[CONF_ERR_MAX];     /* the first error */
	int err_line;               /* ... its line, section and key (struct conf_error) */
	char err_sect[64], err_key[64];
	size_t err_at;              /* where its problem starts in msg */
	struct conf c;              /* what we are building */
};

#define CONF_NO_FIELD ((size_t)-1)

/* Every kind of section.  A single one ([gateway], [bank]) is one struct
 * in struct conf with an `int line` (0 = not seen yet); a named one
 * ([pack.NAME], [upstream.NAME]) is an array of structs with a name and a
 * line, and a count.  The "seen" lines of its keys are in struct load. */
struct sect_kind {
	const char *word;          /* "gateway" or, named, "pack" for [pack.NAME] */
	enum conf_sect sect;
	bool named;
	int max;                   /* named: at most this many */
	size_t obj;                /* offset in struct conf: the struct, or the array */
	size_t size;               /* named: element size */
	size_t count;              /* named: offset of the count in struct conf */
	size_t name, line;         /* offsets in the struct of its name (named) and line */
	size_t seen;               /* offset in struct load of its seen lines (named: [max][K_COUNT]) */
	size_t enabled;            /* offset in the struct of a bool set when the section
	                            * opens, CONF_NO_FIELD = none */
};
extern const struct sect_kind conf__sect_kinds[];
extern const size_t conf__nsect_kinds;

#define FIELD(base, off, type) ((type)(void *)((char *)(base) + (off)))

/* conf.c: the word of value i of a KT_WORD key ("?" outside its words). */
const char *conf__key_word(int key, int i);
/* The unit of a number or a table's x, in words ("volts per cell"); NULL =
 * seconds (every number before [limits] is). */
const char *conf__key_unit(int key);
/* values.c: the defaults of every key of one section that has a fixed
 * default (each by its key's parser). */
void conf__apply_defaults(enum conf_sect sect, void *obj);

/* text.c */
/* snprintf into a fixed buffer where cutting a long message short is fine
 * (vsnprintf: the compiler's truncation warnings do not apply). */
__attribute__((format(printf, 3, 4)))
void conf__bfmt(char *buf, size_t cap, const char *fmt, ...);
char *conf__rstrip(char *s);
/* 0 ok, -1 not a number, -2 out of the range of long. */
int conf__parse_long(const char *s, long *out);
/* A hint when a value holds '#': only " ;" starts a comment after a value. */
const char *conf__comment_hint(const char *v);

/* values.c */
bool conf__valid_pack_name(const char *s, size_t len);
void conf__list_protocols(char *buf, size_t cap);
/* "a, b, c" of a NULL-terminated word list. */
void conf__list_words(const char *const *w, char *buf, size_t cap);
/* The same, of the protocols for which has() is true. */
void conf__list_protocols_with(char *buf, size_t cap, bool (*has)(const struct bms_driver *d));
/* check_wset.c: pack i's bms_settings against its protocol, its link and
 * its own chemistry line (false: failed). */
bool conf__check_bms_settings(struct load *x, int i, const char *sect);
void conf__list_keys(enum conf_sect sect, char *buf, size_t cap);
/* Parse value v of key k into obj (the section's struct: conf_gateway,
 * conf_pack ...).  0, or -1 with the problem in why. */
int conf__set_value(const struct conf_key *k, void *obj, const char *v, char *why, size_t wl);
void conf__list_bauds(char *buf, size_t cap);

/* address.c */
bool conf__is_ipv4_like(const char *h);
/* A host name or address as written (no brackets); 0 or -1 with why. */
int conf__check_host(const char *h, bool v6, char *why, size_t wl);
/* HOST:PORT or [V6]:PORT; with `any`, also :PORT and PORT (host 0.0.0.0). */
int conf__parse_hostport(const char *v, bool any, char *host, int *port, char *why, size_t wl);
/* One address or network: "192.168.1.0/24", "10.0.0.7", "fe80::/10", "[::1]". */
int conf__parse_net(const char *item, struct conf_net *n);
/* Would two listening addresses take the same port (one of them on every
 * address, 0.0.0.0 or ::, or both on the same)?  Port 0 (off) never does. */
bool conf__listen_clash(const char *h1, int p1, const char *h2, int p2);
/* The port key: /dev/... or tcp://HOST:PORT. */
int conf__set_port(struct conf_pack *p, const char *v, char *why, size_t wl);
/* A CAN port as the configuration writes it: an interface name (can0) or
 * slcan:///dev/PATH; *slcan and the interface or device into dev.  0, or
 * -1 with why. */
int conf__can_port(const char *v, bool *slcan, char *dev, size_t cap, char *why, size_t wl);
/* 1..15 characters of A-Z a-z 0-9 _ . - (a network interface's name). */
bool conf__is_ifname(const char *v);

/* fail.c */
/* Record the first error: "FILE:LINE: [sect] key: problem".  line 0 leaves
 * out the line, sect/key NULL leave out those parts. */
__attribute__((format(printf, 5, 6)))
void conf__fail(struct load *x, int line, const char *sect, const char *key, const char *fmt, ...);

/* check_files.c: no key names another of bmsgw's own files; a file a key
 * names is a regular one, reached without another user's link. */
void conf__finish_files(struct load *x);
/* [http]'s TLS files and users file (check_http.c). */
void conf__check_http_secure(struct load *x);
/* check_http.c: the loaders lent (conf_use_loaders); each NULL when none. */
const struct conf_loaders *conf__loaders(void);
/* check.c: the checks after the parse, in order, until the first error. */
void conf__check(struct load *x);
/* values.c: the index of the pack named name (len bytes), or -1. */
int conf__pack_by_name(const struct conf *c, const char *name, size_t len);
/* fail.c: the line of key `key` of the section whose seen lines are `seen`,
 * or the line of its header when the key was not written. */
int conf__seen_line(const int *seen, int key, int header);

/* values.c: "host:port", with brackets around an IPv6 host. */
void conf__fmt_hostport(char *buf, size_t cap, const char *host, int port);
/* summary_out.c: the parts of the summary for the outputs. */
void conf__print_limits(const struct conf *c, FILE *out);
void conf__print_inverters(const struct conf *c, FILE *out);
void conf__print_sunspec(const struct conf *c, FILE *out);
void conf__print_rtu(const struct conf *c, FILE *out);

/* check_out.c: the outputs (limits, inverters, SunSpec, RTU), after the inputs. */
void conf__finish_limits(struct load *x);
void conf__finish_inverters(struct load *x);
/* check_inv.c: does protocol p take key (every protocol takes a key that
 * is no protocol's own)?  And the keys of v's protocol: one it does not take
 * and the file set refused, naming the protocols that take it; a number
 * outside the protocol's range refused; the protocol's default of each it
 * takes that the file did not set.  False after an error. */
bool conf__inv_takes(int key, enum conf_inv_protocol p);
bool conf__inv_keys(struct load *x, struct conf_inverter *v, const int *seen, const char *sect);
/* check_hv.c: the operating range of an inverter output's source, a pack
 * (index) or the bank (CONF_BANK_SOURCE): its series cells ([pack.NAME]
 * cells) times its chemistry's cell range, widened over the bank's strings
 * (each string's members in series) or, without strings, its packs; false
 * with why when a member's cells is 0 (not given). */
bool conf__hv_source_range(const struct conf *c, int source_pack, double *vmin, double *vmax, char *why, size_t wl);
void conf__finish_sunspec(struct load *x);
void conf__finish_rtu(struct load *x);
/* check_hv.c: the operating range of an inverter output's source (a pack
 * index, or CONF_BANK_SOURCE: with strings each string's, else each pack's;
 * their envelope) in V, from every member's series cells ([pack.NAME]
 * cells) times its chemistry's cell range; false with why when a member's
 * cells is 0 (not given). */
bool conf__hv_source_range(const struct conf *c, int source_pack, double *vmin, double *vmax, char *why, size_t wl);
/* check_mbtls.c: [modbus_tls] (its files, its port), and whether any
 * Modbus server is left when [gateway] listen is empty. */
void conf__finish_mbtls(struct load *x);
/* check_mqttjson.c: an mqtt-json pack's topic and fields (before the port
 * check; false after an error), then its broker after [mqtt]. */
bool conf__mqtt_pack(struct load *x, int i, const char *sect);
void conf__finish_mqtt_packs(struct load *x);
/* check_ble.c: each [ble_proxy.NAME], and the adapter of each ble:// pack. */
void conf__finish_ble(struct load *x);
/* The [ble_proxy.NAME] the pack's adapter (its own, else [ble]'s) names, or NULL. */
const struct conf_ble_proxy *conf__pack_proxy(const struct load *x, const struct conf_pack *p);
void conf__print_mbtls(const struct conf *c, FILE *out);
/* check_soc.c: [soc] and its keys in the packs, after [limits] (the full
 * cell voltage follows its target). */
void conf__finish_soc(struct load *x);
/* summary_out.c */
void conf__print_soc(const struct conf *c, FILE *out);
/* alerts.c: [alerts.NAME]: the parsers of url = and on = (values.c's
 * setters), the checks after the parse, its part of the summary. */
int conf__set_alert_url(struct conf_alert_url *u, const char *v, char *why, size_t wl);
int conf__set_alert_on(struct conf_alert_on *on, const char *v, char *why, size_t wl);
void conf__finish_alerts(struct load *x);
void conf__print_alerts(const struct conf *c, FILE *out);
void conf__print_health(const struct conf *c, FILE *out);
/* influx.c: [influx]: its checks after the parse, its lines of --check. */
void conf__finish_influx(struct load *x);
void conf__print_influx(const struct conf *c, FILE *out);

#endif
