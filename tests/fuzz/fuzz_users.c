/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_users.c - a line of the [http] users file
 * (gw_user_parse): NAME:ROLE:$pbkdf2-sha256$ITER$SALT$HASH.  Invariants:
 * no crash, no read past the line; a line taken has a good name (1..32
 * printable characters, no ':'), a role of read or admin, an iteration
 * count within its bounds and a salt of 8..64 bytes; a line refused says
 * why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/web/users.h"
#include "fuzzin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_text(data, size);
	if (!s)
		return 0;
	struct gw_user u;
	char why[200] = "";
	int rc = gw_user_parse(s, &u, why, sizeof(why));
	if (rc == 0 && (gw_user_name_bad(u.name) || (u.role != GW_ROLE_READ && u.role != GW_ROLE_ADMIN) ||
			u.iter < GW_PBKDF2_ITER_MIN || u.iter > GW_PBKDF2_ITER_MAX || u.salt_len < 8 ||
			u.salt_len > GW_SALT_MAX))
		abort();
	if (rc < 0 && !why[0])
		abort();
	free(s);
	return 0;
}
