/* SPDX-License-Identifier: MIT */
/* conf/conf.h - the configuration: one INI file read with inih.
 *
 * Loading is all-or-nothing: conf_load_file()/conf_load_string() fill a
 * fresh struct conf and return 0, or return -1 with a message naming the
 * file, the line and the key in err.  Nothing here exits or logs.
 */
#ifndef CONF_CONF_H
#define CONF_CONF_H

#include <stdbool.h>
#include <stdio.h>

#include "../bms/jsonmap.h"
#include "../registers/regmap.h"

struct bms_driver;


/* What a new value of a key does to the running daemon on SIGHUP: each row
 * of the key table (conf/conf.c) says which (bmsgw(8) "RELOAD"). */
enum conf_reload {
	CONF_LIVE = 1,   /* applied live: the part that uses it takes the new value and goes on */
	CONF_RESTART,    /* its part (an output, a pack, a listening socket) stops and starts again */
	CONF_RELINK,     /* the wires it concerns close and open again, and their packs start again */
};

#define CONF_MAX_PACKS 64
#define CONF_NAME_MAX 32
#define CONF_PORT_MAX 256
#define CONF_HOST_MAX 256
#define CONF_TOPIC_MAX 128
#define CONF_ID_MAX 64
/* The size of a buffer that holds any message of conf_load_file() and
 * conf_load_string() whole: FILE:LINE: [section] key: problem. */
#define CONF_ERR_MAX 2304
/* Sections in force at most (conf's and the rooms'), the bytes of a struct
 * conf the rooms' sections may take, and the lines of their keys a load
 * keeps (conf/sections.c). */
#define CONF_MAX_SECTIONS 48
#define CONF_ROOM_BYTES (256 * 1024)
#define CONF_ROOM_SEEN 4096

enum conf_stale_policy { CONF_STALE_EXCEPTION = 0, CONF_STALE_FLAG = 1 };
/* An address or a network: control_clients, tunnel clients. */
#define CONF_MAX_NETS 16
struct conf_net {
	int family;                      /* AF_INET or AF_INET6 */
	unsigned char addr[16];          /* network address, host bits zero */
	int prefix;                      /* bits that must match */
};
struct conf_nets {
	int n;
	struct conf_net net[CONF_MAX_NETS];
	char text[CONF_PORT_MAX];        /* as written */
};
/* True if the socket address sa (IPv4, IPv6 or IPv4-mapped IPv6) is in one of the nets. */
bool conf_nets_match(const struct conf_nets *nets, const void *sa);

/* Log levels: `log_level =` and the gateway's logger (gateway/core/log.h) share this. */
enum conf_log_level { CONF_LOG_ERROR = 0, CONF_LOG_WARN, CONF_LOG_INFO, CONF_LOG_DEBUG };

struct conf_gateway {
	char listen_host[CONF_HOST_MAX]; /* "0.0.0.0", "::", "127.0.0.1" ... (no brackets) */
	int listen_port;                 /* 1..65535; 0 = `listen =` empty: no Modbus TCP server */
	int base;                        /* 0..CONF_BASE_MAX (base + 160 <= 65535) */
	enum reg_float_order float_order;  /* registers/regmap.h */
	int max_clients;                 /* 1..10000 */
	double idle_timeout;             /* seconds, > 0 */
	double stale_after;              /* seconds, > 0 */
	enum conf_stale_policy stale_policy;
	enum conf_log_level log_level;
	struct conf_nets control_clients; /* Modbus clients that may write (default none) */
	char state_file[CONF_PORT_MAX];  /* energy counters; "" = automatic ($STATE_DIRECTORY
	                                  * or /var/lib/bmsgw), "none" = kept in memory only */
	char site[CONF_ID_MAX];          /* the site's label ([A-Za-z0-9_-]; "" = none): Prometheus
	                                  * label, MQTT topic prefix default, HA device names */
	int line;                        /* line of the [gateway] header, 0 = none */
};

/* [soc]: the gateway's own count of the charge (README.md "The counted
 * SOC"; the estimator: gateway/engine/soc.h).  [soc] holds the keys for
 * every pack and the bank; a [pack.NAME] key of the same name (all but
 * save_interval) overrides it for that pack.  After the parse every pack's
 * conf_pack.soc holds what applies to it: its own keys, else [soc]'s, else
 * the defaults, some of which follow the chemistry (conf_soc_derive). */
/* The cells' chemistry ([limits] and [soc] chemistry). */
enum conf_chemistry { CONF_CHEM_LFP = 0, CONF_CHEM_NMC, CONF_CHEM_LTO };
enum conf_soc_source { CONF_SOC_SRC_BMS = 0, CONF_SOC_SRC_COUNTED };
/* struct conf_soc.given: the keys with a chemistry's default that the file wrote */
enum {
	CONF_SOC_GIVEN_CHEMISTRY = 1u << 0,
	CONF_SOC_GIVEN_EFFICIENCY = 1u << 1,
	CONF_SOC_GIVEN_FULL = 1u << 2,
	CONF_SOC_GIVEN_EMPTY = 1u << 3,
	CONF_SOC_GIVEN_KNEE = 1u << 4,
};
struct conf_limits;
struct conf_soc {
	int line;                        /* of [soc], 0 = none (the defaults) */
	bool count;                      /* count the charge (false: the BMS's SOC alone) */
	enum conf_soc_source source;     /* the SOC carried: the BMS's or the counted one */
	double capacity;                 /* Ah usable, -1 = the BMS's full capacity */
	enum conf_chemistry chemistry;   /* default: [limits]' */
	double charge_efficiency;        /* share of the charge in that is stored */
	double current_offset;           /* A added to the BMS's current */
	double current_threshold;        /* A: under this a current counts as 0 */
	double current_gain_error;       /* share: the most the current reads off in proportion ... */
	double current_offset_error;     /* A: ... and by an offset (the count's uncertainty) */
	double full_cell_voltage;        /* V: a full point at or above (highest cell) ... */
	double tail_current;             /* C: ... the charge current at or under this ... */
	double full_time;                /* s: ... for this long */
	double empty_cell_voltage;       /* V: an empty point at or under (lowest cell) ... */
	double empty_current;            /* C: ... discharging at most at this rate ... */
	double empty_time;               /* s: ... for this long (also the knee's) */
	double knee_cell_voltage;        /* V: a knee point at or under (lowest cell, discharging at most
	                                  * empty_current, for empty_time); none at or under
	                                  * empty_cell_voltage */
	double knee_soc;                 /* %: ... pulls the count down to this */
	double rest_current;             /* C: at rest under this ... */
	double rest_time;                /* s: ... after this long the open-circuit voltage corrects the count */
	bool learn_capacity;             /* measure the capacity between full and empty (or rest) points */
	double save_interval;            /* s between saves to the state file ([soc] only) */
	unsigned given;                  /* CONF_SOC_GIVEN_*: which chemistry defaults the file replaced */
};
/* The defaults of the keys with a chemistry's default that s->given does
 * not name, for s->chemistry: charge_efficiency 0.99 (nmc 0.98),
 * full_cell_voltage [limits] max_cell_voltage when [limits] is on with the
 * same chemistry, else 3.45 (nmc 4.15, lto 2.60), empty_cell_voltage 2.90
 * (nmc 3.00, lto 1.90), knee_cell_voltage 3.10 (nmc 3.40; lto its empty
 * cell voltage: no knee).  l may be NULL (no [limits]). */
