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
#define CONF_PIN_MAX 32 /* a pack's pin: BMS_PIN_MAX (bms/bms.h) */
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
	char pin[CONF_PIN_MAX + 1];      /* pin = given ("" = none): the secret a BMS over Bluetooth
	                                  * asks for (a driver with ble->pin); never logged or served */
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

#define CONF_BANK_SOURCE (-1) /* an output's source_pack: the bank */

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


/* A URL key's value (KT_URL, conf/url.c): what is shown first (a key's
 * text), the user and password of the URL taken out of it. */
enum conf_url_scheme { CONF_URL_HTTP = 0, CONF_URL_HTTPS, CONF_URL_SMTP, CONF_URL_SMTPS };
struct conf_url {
	/* as written, a password in it as *** (3 more than an empty one) and a
	 * path or query as /... (3 more than "?"): /api/config, logs */
	char text[CONF_PORT_MAX + 6];
	char bare[CONF_PORT_MAX];        /* without user and password: what is fetched */
	char user[CONF_ID_MAX];          /* the URL's user, percent-decoded ("" = none) */
	char pass[CONF_HOST_MAX];        /* the URL's password, percent-decoded ("" = none) */
	enum conf_url_scheme scheme;
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
	struct conf_mqtt mqtt;
	struct conf_ble ble;
	struct conf_limits limits;
	struct conf_soc soc;             /* [soc]: the bank's, and what packs inherit */
	int nble_proxies;
	struct conf_ble_proxy ble_proxies[CONF_MAX_BLE_PROXIES];
	struct conf_health health;       /* [health] */
	/* The sections of the rooms above conf (conf/section.h), each where
	 * conf/sections.c placed it: its count, then its structs. */
	_Alignas(16) unsigned char room[CONF_ROOM_BYTES];
};

/* Defaults of [gateway] (listen 0.0.0.0:502, base 290 ...). */
void conf_defaults(struct conf *c);
/* The directory of bmsgw's own files where the configuration names none
 * (the daemon's: $STATE_DIRECTORY, else /var/lib/bmsgw, gateway/core/
 * statedir.h), handed down before any load for the check that no key names
 * one of them (check_files.c): the automatic state file, history database
 * and setup code there.  NULL or "": none (those are not checked). */
void conf_use_state_dir(const char *dir);
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


#endif
