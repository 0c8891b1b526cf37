/* SPDX-License-Identifier: MIT */
/* tests/tools/mbread.c - read holding registers with libmodbus (a real
 * Modbus client for the integration tests).
 *   mbread HOST PORT UNIT ADDR COUNT
 * prints "ok r0 r1 ..." or "exception 0xNN", or "error TEXT"; exit 0/3/1. */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: mbread HOST PORT UNIT ADDR COUNT\n");
		return 2;
	}
	modbus_t *mb = modbus_new_tcp(argv[1], atoi(argv[2]));
	if (!mb || modbus_connect(mb) < 0) {
		printf("error connect: %s\n", modbus_strerror(errno));
		return 1;
	}
	modbus_set_slave(mb, atoi(argv[3]));
	modbus_set_response_timeout(mb, 2, 0);
	int count = atoi(argv[5]);
	uint16_t regs[MODBUS_MAX_READ_REGISTERS + 10];
	if (count > MODBUS_MAX_READ_REGISTERS + 1 || count < 0)
		count = MODBUS_MAX_READ_REGISTERS + 1;
	int rc = modbus_read_registers(mb, atoi(argv[4]), count, regs);
	if (rc < 0) {
		int e = errno;
		if (e > MODBUS_ENOBASE && e < MODBUS_ENOBASE + 20) {
			printf("exception 0x%02x\n", e - MODBUS_ENOBASE);
			rc = 3;
		} else {
			printf("error %s\n", modbus_strerror(e));
			rc = 1;
		}
	} else {
		printf("ok");
		for (int i = 0; i < rc; i++)
			printf(" %u", regs[i]);
		printf("\n");
		rc = 0;
	}
	modbus_close(mb);
	modbus_free(mb);
	return rc;
}
