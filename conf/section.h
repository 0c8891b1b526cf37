/* SPDX-License-Identifier: MIT */
/* conf/section.h - a section of the configuration file as the room that
 * owns it declares it: its name, single ([influx]) or named ([alerts.NAME]),
 * its struct, its key rows (each key's name, type, range, default and
 * reload class; conf/ parses every type), what its checks derive, where it
 * stands in the lists, and the two functions of its own: its checks after
 * the parse (finish) and its part of --check's summary (print).
 *
 * In the manner of nginx's modules, which carry their directives
 * (ngx_command_t: a name, where it may stand, the parser the core lends,
 * the offset in the module's conf struct;
 * https://github.com/nginx/nginx/blob/master/src/core/ngx_conf_file.h),
 * and of mosquitto's plugins, which judge their own options: conf/ is
 * handed the rooms' sections once, before any load (conf_use_sections),
 * reads them as it reads its own and calls back only through the table.
 * A room above conf keeps its struct in its own header and reads it from a
 * loaded configuration with conf_obj().
 *
 * conf/ keeps its own sections ([gateway], [pack.NAME], [bank], [mqtt],
 * [ble], [ble_proxy.NAME], [limits], [soc], [health]: the ones the rooms
 * below the outputs read) in conf.h.  A room's checks ask about the other
 * sections by their data, never by their rooms: whether one is on
 * (.with), who else listens on a port (.about) or opens a device (.wire),
 * whether the packs may come later (.packs_later), which file is whose
 * (the rows' roles).
 */
#ifndef CONF_SECTION_H
#define CONF_SECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"

/* The type of a key: what its text may be and how it is stored (values.c
 * parses each; keys.c compares and shows it). */
enum conf_type {
	KT_INT,      /* int, min..max */
	KT_DOUBLE,   /* double, min..max (or > min when `above`) */
	KT_BOOL,     /* bool */
	KT_WORD,     /* enum stored as int: index in words[] */
	KT_LISTEN,   /* char host[CONF_HOST_MAX] then int port: HOST:PORT */
	KT_PROTOCOL, /* const struct bms_driver *, via bms_find() */
	KT_PORT,     /* a pack's port (struct conf_pack) */
	KT_BAUD,     /* int, one of the standard rates */
	KT_NAMES,    /* text: a list of pack names, resolved after the parse */
	KT_STRINGS,  /* text: strings of pack names joined by +, separated by commas (resolved after) */
	KT_NAME,     /* text: one name ([a-z0-9_-]), resolved after the parse */
	KT_HOST,     /* text: a host name or address */
	KT_RANGE,    /* two adjacent ints: FIRST-LAST register offsets */
	KT_PATH,     /* text: an absolute file path */
	KT_TOPIC,    /* text: MQTT topic levels, no wildcards */
	KT_IDENT,    /* text: [A-Za-z0-9_-] (an MQTT client id) */
	KT_TEXT,     /* text: printable, no spaces (a user name) */
	KT_NETS,     /* struct conf_nets: addresses or CIDR networks, comma separated */
	KT_PATHTEXT, /* text: a port string as another section wrote it */
	KT_KEY,      /* bool have_key then 16 bytes, as 32 hex digits */
	KT_ADAPTER,  /* text: a Bluetooth adapter name, hci0 ... */
	KT_TABLE,    /* struct conf_table: x:fraction points, x within min..max */
	KT_OUTPORT,  /* text: an output's port, checked against its protocol after the parse */
	KT_DEVICE,   /* text: a serial device path */
	KT_LABEL,    /* text: min..max printable ASCII characters, spaces allowed */
	KT_FLAGS,    /* int: a comma list of words[] as bits (word i = bit i), or none */
	KT_VER,      /* int: a hex byte 0xNN within min..max, or echo (CONF_VER_ECHO) */
	KT_KEY32,    /* bool have_key then 32 bytes, in base64: an ESPHome API encryption key */
	KT_URL,      /* struct conf_url: http(s):// or smtp(s)://, its credentials taken out */
	KT_LINE,     /* text: 1..255 printable ASCII characters, spaces allowed (e-mail addresses) */
	KT_FIELDS,   /* struct conf_fields: an mqtt-json pack's field map (bms/jsonmap.h) */
	KT_CUSTOM,   /* the row's own parser (struct conf_custom); the field starts with the text */
	KT_HOSTS,    /* text: host names (or *.DOMAIN, or *) separated by commas */
	KT_PIN,      /* text: a BMS's PIN or password, 1..CONF_PIN_MAX printable characters
	              * without blanks (its form by protocol: bms_pin_ok()); a secret */
	KT_COUNT
};

