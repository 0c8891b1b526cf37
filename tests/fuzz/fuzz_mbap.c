/* tests/fuzz/fuzz_mbap.c - libFuzzer target for the Modbus TCP server's own
 * MBAP framing and request screening (gateway/server.c): arbitrary client
 * bytes, in arbitrary chunks, must never read out of bounds, and every
 * complete ADU must get a decision (serve or one exception code). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../conf/conf.h"
#include "../../gateway/gw.h"
#include "../../gateway/server.h"

static struct gw gw;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		char err[256];
		struct conf *conf = malloc(sizeof(*conf));
		if (!conf || conf_load_string("[pack.a]\nprotocol = daly\nport = /dev/null\n[pack.b]\nprotocol = daly\n"
				     "port = /dev/null\naddress = 2\n[bank]\n",
				     "fuzz", conf, err, sizeof(err)) < 0)
			abort();
		/* owned by gw from now on; kept for the whole run */
		if (gw_init(&gw, NULL, conf) < 0)
			abort();
		gw.packs[0]->have_data = true;
		gw.packs[0]->last_good = gw_mono();
		ready = 1;
	}
	uint8_t buf[520];
	size_t len = 0, i = 0;
	while (i < size) {
		/* the first byte of each step says how many bytes the read returned */
		size_t chunk = (size_t)(data[i++] % 64) + 1;
		if (chunk > size - i)
			chunk = size - i;
		if (chunk > sizeof(buf) - len)
			chunk = sizeof(buf) - len;
		memcpy(buf + len, data + i, chunk);
		len += chunk;
		i += chunk;
		for (;;) {
			int al = gw_mbap_frame(buf, len);
			if (al == 0)
				break;
			if (al < 0) {
				len = 0; /* the server closes the connection */
				break;
			}
			if (al < 8 || (size_t)al > len || al > 260)
				abort();
			struct gw_screen s;
			gw_screen_request(&gw, buf, (size_t)al, &s);
			if (s.exception < 0 || s.exception > 0x0B)
				abort();
			if (s.exception == 0 &&
			    (s.function != 3 || s.count < 1 || s.count > 125 || s.addr < 290 || s.addr + s.count > 415))
				abort();
			memmove(buf, buf + al, len - (size_t)al);
			len -= (size_t)al;
		}
		if (len == sizeof(buf))
			abort(); /* a complete frame always fits */
	}
	return 0;
}