void conf_soc_derive(struct conf_soc *s, const struct conf_limits *l);
/* Every key of s at its default for a chemistry (no [limits]): what
 * bmsgw --soc-replay counts with when no configuration is given. */
void conf_soc_defaults(struct conf_soc *s, enum conf_chemistry chemistry);

/* [ble_proxy.NAME]: an ESPHome device with bluetooth_proxy, a BLE adapter
 * on the LAN reached through the ESPHome native API. */
#define CONF_MAX_BLE_PROXIES 8
struct conf_ble_proxy {
	char name[CONF_NAME_MAX];
	int line;
	char host[CONF_HOST_MAX];        /* a name or an address */
	int port;                        /* the native API's (6053) */
	bool have_key;                   /* encryption_key given: Noise; else plaintext */
	unsigned char key[32];           /* a secret: never logged or served */
	char password_file[CONF_PORT_MAX]; /* plaintext API: the api: password's file */
	char password[CONF_HOST_MAX];    /* its first line ("" = none); a secret */
};
/* The same proxy: every key equal (a link through it needs no reopen). */
bool conf_ble_proxy_same(const struct conf_ble_proxy *a, const struct conf_ble_proxy *b);

/* [mqtt]: MQTT publisher with Home Assistant discovery (bmsgw-mqtt(7)). */
enum conf_mqtt_cells { CONF_CELLS_DISABLED = 0, CONF_CELLS_ENABLED, CONF_CELLS_OFF };
struct conf_mqtt {
	bool enabled;                    /* a [mqtt] section exists */
	int line;
	char host[CONF_HOST_MAX];        /* required */
	int port;                        /* default 1883 (8883 is usual with TLS) */
	char client_id[CONF_ID_MAX];     /* default bmsgw-<hostname>; [A-Za-z0-9_-] */
	char username[CONF_ID_MAX];      /* "" = none */
	char password_file[CONF_PORT_MAX]; /* "" = none; its first line is the password */
	char password[CONF_HOST_MAX];    /* read from password_file at load */
	bool tls;
	char ca_file[CONF_PORT_MAX];     /* "" = the system's CAs */
	char cert_file[CONF_PORT_MAX];   /* client certificate, with key_file */
	char key_file[CONF_PORT_MAX];
	char topic_prefix[CONF_TOPIC_MAX]; /* P; may hold '/' (default bmsgw, bmsgw/<site> with [gateway] site) */
	bool discovery;                  /* Home Assistant discovery (default true) */
	char discovery_prefix[CONF_TOPIC_MAX]; /* default homeassistant */
	double publish_interval;         /* 0 = after every good poll; N = at most every N s */
	enum conf_mqtt_cells cells;      /* per-cell sensors */
	int keepalive;                   /* seconds, default 30 */
	bool control;                    /* MOSFET commands (section 8) */
	bool victron;                    /* also each unit as venus-os_dbus-mqtt-battery's JSON (P/UNIT/victron) */
	char site[CONF_ID_MAX];          /* derived: [gateway] site, which its topics and HA ids name (a
	                                  * change restarts the client) */
	bool backfill;                   /* after an outage, the history samples missed on P/NAME/history */
	int backfill_rate;               /* ... at most this many messages a second (1..1000, 50) */
};

/* `fields =` of an mqtt-json pack: as written, and parsed. */
#define CONF_FIELDS_MAX 1024
struct conf_fields {
	char text[CONF_FIELDS_MAX];      /* first: a reload compares it as text */
	struct bms_jsonmap map;
};

