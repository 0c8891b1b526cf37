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
#include "sections.h"

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

/* Some other value of key ck in obj, by its type (not necessarily a valid one). */
static void change(const struct conf_key *ck, char *obj)
{
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

/* Key `name` of the section a name such as "pack.a" is of. */
static const struct conf_key *key_of(const char *sect, const char *name)
{
	const struct conf_key *k = conf_key_find(conf_section_kind(sect, NULL), name);
	CHECK(k != NULL);
	return k;
}

static void test_classes(void)
{
	int seen = 0;
	const struct conf_section *s;
	for (int si = 0; (s = conf_section_nth(si)); si++)
		for (int k = 0; k < s->nkeys; k++) {
			enum conf_reload r = s->keys[k].reload;
			CHECK(r == CONF_LIVE || r == CONF_RESTART || r == CONF_RELINK);
			CHECK(conf_key_find(s, s->keys[k].name) == &s->keys[k]);
			seen++;
		}
	CHECK(seen > 150);
	CHECK_STR(conf_section_kind("inverter.x", NULL)->word, "inverter");
	/* a few the running parts rely on */
	CHECK_EQ_INT(key_of("gateway", "listen")->reload, CONF_RESTART);
	CHECK_EQ_INT(key_of("gateway", "base")->reload, CONF_LIVE);
	CHECK_EQ_INT(key_of("pack.a", "port")->reload, CONF_RELINK);
	CHECK_EQ_INT(key_of("pack.a", "baud")->reload, CONF_RELINK);
	CHECK_EQ_INT(key_of("pack.a", "poll_interval")->reload, CONF_LIVE);
	CHECK_EQ_INT(key_of("mqtt", "keepalive")->reload, CONF_RESTART);
	CHECK_EQ_INT(key_of("mqtt", "publish_interval")->reload, CONF_LIVE);
	CHECK_EQ_INT(key_of("rtu", "control")->reload, CONF_LIVE);
	CHECK_EQ_INT(key_of("inverter.x", "manufacturer")->reload, CONF_RESTART);
}

/* A change of each key is seen in its class and in no other. */
static void test_same(void)
{
	static _Alignas(16) char a[sizeof(struct conf)], b[sizeof(struct conf)];
	const struct conf_section *s;
	for (int si = 0; (s = conf_section_nth(si)); si++)
		for (int k = 0; k < s->nkeys; k++) {
			memset(a, 0, sizeof(a));
			conf__apply_defaults(s, a);
			memcpy(b, a, sizeof(b));
			for (int r = CONF_LIVE; r <= CONF_RELINK; r++)
				CHECK(conf_section_same(s, r, a, b));
			change(&s->keys[k], b);
			for (int r = CONF_LIVE; r <= CONF_RELINK; r++) {
				bool same = conf_section_same(s, r, a, b);
				if (same == (r == (int)s->keys[k].reload))
					fprintf(stderr, "  [%s] %s, class %d\n", s->word, s->keys[k].name, r);
				CHECK_EQ_INT(same, r != (int)s->keys[k].reload);
			}
		}
	/* the password read from password_file restarts the MQTT client */
	struct conf_mqtt m1, m2;
	memset(&m1, 0, sizeof(m1));
	m2 = m1;
	strcpy(m2.password, "secret");
	CHECK(!conf_section_same(&conf_sect_mqtt, CONF_RESTART, &m1, &m2));
	CHECK(conf_section_same(&conf_sect_mqtt, CONF_LIVE, &m1, &m2));
	/* the name is the caller's: two packs on one wire */
	struct conf_pack p1, p2;
	memset(&p1, 0, sizeof(p1));
	p2 = p1;
	strcpy(p2.name, "other");
	CHECK(conf_section_same(&conf_sect_pack, CONF_RELINK, &p1, &p2));
}

/* Key `name`'s text in instance i of the section `sect` is of. */
static void text_of(const char *sect, int i, const char *name, char *text, size_t cap)
{
	const struct conf_section *s = conf_section_kind(sect, NULL);
	const void *obj = conf_obj(&c, s, i);
	text[0] = '\0';
	CHECK(obj != NULL);
	if (obj)
		conf_key_text(key_of(sect, name), obj, text, cap);
}

/* Key k of instance obj of s read back from its own text: 1 the same, 0
 * not, -1 skipped (a fingerprint; none, where the file cannot say none). */
static int reads_back(const struct conf_section *s, const struct conf_key *k, const void *obj)
{
	static _Alignas(16) char copy[sizeof(struct conf)];
	char text[1024], why[CONF_WHY_MAX];
	conf_key_text(k, obj, text, sizeof(text));
	if (k->type == KT_KEY || (!text[0] && !(k->def && !k->def[0])))
		return -1;
	memcpy(copy, obj, s->size); /* the rest of the section as it is, this key read from its text */
	int rc = conf__set_value(k, copy, text, why, sizeof(why));
	if (rc < 0)
		fprintf(stderr, "  [%s] %s = %s: %s\n", s->word, k->name, text, why);
	CHECK_EQ_INT(rc, 0);
	bool same = true;
	for (int r = CONF_LIVE; r <= CONF_RELINK; r++)
		same = same && conf_section_same(s, r, obj, copy);
	if (!same)
		fprintf(stderr, "  [%s] %s: \"%s\" reads back otherwise\n", s->word, k->name, text);
	return same;
}

/* The text of every value of a loaded file parses back to the same value. */
static void test_text(void)
{
	CHECK_EQ_INT(conf_load_string(full, "t.ini", &c, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "  %s\n", err);
	int instances = 0, values = 0;
	const struct conf_section *s;
	for (int si = 0; (s = conf_section_nth(si)); si++) {
		const char *name;
		const void *obj;
		for (int i = 0; (obj = conf_section_at(&c, s, i, &name)); i++) {
			instances++;
			CHECK_EQ_INT(name != NULL, s->named);
			for (int k = 0; k < s->nkeys; k++) {
				int r = reads_back(s, &s->keys[k], obj);
				CHECK(r != 0);
				values += r > 0;
			}
		}
	}
	CHECK_EQ_INT(instances, 16); /* [soc] is always there, with its defaults */
	CHECK(values >= 100);
	char text[256];
	text_of("gateway", 0, "listen", text, sizeof(text));
	CHECK_STR(text, "127.0.0.1:1502");
	text_of("http", 0, "listen", text, sizeof(text));
	CHECK_STR(text, "[::1]:8080");
	text_of("inverter.x", 0, "extras", text, sizeof(text));
	CHECK_STR(text, "capacity, cells");
	text_of("inverter.x", 1, "ver", text, sizeof(text));
	CHECK_STR(text, "echo");
	text_of("inverter.x", 0, "ver", text, sizeof(text));
	CHECK_STR(text, "0x20");
	text_of("upstream.x", 0, "registers", text, sizeof(text));
	CHECK_STR(text, "3-40");
	text_of("limits", 0, "soc_charge_table", text, sizeof(text));
	CHECK_STR(text, "95:1, 100:0.5");
	text_of("limits", 0, "soc_discharge_table", text, sizeof(text));
	CHECK_STR(text, "");
	text_of("pack.x", 1, "max_charge_current", text, sizeof(text));
	CHECK_STR(text, "");
	text_of("pack.x", 0, "protocol", text, sizeof(text));
	CHECK_STR(text, "daly");
	text_of("rtu", 0, "mode", text, sizeof(text));
	CHECK_STR(text, "8E1");
	const char *name;
	CHECK(conf_section_at(&c, &conf_sect_pack, 2, &name) == NULL);
	const struct conf_section *inv = conf_section_kind("inverter.x", NULL);
	CHECK(conf_section_at(&c, inv, 1, &name) == conf_obj(&c, inv, 1));
	CHECK_STR(name, "rs");
}

/* A key's value the file gave and the same read from another struct: the
 * victron-ble key is shown as a fingerprint, never itself. */
static void test_key_fingerprint(void)
{
	struct conf_pack p;
	char text[64], why[CONF_WHY_MAX];
	memset(&p, 0, sizeof(p));
	const struct conf_key *k = key_of("pack.a", "key");
	conf_key_text(k, &p, text, sizeof(text));
	CHECK_STR(text, "");
	CHECK_EQ_INT(conf__set_value(k, &p, "00112233445566778899aabbccddeeff", why, sizeof(why)), 0);
	conf_key_text(k, &p, text, sizeof(text));
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
	int keys = 0;
	const struct conf_section *s;
	for (int si = 0; (s = conf_section_nth(si)); si++)
		keys += s->nkeys;
	CHECK_EQ_INT(lines, keys);
	CHECK(strstr(buf, "gateway\tlisten\tlisten\t0\t0\t\t0.0.0.0:502\trestart\n") != NULL);
	CHECK(strstr(buf, "pack\tport\tport\t0\t0\t\t-\trelink\n") != NULL);
	CHECK(strstr(buf, "mqtt\tcells\tword\t0\t0\tdisabled,enabled,off\tdisabled\tlive\n") != NULL);
	free(buf);
}

int main(void)
{
	install_sections(); /* the outputs' sections, as the daemon hands them down */
	test_classes();
	test_same();
	test_text();
	test_key_fingerprint();
	test_print_keys();
	return check_report();
}
