/* SPDX-License-Identifier: MIT */
/* tests/unit/test_b64.c - the one base64 of bmsgw (conf/b64.c): RFC 4648's
 * own vectors, the ESPHome API keys a [ble_proxy.NAME] takes, a users
 * file's salt and hash as `bmsgw --hash-password` wrote them before (with
 * nettle) and now (a line of each logs in), and every malformed text
 * refused. */
#include <stdint.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/web/users.h"
#include "check.h"

static void test_rfc4648(void)
{
	/* RFC 4648 section 10 */
	const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (int i = 1; i < 7; i++) {
		uint8_t out[16];
		char txt[16];
		CHECK_EQ_INT(conf_b64_decode(enc[i], strlen(enc[i]), out, sizeof(out)), (long)strlen(plain[i]));
		CHECK(memcmp(out, plain[i], strlen(plain[i])) == 0);
		CHECK_EQ_INT(conf_b64_encode((const uint8_t *)plain[i], strlen(plain[i]), txt, sizeof(txt)),
			     strlen(enc[i]));
		CHECK_STR(txt, enc[i]);
	}
}

static void test_keys(void)
{
	uint8_t k[32];
	const char *a = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
	CHECK_EQ_INT(conf_b64_decode(a, strlen(a), k, sizeof(k)), 32);
	CHECK(memcmp(k, "0123456789abcdef0123456789abcdef", 32) == 0);
	const char *b = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	CHECK_EQ_INT(conf_b64_decode(b, strlen(b), k, sizeof(k)), 32);
	CHECK(k[0] == 0 && k[31] == 31);
	const char *bad[] = {
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",   /* no padding */
		"MDEyMzQ1Njc4OWFiY2RlZjAx*jM0NTY3ODlhYmNkZWY=",  /* not the alphabet */
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYm=kZWY=",  /* padding inside */
		" MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", /* a blank */
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZW==",  /* 31 bytes */
		"Zg=a", "====", "A===", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(conf_b64_decode(bad[i], strlen(bad[i]), k, sizeof(k)) == 32, 0);
	for (size_t i = 0; i < 4; i++)
		CHECK_EQ_INT(conf_b64_decode(bad[i], strlen(bad[i]), k, sizeof(k)), -1);
	/* longer than the room given: -1, nothing beyond it written */
	uint8_t small[8 + 1];
	small[8] = 0xA5;
	CHECK_EQ_INT(conf_b64_decode(a, strlen(a), small, 8), -1);
	CHECK_EQ_INT(small[8], 0xA5);
	char longer[CONF_B64_MAX + 5];
	memset(longer, 'A', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	CHECK_EQ_INT(conf_b64_decode(longer, CONF_B64_MAX + 4, k, sizeof(k)), -1);
	char txt[8];
	CHECK_EQ_INT(conf_b64_encode(k, 6, txt, sizeof(txt)), 0); /* 8 characters and the NUL */
}

/* a line bmsgw --hash-password wrote with nettle (0.1.0 before OpenSSL took
 * its place; its hash checked with Python's hashlib.pbkdf2_hmac): the same
 * password still logs in, another does not; a new line round-trips */
static void test_users_line(void)
{
	const char *old = "alice:admin:$pbkdf2-sha256$600000$5YqCFKQE2+B1InNyPfOeSQ==$"
			  "dsSisYw/LQ4nARseXCckAue++w5dyaPj7yT8DmAApac=";
	struct gw_user u;
	char err[200], line[300];
	CHECK_EQ_INT(gw_user_parse(old, &u, err, sizeof(err)), 0);
	CHECK(gw_user_verify(&u, "correct horse", 13));
	CHECK(!gw_user_verify(&u, "correct hors", 12));
	CHECK(!gw_user_verify(&u, "correct horsf", 13));
	CHECK_EQ_INT(gw_user_hash_line("bob", "read", "pw", 2, line, sizeof(line), err, sizeof(err)), 0);
	CHECK_EQ_INT(gw_user_parse(line, &u, err, sizeof(err)), 0);
	CHECK(gw_user_verify(&u, "pw", 2));
	CHECK(!gw_user_verify(&u, "pW", 2));
	const char *bad_salt = "alice:admin:$pbkdf2-sha256$600000$5YqCFKQE2+B1InNyPfOeSQ$"
			       "dsSisYw/LQ4nARseXCckAue++w5dyaPj7yT8DmAApac=";
	CHECK_EQ_INT(gw_user_parse(bad_salt, &u, err, sizeof(err)), -1);
}

int main(void)
{
	test_rfc4648();
	test_keys();
	test_users_line();
	return check_report();
}