struct conf_pack {
	char name[CONF_NAME_MAX];        /* [a-z0-9_-]+ */
	const struct bms_driver *driver; /* from protocol = */
	char port[CONF_PORT_MAX];        /* device path, tcp://host:port, ble://AA:BB:CC:DD:EE:FF
	                                  * (a BLE address in upper case, whatever the file says),
	                                  * a CAN interface (can0) or slcan:///dev/ttyACM0 */
	bool is_tcp;                     /* port is tcp://HOST:PORT */
	bool is_ble;                     /* port is ble://MAC: a Bluetooth LE device through BlueZ */
	bool is_can;                     /* port is a CAN bus: an interface name or slcan:// */
	bool is_slcan;                   /* ... through a Lawicel serial adapter */
	char can_device[CONF_PORT_MAX];  /* CAN: the interface, or the slcan adapter's serial device */
	char ble_addr[18];               /* its address, "AA:BB:CC:DD:EE:FF" */
	char adapter[CONF_ID_MAX];       /* `adapter =` as written ("" = [ble] adapter's) */
	char ble_adapter[CONF_ID_MAX];   /* BLE packs: the adapter in use, the pack's or [ble]'s: a
	                                  * local one ("" = BlueZ's default) or a proxy's name */
	bool via_proxy;                  /* ... that names a [ble_proxy.NAME] ... */
	struct conf_ble_proxy proxy;     /* ... whose keys are copied here (a struct conf is copied whole) */
	bool have_key;                   /* key = given (protocols read from advertisements) */
	unsigned char key[16];
	char tcp_host[CONF_HOST_MAX];    /* parsed from port when is_tcp */
	int tcp_port;
	int baud;                        /* default: driver->default_baud */
	int bitrate;                     /* CAN: the bus's bit rate, one an slcan adapter has
	                                  * (default: driver->can->bitrate) */
	int address;                     /* driver->min_address..max_address (default driver->default_address,
	                                  * else min_address; 0 if none) */
	int unit_id;                     /* 1..247, unique; default: position (1, 2 ...) */
	double poll_interval;            /* >= 0.2 s */
	double timeout;                  /* > 0 s */
	int retries;                     /* 0..10 */
	double gap;                      /* s of silence before a request, 0..10, the same for
	                                  * every pack of the port; -1 = derived (3.5 characters
	                                  * at the baud rate, or the protocol's floor) */
	int cells;                       /* 0..32 */
	bool invert_current;
	bool address_any;                /* an answer from any address is this pack's (drivers with
	                                  * any_address; alone on its port, or in a group) */
	int position;                    /* 1..15: its record in the answer for all packs of the pack
	                                  * at `address` (a group: same port, protocol, address);
	                                  * 0 = none */
	bool control;                    /* its MOSFETs may be switched (needs a driver with control) */
	int bms_settings;                /* BMS_W_BIT()s of the BMS's own settings that may be
	                                  * written (bms/setwrite.h; default none) */
	int bms_settings_per_day;        /* changes of them that reach the BMS in any 24 h, 1..1000
	                                  * (default 10: an EEPROM's ~100k cycles last decades) */
	bool listen;                     /* another master polls its port: never written, its answers
	                                  * heard (a driver with listen; every pack of the port) */
	double takeover_after;           /* s with no master heard before bmsgw polls by itself, 0 = never */
	double control_timeout;          /* s for acknowledgement + confirming read-back (default 3) */
	double max_charge_current;       /* A: this pack's rating for [limits], -1 = [limits]' */
	double max_discharge_current;    /* A, -1 = [limits]' */
	struct conf_soc soc;             /* [soc] as it applies to this pack */
	/* mqtt-json: a pack whose messages arrive on an MQTT topic */
	bool is_mqtt;                    /* port is mqtt:TOPIC (made from topic =; no port = in the file) */
	char topic[CONF_TOPIC_MAX];      /* the topic it subscribes to, without wildcards */
	struct conf_fields fields;       /* `fields =`: bmsgw's field : the message's key */
	struct conf_mqtt broker;         /* [mqtt]'s broker, copied (host, port, TLS, user, client id) */
	double stale_after;              /* s without a good poll before it is stale, -1 = [gateway]'s */
	bool venus;                      /* its service on D-Bus with [venus] (true; gateway/venus/) */
	int line;                        /* line of the [pack.NAME] header */
};
/* The same broker and login (an mqtt-json pack's subscription: another one
 * opens its wire again at a reload). */
bool conf_broker_same(const struct conf_mqtt *a, const struct conf_mqtt *b);
/* The stale_after of pack p: its own, else [gateway]'s (g). */
double conf_pack_stale_after(const struct conf_pack *p, double g);

/* Silence before a request (write: a MOSFET control frame) to pack p, in
 * seconds: 3.5 character times at its baud rate (Modbus RTU's inter-frame
 * rule) or the protocol's documented floor (struct bms_driver gap_floor,
 * control->gap_floor), whichever is longer; `gap` replaces that, a write
 * still keeping its floor. */
double conf_pack_gap(const struct conf_pack *p, bool write);
/* What a pack's port opens, to compare with other ports: the slcan
 * adapter's serial device, else the port itself. */
const char *conf_pack_wire(const struct conf_pack *p);

#define CONF_MAX_UPSTREAMS 16
#define CONF_BANK_SOURCE (-1) /* conf_upstream.source_pack: the bank */

/* [bank]: a virtual unit aggregating the fresh packs of a parallel bank. */
struct conf_bank {
	bool enabled;                    /* a [bank] section exists */
	int line;
	int unit_id;                     /* 1..247, unique (default 100) */
	int npacks;                      /* packs in the bank (default: all) */
	int pack_idx[CONF_MAX_PACKS];    /* indices into conf.packs[] */
	char packs_text[CONF_PORT_MAX];  /* `packs =` as written ("" = all) */
	double max_deviation;            /* V: a fresh pack whose voltage departs from the
	                                  * median of the others by more is flagged (default 1.0;
	                                  * with strings: a string from the other strings) */
	/* `strings = a+b+c+d, e+f+g+h`: packs joined by + are in series (a string),
	 * strings are in parallel.  nstrings 0: no `strings`, every pack in parallel.
	 * String s is bank packs pack_idx[string_first[s] .. string_first[s] + string_len[s]). */
	char strings_text[CONF_PORT_MAX]; /* as written ("" = none) */
	int nstrings;
	int string_first[CONF_MAX_PACKS];
	int string_len[CONF_MAX_PACKS];
	double max_current_deviation;    /* A: a string member whose current departs from the
	                                  * string's mean by more is flagged; -1 = 5 % of the
	                                  * string's rated current, at least 2 A */
	/* `shunt = NAME`: a pack that measures the whole bank's current (a
	 * vedirect or victron-ble shunt, ...): the bank's current, power, SOC,
	 * remaining Ah and counted SOC are its while it is fresh; no member of
	 * the bank (left out of `packs`' default, refused in packs or strings) */
	char shunt[CONF_NAME_MAX];       /* as written ("" = none) */
	int shunt_idx;                   /* index into conf.packs[], -1 = none */
};

/* [upstream.NAME]: push a unit's image to another Modbus TCP server (FC16). */
struct conf_upstream {
	char name[CONF_NAME_MAX];
	int line;
	char host[CONF_HOST_MAX];
	int port;                        /* default 502 */
	int unit_id;                     /* unit id of the requests, 0..255 (default 1) */
	int base;                        /* register address of offset `reg_first` there;
	                                  * default: the gateway's base + reg_first */
	bool base_set;
	char source[CONF_NAME_MAX];      /* a pack name or "bank" */
	int source_pack;                 /* index into packs[], or CONF_BANK_SOURCE */
	double interval;                 /* seconds between pushes (default 5) */
	double timeout;                  /* seconds to wait for an answer (default 2) */
	int reg_first, reg_last;         /* offsets pushed, `registers = 0-124` (default; up to 160) */
};


