/*
 * crc32 - ALU-heavy with a long dependency chain: bitwise, branch-free
 * CRC-32 (the IEEE polynomial, reflected) of 512 bytes of payload.
 */
#include "bench_prog.h"

uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint32_t crc = 0xffffffff;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t i = 0; i < 512; i++) {
		crc ^= mem[BENCH_PAYLOAD + i];
		for (uint32_t k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}