#define CONF_VER_ECHO (-1) /* KT_VER's echo: the VER of the request answered */

/* What a file a key names is to bmsgw (conf/check_files.c: one file, one
 * role; a certificate and its key may share one). */
enum conf_file_role {
	CONF_FILE_NONE = 0, CONF_FILE_CERT, CONF_FILE_KEY, CONF_FILE_USERS, CONF_FILE_SECRET, CONF_FILE_HISTORY,
	CONF_FILE_STATE
};

/* struct conf_key.flags */
enum {
	CONF_KF_NONE = 1u << 0,      /* KT_PATH: "none" is a value too */
	CONF_KF_NONE_SAID = 1u << 1, /* ... and the messages say so ("an absolute file path or none") */
	CONF_KF_PATH_SECRET = 1u << 2, /* KT_URL: its path and query are a secret too (a webhook's token) */
	CONF_KF_PACKS_LATER = 1u << 3, /* KT_BOOL: true in a section that is on, the file may have no [pack.*]
	                                * (its section's `packs_later` says how they come) */
};

/* A key type of the row's own: its text parsed into the field, which
 * begins with the text as written (what /api/config shows and a reload
 * compares).  0, or -1 with the problem in why (conf adds what the key
 * accepts: `expect`). */
struct conf_custom {
	const char *name;            /* the type's name in bmsgw --keys */
	const char *form;            /* ... and on the setup page ("text") */
	int (*parse)(void *field, const char *v, char *why, size_t wl);
};

/* One key of a section.  A text type's field is char[...] of the size its
 * type says (CONF_PORT_MAX for paths and names, CONF_HOST_MAX for hosts). */
struct conf_key {
	const char *name;
	enum conf_reload reload;     /* what a change does on SIGHUP (conf.h, bmsgw(8) "RELOAD") */
	enum conf_type type;
	double min, max;             /* KT_INT, KT_DOUBLE, KT_TABLE's x, KT_LABEL's length, KT_VER */
	bool above;                  /* KT_DOUBLE: the value must be > min */
	const char *const *words;    /* KT_WORD, KT_FLAGS: the words, index = stored value */
	size_t off;                  /* in the section's struct */
	const char *def;             /* default as text, NULL = none or computed; "" = the key
	                              * may be empty, meaning none (a table of no points, -1) */
	const char *unit;            /* of a number or a table's x in words ("volts per cell"); NULL = seconds */
	unsigned flags;              /* CONF_KF_* */
	enum conf_file_role file;    /* KT_PATH: what its file is */
	const char *expect;          /* what it accepts, for messages; NULL = its type's */
	const struct conf_custom *custom; /* KT_CUSTOM */
};

/* A text field the checks derive from a key after the parse, which a
 * reload compares as a key of its class (a password read from
 * password_file: a new password in the same file restarts the client). */
struct conf_derived {
	size_t off;                  /* a NUL-terminated text in the section's struct */
	enum conf_reload reload;
};

struct conf_load; /* a load under way (conf/reader.c) */

#define CONF_NO_FIELD ((size_t)-1)
#define CONF_WHY_MAX 2048 /* one problem text (a whole message: CONF_ERR_MAX, conf.h) */

/* A section.  A single one ([influx]) is one struct, which holds the keys'
 * defaults when the file has no such section; a named one ([alerts.NAME])
 * up to `max` structs, each with its name. */