/* [ble]: Bluetooth LE through BlueZ (ble:// ports, bmsgw --ble-scan). */
struct conf_ble {
	int line;                        /* 0 = no [ble] section */
	char adapter[CONF_ID_MAX];       /* "hci0" ...; "" = BlueZ's default (its first adapter) */
	double connect_timeout;          /* s for one connection attempt, services resolved (20) */
	int max_connections;             /* connections at once per local adapter (3): more packs take turns */
};


/* "AA:BB:CC:DD:EE:FF" (either case, ':' or '-' between the bytes) into
 * canon, upper case with ':'; false if s is not a 48-bit address. */
bool conf_parse_mac(const char *s, char canon[18]);
/* A pack's port string (/dev/..., tcp://HOST:PORT or ble://MAC) into p's
 * port, is_tcp, tcp_host, tcp_port, is_ble and ble_addr, as the `port` key
 * takes it (bmsgw --detect takes one on its command line).  0, or -1 with
 * the reason in why. */
int conf_parse_port(struct conf_pack *p, const char *v, char *why, size_t wl);
/* Is n a baud rate the `baud` key takes (a standard rate, 1200..921600)? */
bool conf_baud_ok(long n);

/* base64 (RFC 4648 section 4, padded; conf/b64.c) of at most CONF_B64_MAX
 * characters: [s, s+n) into out (at most max bytes), its length or -1
 * (not base64, or longer than max); in into out (outlen bytes with the
 * NUL), the text's length or 0 when out is too small. */
#define CONF_B64_MAX 128
long conf_b64_decode(const char *s, size_t n, uint8_t *out, size_t max);
size_t conf_b64_encode(const uint8_t *in, size_t n, char *out, size_t outlen);

/* [tunnel.NAME]: lend one wire to a vendor PC tool through a raw TCP port. */
#define CONF_MAX_TUNNELS 8
struct conf_tunnel {
	char name[CONF_NAME_MAX];
	int line;
	char port[CONF_PORT_MAX];        /* the port string of a configured wire */
	char listen_host[CONF_HOST_MAX];
	int listen_port;
	struct conf_nets clients;        /* required allowlist */
	double idle_timeout;             /* s without bytes before the wire is given back (300) */
};

/* [alerts.NAME]: a destination of alerts (bmsgw.ini(5) "[alerts.NAME]"):
 * an HTTP(S) POST (ntfy, a webhook) or an e-mail (SMTP), sent when one of
 * its conditions becomes true, again every `repeat` while true, and once
 * when it clears. */
#define CONF_MAX_ALERTS 8
/* The conditions `on =` names, bit i = word i of conf_alert_words[]. */
enum conf_alert_cond {
	CONF_AL_ALARM = 0,   /* a BMS protection / alarm bit set */
	CONF_AL_STALE,       /* a unit's data stale */
	CONF_AL_IMBALANCE,   /* a cell spread above imbalance_mv for imbalance_hold */
	CONF_AL_WEAK_CELL,   /* the health estimator names a weak cell (engine/health.h) */
	CONF_AL_SOC_BELOW,   /* SOC below N % (soc_below:N) */
	CONF_AL_IR_RISE,     /* the resistance up by PCT % over its trend (ir_rise:PCT; engine/health.h) */
	CONF_AL_NCOND
};
extern const char *const conf_alert_words[CONF_AL_NCOND + 1];
/* `on =` as parsed: the text as written comes first (a key's text). */
struct conf_alert_on {
	char text[CONF_PORT_MAX];
	unsigned bits;                   /* 1 << enum conf_alert_cond */
	double soc_below;                /* %, with CONF_AL_SOC_BELOW */
	double ir_rise;                  /* %, with CONF_AL_IR_RISE */
};
enum conf_alert_scheme { CONF_URL_HTTP = 0, CONF_URL_HTTPS, CONF_URL_SMTP, CONF_URL_SMTPS };
/* `url =` as parsed: what is shown first (a key's text), the user and
 * password of the URL taken out of it. */
struct conf_alert_url {
	/* as written, a password in it as *** (3 more than an empty one) and a
	 * path or query as /... (3 more than "?"): /api/config, logs */
	char text[CONF_PORT_MAX + 6];
	char bare[CONF_PORT_MAX];        /* without user and password: what is fetched */
	char user[CONF_ID_MAX];          /* the URL's user, percent-decoded ("" = none) */
	char pass[CONF_HOST_MAX];        /* the URL's password, percent-decoded ("" = none) */
	enum conf_alert_scheme scheme;
};
struct conf_alerts {
	char name[CONF_NAME_MAX];
	int line;
	struct conf_alert_url url;       /* required */
	char to[CONF_PORT_MAX];          /* smtp: recipients, comma separated (required) */
	char from[CONF_PORT_MAX];        /* smtp: the sender (required) */
	char username[CONF_ID_MAX];      /* "" = none (or the URL's) */
	char password_file[CONF_PORT_MAX]; /* "" = none; its first line is the password */
	char password[CONF_HOST_MAX];    /* read from password_file (or the URL's) at load */
	char ca_file[CONF_PORT_MAX];     /* "" = the system's CAs */
	struct conf_alert_on on;         /* default alarm, stale */
	double repeat;                   /* s: sent again while true, 0 = never (3600) */
	int imbalance_mv;                /* mV: a cell spread above it is an imbalance (100) */
	double imbalance_hold;           /* s it must last, and its end, before either is sent (60) */
};


