/*
 * crc32 - ALU-heavy with a long dependency chain: bitwise, branch-free
 * CRC-32 (the IEEE polynomial, reflected) of 512 bytes of payload.
 */
#include "bench_prog.h"

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint32_t crc = 0xffffffff;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t i = 0; i < 512; i++) {
		crc ^= mem[BENCH_PAYLOAD + i];
		for (uint32_t k = 0; k < 8; k++) {
			uint32_t low = crc & 1;

			/*
			 * The polynomial times the low bit, not masked by -low:
			 * clang turns -(crc & 1) into a shift left and an
			 * arithmetic shift right by 31, and for a mask in
			 * [-1, 0] the kernel's verifier (6.18) follows both
			 * values separately: 2^8 paths per byte, past its limit
			 * of 1,000,000 instructions.  The barrier keeps clang
			 * from turning the multiplication back into a mask.
			 */
			bench_opaque(low);
			crc = (crc >> 1) ^ (0xedb88320u * low);
		}
	}
	return ~crc;
}
