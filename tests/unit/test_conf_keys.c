/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf_keys.c - the key table read back (conf/keys.c):
 * every key has a reload class, conf_section_same() sees a change of every
 * key in its own class only (and the password read from password_file),
 * the text of every value parses back to the same value, and bmsgw --keys
 * prints every key. */
#include <stdlib.h>

#include "../../bms/bms.h"
#include "../../conf/conf_int.h"
#include "check.h"

static struct conf c;
static char err[CONF_ERR_MAX];

/* Every section but [ble] (which needs a Bluetooth build) with keys. */
static const char *full =
	"[gateway]\nlisten = 127.0.0.1:1502\ncontrol_clients = 127.0.0.1, 10.0.0.0/8\n"
	"[pack.a]\nprotocol = daly\nport = /dev/ttyUSB0\naddress = 1\ncells = 16\nmax_charge_current = 50\n"
	"[pack.b]\nprotocol = daly\nport = tcp://127.0.0.1:8899\n"
	"[bank]\npacks = a, b\n"
	"[upstream.u]\nhost = 127.0.0.1\nport = 1503\nsource = bank\nregisters = 3-40\n"
	"[mqtt]\nhost = broker.local\ncells = enabled\n"
	"[tunnel.t]\nport = /dev/ttyUSB0\nlisten = 127.0.0.1:7000\nclients = 127.0.0.1\n"
	"[http]\nlisten = [::1]:8080\nclients = ::1\n"
	"[history]\nfile = /tmp/h.db\n"
	"[limits]\nsoc_charge_table = 95:1, 100:0.5\n"
	"[inverter.can]\nprotocol = pylon-can\nport = can0\nextras = capacity, cells\n"
	"[inverter.rs]\nprotocol = pylon-rs485\nport = /dev/ttyUSB5\nver = echo\nreply_address = 3\n"
	"[sunspec]\nserial = x1\n"
	"[rtu]\nport = /dev/ttyUSB6\nmode = 8E1\n";

static const struct conf_key *key(int k)
{
	return &conf__keys[k];
}

/* Some other value of key k in obj, by its type (not necessarily a valid one). */
static void change(int k, char *obj)
{
	const struct conf_key *ck = key(k);
	char *f = obj + ck->off;
	switch (ck->type) {
	case KT_INT: case KT_WORD: case KT_BAUD: case KT_FLAGS: case KT_VER: case KT_RANGE:
		(*(int *)(void *)(f + (ck->type == KT_RANGE ? sizeof(int) : 0)))++;
		break;
	case KT_DOUBLE: *(double *)(void *)f += 0.5; break;
	case KT_BOOL: *(bool *)(void *)f = !*(bool *)(void *)f; break;
	case KT_LISTEN: (*(int *)(void *)(f + CONF_HOST_MAX))++; break;
	case KT_PROTOCOL: {
		const struct bms_driver **d = (const struct bms_driver **)(void *)f;
		*d = *d == bms_drivers[0] ? bms_drivers[1] : bms_drivers[0];
		break;
	}
	case KT_NETS: strcat(((struct conf_nets *)(void *)f)->text, "x"); break;
	case KT_KEY: f[1] ^= 1; break;
	case KT_TABLE: {
		struct conf_table *t = (struct conf_table *)(void *)f;
		t->x[t->n] = 1, t->y[t->n] = 1, t->n++;
		break;
	}
	default: strcat(f, "x"); break;
	}
}