/* [http]: the read-only status page, its JSON API and /metrics (bmsgw(8) "STATUS PAGE, HISTORY AND METRICS"). */
struct conf_http {
	bool enabled;                    /* a [http] section exists */
	int line;
	char listen_host[CONF_HOST_MAX]; /* default 0.0.0.0 */
	int listen_port;                 /* default 8080 */
	struct conf_nets clients;        /* allowlist; none given = every client */
	int max_clients;                 /* HTTP connections at once (default 32) */
	char tls_cert[CONF_PORT_MAX];    /* "" = plain HTTP; else HTTPS with this PEM chain */
	char tls_key[CONF_PORT_MAX];     /* its private key (PEM), a private file */
	char users_file[CONF_PORT_MAX];  /* "" = no logins; else NAME:ROLE:HASH lines (conf/users.h) */
	bool metrics_public;             /* /metrics without a login */
	bool setup;                      /* the Setup tab may change the configuration (default true) */
	bool ingress;                    /* Home Assistant's ingress proxy (web/ingress.c) */
	char allowed_hosts[CONF_PORT_MAX]; /* more names the page answers to (web/hosts.c), "" = none */
	double csrf_lifetime;            /* s an X-CSRF-Token of the setup API is good for (default 3600) */
	char scheme[8];                  /* derived: "https" with tls_cert, else "http" */
};

/* [history]: samples of every pack and the bank in SQLite.  Kept when a
 * [history] or a [http] section exists, unless file = none. */
struct conf_history {
	bool enabled;
	int line;                        /* of [history], 0 = none (defaults) */
	char file[CONF_PORT_MAX];        /* "" = automatic ($STATE_DIRECTORY or /var/lib/bmsgw,
	                                  * history.db); "none" = no history */
	double interval;                 /* seconds between samples (default 60) */
	double retention;                /* days kept (default 180) */
	double raw_days;                 /* days kept at every sample; older ones are
	                                  * folded into 15-minute rows (default 7) */
	bool cells;                      /* every cell's voltage (and balancing) too (default true) */
};

/* [limits]: charge and discharge limits (CVL, CCL, DCL, DVL) for every pack
 * and the bank (bmsgw-inverters(7)).  Voltages are per
 * cell, currents per pack. */
enum conf_interp { CONF_INTERP_LINEAR = 0, CONF_INTERP_STEP };
enum conf_bank_rule { CONF_BANK_MIN = 0, CONF_BANK_SUM, CONF_BANK_WEIGHTED };
/* [limits] bank_stale: what a configured bank pack that is stale does to the bank. */
enum conf_bank_stale { CONF_BANK_STALE_DEGRADE = 0, CONF_BANK_STALE_BLOCK };
#define CONF_TABLE_MAX 16
/* x:fraction points of one table, as written (x ascending or descending);
 * n = 0: the table is not used. */
struct conf_table {
	int n;
	double x[CONF_TABLE_MAX];
	double y[CONF_TABLE_MAX];        /* fractions 0..1 */
};
struct conf_limits {
	bool enabled;                    /* a [limits] section exists */
	int line;
	enum conf_chemistry chemistry;   /* sets the defaults of the three voltages */
	double max_cell_voltage;         /* V: bulk / absorption target */
	double float_cell_voltage;       /* V */
	double min_cell_voltage;         /* V: DVL = cells x this */
	double max_charge_current;       /* A per pack ([pack.NAME] may set its own) */
	double max_discharge_current;    /* A per pack */
	double absorption_time;          /* s at the target before float */
	double absorption_cell_diff;     /* V: spread at or under which absorption starts */
	double rebulk_soc;               /* % below which float returns to bulk */
	double rebulk_cell_diff;         /* V: a spread this wide returns to bulk */
	struct conf_table charge_cell;   /* highest cell V : fraction of max_charge_current */
	struct conf_table discharge_cell; /* lowest cell V : fraction of max_discharge_current */
	struct conf_table charge_temp;   /* degC : fraction (lowest and highest sensor) */
	struct conf_table discharge_temp;
	struct conf_table mos_temp;      /* MOSFET degC : fraction (both directions) */
	struct conf_table soc_charge;    /* optional (n = 0): SOC % : fraction */
	struct conf_table soc_discharge;
	enum conf_interp interpolation;
	double recovery_hold;            /* s a lowered current limit waits before it may rise */
	double recovery_rate;            /* A/s at which it rises then */
	double cvl_recovery_hold;        /* s */
	double cvl_rate;                 /* V per cell per s: CVL recovery and the float ramp */
	double force_charge_soc;         /* % at or below which force charge is asked (0 = never) */
	double full_charge_days;         /* days without absorption before the full-charge request (0 = never) */
	enum conf_bank_rule bank_rule;
	enum conf_bank_stale bank_stale; /* a configured bank pack is stale: degrade | block */
	double unknown_temp_fraction;    /* fraction of the max charge current while no temperature reads */
	double voltage_drop;             /* V added to the published CVL only (cables, fuse, shunt) */
	double absorption_tolerance;     /* V per 16 cells under the target at which absorption may start */
	double tail_current;             /* A: absorption also starts at the CVL under this current (0 = off) */
	double max_bulk_time;            /* s at the bulk target before float anyway (0 = never) */
	double table_hysteresis;         /* V: a cell-table limit rises only once the cell is this much better */
	double limit_exceeded;           /* s a current beyond CCL / DCL lasts before it is flagged (0 = off) */
};

/* [inverter.NAME]: a virtual battery towards an inverter
 * (bmsgw-inverters(7)); needs [limits]. */
enum conf_inv_kind { CONF_INV_CAN = 0, CONF_INV_RS485 };
/* `extras`: CAN frames beyond a protocol's own set. */
enum {
	CONF_EXTRA_CAPACITY = 1u << 0,   /* 0x35F, 0x379: installed capacity */
	CONF_EXTRA_CELLS = 1u << 1,      /* 0x373 cell and temperature extremes, 0x374-0x377 where */
	CONF_EXTRA_MODULES = 1u << 2,    /* 0x372 modules online, blocking, offline */
	CONF_EXTRA_NAME = 1u << 3,       /* 0x382 product name */
	CONF_EXTRA_ALL = 0xF,
};
/* Every inverter protocol, written once (gateway/README.md "Adding an inverter
 * protocol"): X(ID, sym, "name", kind, default extras, extras allowed, CAN
 * bit rate in bit/s (0 for RS485)).  Its codec is inv_codec_<sym> in
 * gateway/inverter/<sym>.c (a row may name an earlier row's sym: the same
 * frames under a name, keys' defaults and window of its own); the keys it
 * takes beyond those every protocol takes are its rows in conf/check_inv.c.  A Sunny Island takes no
 * identifier beyond SMA's table ("No further CAN-IDs are allowed", SMA's
 * FSS-ConnectingBat-TI-en-10 §5): no extras for sma-can. */