struct conf_section {
	const char *word;            /* "influx"; named: "alerts" of [alerts.NAME] */
	bool named;
	int max;                     /* named: at most this many */
	size_t size;                 /* its struct */
	size_t name;                 /* named: offset of char[CONF_NAME_MAX] */
	size_t line;                 /* offset of int: the header's line, 0 = not in the file */
	size_t enabled;              /* offset of a bool set when the section opens, CONF_NO_FIELD = none */
	/* A single section without `enabled` that is on (conf_section_on) only
	 * where the file has it or the section of this word ([history]: with
	 * [http]); NULL: on always (its defaults: [gateway], [soc]). */
	const char *with;
	/* What it is, for the messages of another section's check that its
	 * listening address is taken ("a maintenance tunnel":
	 * conf_listen_user); NULL: none of those. */
	const char *about;
	/* Offset of a text its checks derive: what an instance opens for good
	 * (a serial device, a CAN interface), which another section's port may
	 * not be (conf_wire_user); 0 = none (no struct begins with it). */
	size_t wire;
	/* It serves the register map besides [gateway] listen (the summary of
	 * [gateway] says so when that is off). */
	bool serves_map;
	/* With its CONF_KF_PACKS_LATER key true, the file may have no [pack.*]:
	 * how they come then, for the message of a file without ("to add them
	 * from the page's Setup tab"); NULL = none. */
	const char *packs_later;
	const struct conf_key *keys;
	int nkeys;
	const struct conf_derived *derived;
	int nderived;
	/* Where it stands: in every list of the sections (messages, /api/config,
	 * the setup page), among the checks after the parse (a check may rely on
	 * what the checks before it resolved; conf's own: 0 whose file each file
	 * is, 10 packs, 20 bank, 40 mqtt, 45 its packs, 65 mqtt's backfill, 70
	 * limits, 80 soc, 130 ble) and in --check's summary (conf's own: 10
	 * gateway, 20 packs, 30 wires, 40 ble, 50 bank, 60 mqtt, 100 limits, 110
	 * soc, 170 health). */
	int list_order, finish_order, print_order;
	/* Its checks after the parse, of every instance (conf_fail() records the
	 * first error; conf_failed() after it); NULL = none. */
	void (*finish)(struct conf_load *x);
	/* Its part of --check's summary; NULL = none. */
	void (*print)(const struct conf *c, FILE *out);
};

/* The rooms' sections, handed down once before any load: conf lists them
 * with its own by their orders.  0, or -1 with why (a word taken twice,
 * more sections or keys than conf has room for). */
int conf_use_sections(const struct conf_section *const *s, size_t n, char *why, size_t wl);

/* Instance i of section s in c (its struct), NULL past the last; a single
 * section's is there whether or not the file had it (its defaults). */
const void *conf_obj(const struct conf *c, const struct conf_section *s, int i);
/* How many instances of s c holds (a single one: 1). */
int conf_count(const struct conf *c, const struct conf_section *s);
/* Is s on in c: a named one has an instance; a single one its `enabled`
 * set, or without one, the file has it or its `with` (or it has neither:
 * always)? */
bool conf_section_on(const struct conf *c, const struct conf_section *s);

/* The checks of a section (its finish()): the configuration being built,
 * the line each key of instance i was set on (0: not set; indexed as
 * s->keys), the first error (line 0: the file as a whole; sect and key may
 * be NULL), and whether there was one. */
struct conf *conf_loading(struct conf_load *x);
const int *conf_seen(const struct conf_load *x, const struct conf_section *s, int i);
__attribute__((format(printf, 5, 6)))
void conf_fail(struct conf_load *x, int line, const char *sect, const char *key, const char *fmt, ...);
bool conf_failed(const struct conf_load *x);
/* The line of key k of instance i of s, or its header's when the key was
 * not written. */
int conf_key_line(const struct conf_load *x, const struct conf_section *s, int i, int k);

/* Helpers the sections' checks share (conf/address.c, values.c). */
/* Does an instance of a section of c but `self` that is on open `wire`
 * for good (its `wire`)?  Then who = "[inverter.NAME]" and *line its
 * header's line. */
bool conf_wire_user(const struct conf *c, const struct conf_section *self, const char *wire, char *who, size_t cap,
		    int *line);
/* A CAN port as the configuration writes it: an interface name (can0) or
 * slcan:///dev/PATH; *slcan and the interface or device into dev.  0, or
 * -1 with why. */
int conf_can_port(const char *v, bool *slcan, char *dev, size_t cap, char *why, size_t wl);
/* "a, b, c" of a NULL-terminated word list. */
void conf_list_words(const char *const *w, char *buf, size_t cap);
/* HOST:PORT or [V6]:PORT; with `any`, also :PORT and PORT (host 0.0.0.0). */
int conf_parse_hostport(const char *v, bool any, char *host, int *port, char *why, size_t wl);
/* Would two listening addresses take the same port? (port 0: never) */
bool conf_listen_clash(const char *h1, int p1, const char *h2, int p2);
/* Does a section of c with an `about` but `self` listen (a KT_LISTEN key
 * of an instance that is on) where host:port would?  Then who = "the
 * status page's ([http] listen)" (its about, its word, the key). */