static void test_classes(void)
{
	int seen = 0;
	for (int k = 0; k < K_COUNT; k++) {
		enum conf_reload r = key(k)->reload;
		CHECK(r == CONF_LIVE || r == CONF_RESTART || r == CONF_RELINK);
		CHECK_EQ_INT(conf_key_reload(k), r);
		CHECK_STR(conf_key_name(k), key(k)->name);
	}
	for (int s = CONF_SEC_GATEWAY; s < CONF_SEC_COUNT; s++)
		for (int k = conf_key_next(s, 0); k >= 0; k = conf_key_next(s, k + 1)) {
			CHECK_EQ_INT(key(k)->sect, s);
			seen++;
		}
	CHECK_EQ_INT(seen, K_COUNT);
	CHECK_STR(conf_section_word(CONF_SEC_INVERTER), "inverter");
	/* a few the running parts rely on */
	CHECK_EQ_INT(key(K_LISTEN)->reload, CONF_RESTART);
	CHECK_EQ_INT(key(K_BASE)->reload, CONF_LIVE);
	CHECK_EQ_INT(key(K_PORT)->reload, CONF_RELINK);
	CHECK_EQ_INT(key(K_BAUD)->reload, CONF_RELINK);
	CHECK_EQ_INT(key(K_POLL_INTERVAL)->reload, CONF_LIVE);
	CHECK_EQ_INT(key(K_MQ_KEEPALIVE)->reload, CONF_RESTART);
	CHECK_EQ_INT(key(K_MQ_PUBLISH_INTERVAL)->reload, CONF_LIVE);
	CHECK_EQ_INT(key(K_RT_CONTROL)->reload, CONF_LIVE);
	CHECK_EQ_INT(key(K_IN_MANUFACTURER)->reload, CONF_RESTART);
}

/* A change of each key is seen in its class and in no other. */
static void test_same(void)
{
	static char a[sizeof(struct conf)], b[sizeof(struct conf)];
	for (int k = 0; k < K_COUNT; k++) {
		enum conf_sect s = key(k)->sect;
		memset(a, 0, sizeof(a));
		conf__apply_defaults(s, a);
		memcpy(b, a, sizeof(b));
		for (int r = CONF_LIVE; r <= CONF_RELINK; r++)
			CHECK(conf_section_same(s, r, a, b));
		change(k, b);
		for (int r = CONF_LIVE; r <= CONF_RELINK; r++) {
			bool same = conf_section_same(s, r, a, b);
			if (same == (r == (int)key(k)->reload))
				fprintf(stderr, "  [%s] %s, class %d\n", conf_section_word(s), key(k)->name, r);
			CHECK_EQ_INT(same, r != (int)key(k)->reload);
		}
	}
	/* the password read from password_file restarts the MQTT client */
	struct conf_mqtt m1, m2;
	memset(&m1, 0, sizeof(m1));
	m2 = m1;
	strcpy(m2.password, "secret");
	CHECK(!conf_section_same(CONF_SEC_MQTT, CONF_RESTART, &m1, &m2));
	CHECK(conf_section_same(CONF_SEC_MQTT, CONF_LIVE, &m1, &m2));
	/* the name is the caller's: two packs on one wire */
	struct conf_pack p1, p2;
	memset(&p1, 0, sizeof(p1));
	p2 = p1;
	strcpy(p2.name, "other");
	CHECK(conf_section_same(CONF_SEC_PACK, CONF_RELINK, &p1, &p2));
}