#define CONF_INV_PROTOCOL_LIST(X) \
	X(PYLON_CAN, pylon_can, "pylon-can", CONF_INV_CAN, CONF_EXTRA_CAPACITY, CONF_EXTRA_ALL, 500000) \
	X(LUX_CAN, lux_can, "lux-can", CONF_INV_CAN, 0, CONF_EXTRA_ALL, 500000) \
	X(SMA_CAN, sma_can, "sma-can", CONF_INV_CAN, 0, 0, 500000) \
	X(PYLON_RS485, pylon_rs485, "pylon-rs485", CONF_INV_RS485, 0, 0, 0) \
	X(SOLARK_CAN, solark_can, "solark-can", CONF_INV_CAN, 0, 0, 500000) \
	X(DEYE_CAN, deye_can, "deye-can", CONF_INV_CAN, 0, 0, 500000) \
	X(GROWATT_CAN, growatt_can, "growatt-can", CONF_INV_CAN, 0, 0, 500000) \
	X(GROWATT_RS485, growatt_rs485, "growatt-rs485", CONF_INV_RS485, 0, 0, 0) \
	X(PYLON_HV_CAN, pylon_hv_can, "pylon-hv-can", CONF_INV_CAN, 0, 0, 500000) \
	X(BYD_HVS_CAN, byd_hvs_can, "byd-hvs-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SOLAX_CAN, solax_can, "solax-can", CONF_INV_CAN, 0, 0, 500000) \
	X(FOXESS_CAN, foxess_can, "foxess-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SUNGROW_CAN, sungrow_can, "sungrow-can", CONF_INV_CAN, 0, 0, 250000) \
	X(SOFAR_CAN, sofar_can, "sofar-can", CONF_INV_CAN, 0, 0, 500000) \
	X(GROWATT_HV_CAN, growatt_hv_can, "growatt-hv-can", CONF_INV_CAN, 0, 0, 500000) \
	/* ferroamp-can is pylon-hv-can's codec under its own name (address 1) */ \
	X(FERROAMP_CAN, pylon_hv_can, "ferroamp-can", CONF_INV_CAN, 0, 0, 500000) \
	X(AFORE_CAN, afore_can, "afore-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SOLXPOW_CAN, solxpow_can, "solxpow-can", CONF_INV_CAN, 0, 0, 500000) \
	X(BYD_HVM_MODBUS, byd_hvm_modbus, "byd-hvm-modbus", CONF_INV_RS485, 0, 0, 0) \
	X(KOSTAL_RS485, kostal_rs485, "kostal-rs485", CONF_INV_RS485, 0, 0, 0) \
	X(GROWATT_WIT_CAN, growatt_wit_can, "growatt-wit-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SMA_HV_CAN, sma_hv_can, "sma-hv-can", CONF_INV_CAN, 0, 0, 500000) \
	X(SCHNEIDER_CAN, schneider_can, "schneider-can", CONF_INV_CAN, 0, 0, 500000) \
	X(RVC, rvc, "rvc", CONF_INV_CAN, 0, 0, 250000)

#define CONF_INV_ENUM_(id, sym, name, kind, extras, allowed, bitrate) CONF_INV_##id,
enum conf_inv_protocol { CONF_INV_PROTOCOL_LIST(CONF_INV_ENUM_) CONF_INV_NPROTOCOLS };
#undef CONF_INV_ENUM_
/* A protocol's name ("pylon-can"), kind, default extras and the extras it
 * may send. */
const char *conf_inv_name(enum conf_inv_protocol p);
enum conf_inv_kind conf_inv_kind(enum conf_inv_protocol p);
unsigned conf_inv_default_extras(enum conf_inv_protocol p);
unsigned conf_inv_allowed_extras(enum conf_inv_protocol p);
/* A CAN protocol's bit rate in bit/s (the slcan adapter is opened at it); 0 for RS485. */
unsigned long conf_inv_bitrate(enum conf_inv_protocol p);
/* How a protocol that keeps its own timing speaks, for --check and the
 * messages ("answers each 0x1871 of the inverter"); NULL for one that sends
 * every `interval` or has its own printer (conf/check_inv.c). */
const char *conf_inv_speech(enum conf_inv_protocol p);
/* A high-voltage protocol's voltage range (V) in *lo, *hi: true for one
 * (pylon-hv-can 80..1000 V, byd-hvs-can 80..576 V), false for a protocol
 * without (conf/check_hv.c). */
bool conf_inv_volt_range(enum conf_inv_protocol p, double *lo, double *hi);