bool conf_listen_user(const struct conf *c, const struct conf_section *self, const char *host, int port, char *who,
		      size_t cap);
/* "host:port", brackets around an IPv6 host. */
void conf_fmt_hostport(char *buf, size_t cap, const char *host, int port);
/* The index of the pack named name (len bytes), or -1. */
int conf_pack_by_name(const struct conf *c, const char *name, size_t len);
/* A URL's text into u (KT_URL's parser, conf/url.c): http://, https://,
 * smtp:// or smtps:// with a host; its user and password taken out.  0, or
 * -1 with why. */
int conf_url_parse(struct conf_url *u, const char *v, char *why, size_t wl);
/* snprintf into a fixed buffer where cutting a long message short is fine. */
__attribute__((format(printf, 3, 4)))
void conf_bfmt(char *buf, size_t cap, const char *fmt, ...);

/* ---- the sections in force, read back (conf/keys.c, schema.c) ---------- */

/* conf's own sections (conf.c). */
extern const struct conf_section conf_sect_gateway, conf_sect_pack, conf_sect_bank, conf_sect_mqtt, conf_sect_ble,
	conf_sect_limits, conf_sect_soc, conf_sect_ble_proxy, conf_sect_health;

/* The sections in force, conf's and the rooms', in list order: i from 0,
 * NULL past the last. */
const struct conf_section *conf_section_nth(int i);
/* The section a name such as "pack.a" or "mqtt" is of (*named: [word.NAME]),
 * or NULL. */
const struct conf_section *conf_section_kind(const char *name, bool *named);
/* The i-th instance of s in c (its struct), or NULL past the last or when
 * c has none ([mqtt] without the section); *name gets its NAME (NULL for a
 * single section). */
const void *conf_section_at(const struct conf *c, const struct conf_section *s, int i, const char **name);
/* A part of the daemon that a reload may keep compares its section's
 * struct in the configuration it runs with and in the new one: true when a
 * and b hold the same value of every key of reload class r, and of what
 * the checks derived from those keys.  Which instance of a named section
 * is which (its NAME) is the caller's. */
bool conf_section_same(const struct conf_section *s, enum conf_reload r, const void *a, const void *b);
/* The word of value i of a KT_WORD key ("?" outside its words). */
const char *conf_key_word(const struct conf_key *k, int i);
/* Key `name` of s, or NULL. */
const struct conf_key *conf_key_find(const struct conf_section *s, const char *name);
/* Key k's value in obj (its section's struct) as the file would write it
 * ("" for none); a Bluetooth advertisement key as a fingerprint, never
 * itself. */
void conf_key_text(const struct conf_key *k, const void *obj, char *buf, size_t cap);
/* What a form needs of key k (conf/schema.c). */
struct conf_key_about {
	const char *name;
	const char *type;                /* int, number, bool, word, path, secret ... */
	bool numeric, above;             /* above: the value must be > min */
	double min, max;
	const char *const *words;        /* a word's values, NULL-terminated; NULL for none */
	const char *def;                 /* the default as text; NULL = none or computed */
	bool secret;                     /* its value never leaves the daemon (conf_key_secret) */
	bool path_secret;                /* a URL whose path and query are a secret (CONF_KF_PATH_SECRET) */
};
void conf_key_about(const struct conf_key *k, struct conf_key_about *a);
/* A value that is a secret itself (an advertisement or encryption key, a
 * BMS's PIN), never shown; a password is in its *_file, whose path is no secret. */
bool conf_key_secret(const struct conf_key *k);
/* Does a [pack.NAME] of protocol d take key k (its baud, address, CAN bit
 * rate, Bluetooth adapter and key, listen mode, control, topic)? */
bool conf_pack_key_applies(const struct bms_driver *d, const struct conf_key *k);
/* bmsgw --keys: every key of every section in list order, a key a line:
 * section, key, type, min, max, words, default, reload class,
 * tab-separated. */
void conf_print_keys(FILE *out);

#endif