/* The text of every value of a loaded file parses back to the same value. */
static void test_text(void)
{
	CHECK_EQ_INT(conf_load_string(full, "t.ini", &c, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "  %s\n", err);
	int instances = 0, values = 0;
	for (int s = CONF_SEC_GATEWAY; s < CONF_SEC_COUNT; s++) {
		const char *name;
		const void *obj;
		for (int i = 0; (obj = conf_section_at(&c, s, i, &name)); i++) {
			static char copy[sizeof(struct conf)];
			instances++;
			CHECK_EQ_INT(name != NULL, s == CONF_SEC_PACK || s == CONF_SEC_UPSTREAM || s == CONF_SEC_TUNNEL ||
				     s == CONF_SEC_INVERTER);
			for (int k = conf_key_next(s, 0); k >= 0; k = conf_key_next(s, k + 1)) {
				char text[1024], why[CONF_WHY_MAX];
				conf_key_text(k, obj, text, sizeof(text));
				if (key(k)->type == KT_KEY || (!text[0] && !(key(k)->def && !key(k)->def[0])))
					continue; /* a fingerprint; none, where the file cannot say none */
				/* the rest of the file as it is, and this key read from its text */
				memcpy(copy, obj, (size_t)((const char *)&c + sizeof(c) - (const char *)obj));
				int rc = conf__set_value(key(k), copy, text, why, sizeof(why));
				if (rc < 0)
					fprintf(stderr, "  [%s] %s = %s: %s\n", conf_section_word(s), key(k)->name, text, why);
				CHECK_EQ_INT(rc, 0);
				bool same = true;
				for (int r = CONF_LIVE; r <= CONF_RELINK; r++)
					same = same && conf_section_same(s, r, obj, copy);
				if (!same)
					fprintf(stderr, "  [%s] %s: \"%s\" reads back otherwise\n", conf_section_word(s),
						key(k)->name, text);
				CHECK(same);
				values++;
			}
		}
	}
	CHECK_EQ_INT(instances, 16); /* [soc] is always there, with its defaults */
	CHECK(values >= 100);
	char text[256];
	conf_key_text(K_LISTEN, &c.gw, text, sizeof(text));
	CHECK_STR(text, "127.0.0.1:1502");
	conf_key_text(K_HT_LISTEN, &c.http, text, sizeof(text));
	CHECK_STR(text, "[::1]:8080");
	conf_key_text(K_IN_EXTRAS, &c.inverters[0], text, sizeof(text));
	CHECK_STR(text, "capacity, cells");
	conf_key_text(K_IN_VER, &c.inverters[1], text, sizeof(text));
	CHECK_STR(text, "echo");
	conf_key_text(K_IN_VER, &c.inverters[0], text, sizeof(text));
	CHECK_STR(text, "0x20");
	conf_key_text(K_UP_REGISTERS, &c.upstreams[0], text, sizeof(text));
	CHECK_STR(text, "3-40");
	conf_key_text(K_LI_SOC_CHARGE, &c.limits, text, sizeof(text));
	CHECK_STR(text, "95:1, 100:0.5");
	conf_key_text(K_LI_SOC_DISCHARGE, &c.limits, text, sizeof(text));
	CHECK_STR(text, "");
	conf_key_text(K_PK_MAX_CHARGE, &c.packs[1], text, sizeof(text));
	CHECK_STR(text, "");
	conf_key_text(K_PROTOCOL, &c.packs[0], text, sizeof(text));
	CHECK_STR(text, "daly");
	conf_key_text(K_RT_MODE, &c.rtu, text, sizeof(text));
	CHECK_STR(text, "8E1");
	const char *name;
	CHECK(conf_section_at(&c, CONF_SEC_PACK, 2, &name) == NULL);
	CHECK(conf_section_at(&c, CONF_SEC_INVERTER, 1, &name) == &c.inverters[1]);
	CHECK_STR(name, "rs");
}

/* A key's value the file gave and the same read from another struct: the
 * victron-ble key is shown as a fingerprint, never itself. */
static void test_key_fingerprint(void)
{
	struct conf_pack p;
	char text[64], why[CONF_WHY_MAX];
	memset(&p, 0, sizeof(p));
	conf_key_text(K_KEY, &p, text, sizeof(text));
	CHECK_STR(text, "");
	CHECK_EQ_INT(conf__set_value(key(K_KEY), &p, "00112233445566778899aabbccddeeff", why, sizeof(why)), 0);
	conf_key_text(K_KEY, &p, text, sizeof(text));
	CHECK(strncmp(text, "fnv1a:", 6) == 0 && strlen(text) == 14);
	CHECK(strstr(text, "0011") == NULL);
}

static void test_print_keys(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	conf_print_keys(f);
	fclose(f);
	int lines = 0;
	for (char *line = buf, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		int tabs = 0;
		for (char *q = line; q < nl; q++)
			tabs += *q == '\t';
		CHECK_EQ_INT(tabs, 7);
		lines++;
	}
	CHECK_EQ_INT(lines, K_COUNT);
	CHECK(strstr(buf, "gateway\tlisten\tlisten\t0\t0\t\t0.0.0.0:502\trestart\n") != NULL);
	CHECK(strstr(buf, "pack\tport\tport\t0\t0\t\t-\trelink\n") != NULL);
	CHECK(strstr(buf, "mqtt\tcells\tword\t0\t0\tdisabled,enabled,off\tdisabled\tlive\n") != NULL);
	free(buf);
}

int main(void)
{
	test_classes();
	test_same();
	test_text();
	test_key_fingerprint();
	test_print_keys();
	return check_report();
}