enum conf_soc_override { CONF_SOC_OVERRIDE_NONE = 0, CONF_SOC_OVERRIDE_DEYE };
/* sma-hv-can's variants (`variant =`): Battery-Emulator's three BYD emulations for SMA */
enum conf_inv_variant { CONF_VARIANT_BYD_HVS = 0, CONF_VARIANT_BYD_H, CONF_VARIANT_SBS };
enum conf_current_unit { CONF_CURRENT_100MA = 0, CONF_CURRENT_10MA };
#define CONF_VER_ECHO (-1)             /* pylon-rs485 ver = echo */
#define CONF_INV_INTERVAL_MAX 5.0      /* s: a Victron GX stops after 3 s without 0x351 */
#define CONF_MAX_INVERTERS 4
struct conf_inverter {
	char name[CONF_NAME_MAX];
	int line;
	enum conf_inv_protocol protocol;
	char port[CONF_PORT_MAX];        /* CAN: an interface (can0) or slcan:///dev/ttyACM0;
	                                  * RS485: a serial device or tcp://HOST:PORT */
	bool is_slcan;                   /* CAN through a Lawicel serial adapter */
	char device[CONF_PORT_MAX];      /* what is opened: the slcan adapter's serial device, the CAN
	                                  * interface, or the RS485 serial device ("" over tcp://) */
	bool is_tcp;                     /* RS485 through a TCP serial server */
	char tcp_host[CONF_HOST_MAX];
	int tcp_port;
	char source[CONF_NAME_MAX];      /* a pack name or "bank" */
	int source_pack;                 /* index into packs[], or CONF_BANK_SOURCE */
	double interval;                 /* s between CAN frame sets (default 1, at most 5) */
	int extras;                      /* CAN: CONF_EXTRA_* bits (default: the protocol's) */
	enum conf_soc_override soc_override;
	double soc_hold_full;            /* % the SOC sent stays at or under until the source
	                                  * completed absorption (0 = off; default 98) */
	int baud;                        /* RS485 (default 9600) */
	int address;                     /* RS485: the ADR the inverter polls (default 2);
	                                  * pylon-hv-can: the last nibble of its ids, 0 or 1 (default 0) */
	int reply_address;               /* RS485: answer with this ADR (-1 = the one polled) */
	int ver;                         /* RS485: VER of the answers (0x20), CONF_VER_ECHO = the request's */
	enum conf_current_unit current_unit; /* RS485 0x42 / 0x47 / 0x63 currents */
	char manufacturer[CONF_ID_MAX];  /* CAN 0x35E / RS485 0x51 text (default PYLON) */
	double failsafe_silence;         /* s of zero limits before the output goes silent (30) */
	/* The identity the inverter sees, where the protocol carries it (conf/check_inv.c
	 * says which protocol takes which); -1: the source's */
	int battery_type;                /* 0x1877 byte 4: solax-can (default 131), foxess-can (82) */
	int report_modules;              /* the module count sent (solax-can 0x1875, foxess-can 0x1875,
	                                  * pylon-hv-can 0x7320): -1 the protocol's rule from the source */
	double report_capacity_ah;       /* the full capacity sent, Ah (the remaining one follows the SOC) */
	int report_cells;                /* the cells in series sent (pylon-hv-can 0x7320) */
	int instance;                    /* rvc: the DC source instance it speaks for (default 1) */
	int variant;                     /* enum conf_inv_variant: which of a protocol's variants (sma-hv-can) */
};

/* [sunspec]: SunSpec models on every unit (bmsgw-modbus(7) "SUNSPEC"). */
struct conf_sunspec {
	bool enabled;
	int line;
	int base;                        /* register address of "SunS" (default 40000) */
	char serial[CONF_ID_MAX];        /* SN's stem instead of the unit's name and the machine
	                                  * ("" = none): SN = serial-unit id */
};
/* [sunspec] serial: at most this many characters, so that "-" and a unit id
 * (up to 247) fit in model 1's SN (32 characters). */
#define CONF_SS_SERIAL_MAX 28

/* Lengths of the SunSpec models served, in registers after their ID and L
 * (sunspec/models @7abdf89: json/model_1.json, model_802.json, model_803.json). */
enum {
	CONF_SUNSPEC_MARKER = 2,         /* "SunS" */
	CONF_SUNSPEC_HEADER = 2,         /* ID and L in front of every model; the end model is only that */
	CONF_SUNSPEC_COMMON = 66,        /* model 1, common */
	CONF_SUNSPEC_BATTERY = 62,       /* model 802, battery base */
	CONF_SUNSPEC_BANK = 26,          /* model 803, lithium-ion battery bank, without its strings */
	CONF_SUNSPEC_STRING = 32,        /* model 803: each string (one per pack of the bank, or
	                                  * per string of [bank] strings) */
};


/* [rtu]: a Modbus RTU server on a serial port (bmsgw-modbus(7) "MODBUS RTU"). */
enum conf_rtu_mode { CONF_RTU_8N1 = 0, CONF_RTU_8E1, CONF_RTU_8O1, CONF_RTU_8N2 };
struct conf_rtu {
	bool enabled;
	int line;
	char port[CONF_PORT_MAX];        /* a serial device */
	int baud;                        /* default 9600 */
	enum conf_rtu_mode mode;
	bool control;                    /* writes allowed (section 8's rules, by unit) */
};

/* [modbus_tls]: Modbus/TCP Security on port 802 (bmsgw-modbus(7) "MODBUS/TCP
 * SECURITY"): the map of [gateway] in TLS, clients with a certificate of ca. */
#define CONF_ROLE_MAX 64
struct conf_modbus_tls {
	bool enabled;
	int line;
	char listen_host[CONF_HOST_MAX]; /* no brackets */
	int listen_port;                 /* follows listen_host (KT_LISTEN) */
	char cert[CONF_PORT_MAX];        /* the server's certificate chain (PEM) */
	char key[CONF_PORT_MAX];         /* its private key (PEM), not readable by others */
	char ca[CONF_PORT_MAX];          /* the CAs client certificates must chain to */
	char write_role[CONF_ROLE_MAX];  /* the role that may write; "" = none */
};
/* The loaders of the files [http] and [modbus_tls] name, lent by the rooms
 * that serve with them (gateway/web/, gateway/core/): a check loads those
 * files as the servers will, so that a file --check accepts is a file the
 * server takes, but conf itself reads no certificate and no login.  A
 * program installs them (conf_use_loaders) before it loads a configuration
 * with such a section; without them the section fails its check. */
struct conf_loaders {
	/* [http] tls_cert and tls_key: 0, or -1 with why */
	int (*https)(const char *cert, const char *key, char *why, size_t wl);
	/* [http] users_file: how many users it holds, or -1 with why */
	int (*users)(const char *path, char *why, size_t wl);
	/* [modbus_tls] cert, key and ca: 0, or -1 with why, which starts with
	 * "certificate", "key" or "CA" for the file it is about */
	int (*mbtls)(const char *cert, const char *key, const char *ca, char *why, size_t wl);
	/* the place of a file of bmsgw's where the configuration names none
	 * ("state", "history.db", "setup-code": gateway/core/statedir.h), for
	 * the check that no key names one of them (check_files.c) */
	bool (*state_path)(const char *name, char *out, size_t cap);
};
void conf_use_loaders(const struct conf_loaders *l);

/* [health]: the cell health estimators of every pack (design section 26;
 * gateway/engine/health.h), on when the section is there.  The knees and
 * the rest follow the chemistry and the rating (gw_health_params_for,
 * gateway/model/health_gw.c). */
