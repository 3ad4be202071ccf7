/*
 * build: host tool that assembles the bzImage from setup.bin and the
 * decompressor's flat binary, and fills in the header fields only the whole
 * image can know: setup_sects, syssize and init_size.
 *
 * Usage: build SETUP_BIN SYSTEM_BIN INIT_SIZE OUT
 *   INIT_SIZE: bytes the kernel needs from its load address before it has
 *   read the memory map (decompressor + placed kernel), decimal or 0x hex.
 */
#include <stdint.h>

#define HOST_TOOL "build"
#include "../../tools/host_file.h"

#define SECTOR 512
#define MIN_SETUP_SECTS 4   /* setup_sects 0 would mean 4 */
#define MAX_SETUP_SECTS 64  /* GRUB refuses more */

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

int main(int argc, char **argv)
{
	size_t setup_len, sys_len;

	if (argc != 5) {
		fprintf(stderr, "usage: build SETUP_BIN SYSTEM_BIN INIT_SIZE OUT\n");
		return 2;
	}
	unsigned char *setup = read_file(argv[1], &setup_len, (MAX_SETUP_SECTS + 1) * SECTOR);
	unsigned char *sys = read_file(argv[2], &sys_len, 16);
	unsigned long long init_size = parse_number(argv[3], "INIT_SIZE", 1, 0xffffffffULL);
	if (setup_len < 0x270 || setup[0x1fe] != 0x55 || setup[0x1ff] != 0xaa ||
	    memcmp(setup + 0x202, "HdrS", 4) != 0) {
		fprintf(stderr, "build: %s has no boot sector signature or HdrS header\n", argv[1]);
		return 1;
	}

	size_t sects = (setup_len + SECTOR - 1) / SECTOR; /* boot sector included */
	if (sects < MIN_SETUP_SECTS + 1)
		sects = MIN_SETUP_SECTS + 1;
	if (sects - 1 > MAX_SETUP_SECTS) {
		fprintf(stderr, "build: setup is %zu sectors, more than %d\n", sects - 1, MAX_SETUP_SECTS);
		return 1;
	}
	size_t sys_padded = (sys_len + 15) & ~(size_t)15;
	setup[0x1f1] = (unsigned char)(sects - 1);
	put_le(setup + 0x1f4, sys_padded / 16, 4);
	put_le(setup + 0x260, init_size, 4);

	FILE *out = fopen(argv[4], "wb");
	if (!out || fwrite(setup, 1, sects * SECTOR, out) != sects * SECTOR ||
	    fwrite(sys, 1, sys_padded, out) != sys_padded || fclose(out) != 0) {
		fprintf(stderr, "build: %s: write failed\n", argv[4]);
		return 1;
	}
	fprintf(stderr, "  bzImage: setup %zu sectors, system %zu bytes, init_size 0x%llx\n", sects - 1,
		sys_padded, init_size);
	free(setup);
	free(sys);
	return 0;
}