struct conf_health {
	bool enabled;                    /* a [health] section exists */
	int line;
	double ir_min_step;              /* C: a current step this large between two polls is an IR sample */
};

struct conf {
	char file[CONF_PORT_MAX];
	struct conf_gateway gw;
	int npacks;
	struct conf_pack packs[CONF_MAX_PACKS];
	struct conf_bank bank;
	int nupstreams;
	struct conf_upstream upstreams[CONF_MAX_UPSTREAMS];
	struct conf_mqtt mqtt;
	int ntunnels;
	struct conf_tunnel tunnels[CONF_MAX_TUNNELS];
	struct conf_http http;
	struct conf_history history;
	struct conf_ble ble;
	struct conf_limits limits;
	int ninverters;
	struct conf_inverter inverters[CONF_MAX_INVERTERS];
	struct conf_sunspec sunspec;
	struct conf_rtu rtu;
	struct conf_soc soc;             /* [soc]: the bank's, and what packs inherit */
	struct conf_modbus_tls mbtls;    /* [modbus_tls] */
	int nble_proxies;
	struct conf_ble_proxy ble_proxies[CONF_MAX_BLE_PROXIES];
	int nalerts;
	struct conf_alerts alerts[CONF_MAX_ALERTS];
	struct conf_health health;       /* [health] */
	/* The sections of the rooms above conf (conf/section.h), each where
	 * conf/sections.c placed it: its count, then its structs. */
	_Alignas(16) unsigned char room[CONF_ROOM_BYTES];
};

/* Defaults of [gateway] (listen 0.0.0.0:502, base 290 ...). */
void conf_defaults(struct conf *c);
/* rfile.c: a file bmsgw reads, opened never blocking and never through
 * another user's symbolic link (root's and bmsgw's own are followed): a
 * FIFO, a device, a directory or a socket in its place is refused, "PATH
 * is not a regular file (a FIFO): refused".  A descriptor (O_RDONLY |
 * O_NONBLOCK, close-on-exec), or -1 with why naming the path (errno ENOENT
 * when there is none). */
int conf_file_open(const char *path, char *why, size_t wl);
/* The same, of a file that holds a secret (a key, a password, password
 * hashes): others can neither read nor write it (as ssh asks of a private
 * key; the group may read, for a daemon that runs as a user of the key's
 * group). */
int conf_private_open(const char *path, char *why, size_t wl);
#define CONF_FILE_MAX (1024 * 1024)  /* bytes of a file read whole: no configuration, key or PEM is longer */
/* A file read whole (conf_file_open(), or conf_private_open() when
 * secret), NUL-terminated, at most CONF_FILE_MAX bytes: malloc'd with
 * *len, or NULL with why naming the path. */
char *conf_file_read(const char *path, bool secret, size_t *len, char *why, size_t wl);
/* check_files.c: path with every symlink followed and every "." and ".."
 * taken, where its last parts are not there yet (a file bmsgw makes); a
 * relative one from the working directory.  false when it cannot be said
 * (a symlink to nowhere, ".." after a part that is not there, a name too
 * long, a directory it may not look in). */
bool conf_path_resolve(const char *path, char *out, size_t cap);
/* secret.c: a file that holds a secret is a private file (above) bmsgw
 * can read.  0, or -1 with why naming the path. */
int conf_private_file(const char *path, char *why, size_t wl);
/* A password's file ([mqtt], [ble_proxy.NAME] password_file): a private
 * file (above) whose first line, 1 to cap - 1 characters, is the password,
 * copied to out.  0, or -1 with why naming the path. */
int conf_read_password(const char *path, char *out, size_t cap, char *why, size_t wl);
/* Parse and validate a file.  0 on success, -1 with err = "FILE:LINE: [section] key: problem". */
int conf_load_file(const char *path, struct conf *c, char *err, size_t errlen);
/* The same from a string; `name` stands in for the file name in messages. */
int conf_load_string(const char *text, const char *name, struct conf *c, char *err, size_t errlen);
/* Where an error of a load is, as the setup API shows it on its field. */
struct conf_error {
	int line;                        /* its line of the text, 0 = the file as a whole */
	char section[64];                /* "pack.NAME" ..., "" = none */
	char key[64];                    /* "" = the section (or the file) as a whole */
	char message[CONF_ERR_MAX];      /* the problem alone, without FILE:LINE: [section] key: */
};
/* conf_load_string() that also says where its error is (e may be NULL). */
int conf_load_string_at(const char *text, const char *name, struct conf *c, struct conf_error *e);
/* conf/checkall.c: the check of --check over text, with up to max errors:
 * after each one its key (or its section, for an error of a section as a
 * whole) is left out and the text checked again, until it passes, an
 * error comes back on a field already named, or nothing can be left out.
 * Returns how many errors (0: c holds the configuration), -1 when out of
 * memory. */
int conf_check_all(const char *text, const char *name, struct conf *c, struct conf_error *errs, int max);
/* conf/warnings.c: the poll cycle of pack i (s): its poll_interval, one
 * request with all its tries, one answer's wait of each other pack that
 * polls on its wire; *on_bus (may be NULL): those packs, itself included. */
double conf_pack_cycle(const struct conf *c, int i, int *on_bus);
/* What a valid configuration may still get wrong (a stale_after not longer
 * than a pack's poll cycle): say() gets each text, "FILE:LINE: [pack.NAME]:
 * ...".  Returns how many. */
int conf_warnings(const struct conf *c, void (*say)(void *arg, const char *text), void *arg);
/* Human summary for --check. */
void conf_print_summary(const struct conf *c, FILE *out);
/* The man page block that lists the protocols (bmsgw --man-protocols):
 * section 8 names them, section 5 describes each.  0, or -1 for another
 * section. */
int conf_print_man_protocols(FILE *o, int section);
/* Registers of the SunSpec block of a pack's unit (bank = false: "SunS",
 * models 1 and 802, the end model) or of the bank's unit (bank = true:
 * model 803 too, one string per pack of [bank], or per string of its
 * strings). */
int conf_sunspec_regs(const struct conf *c, bool bank);


#endif
