/*
 * strsearch - string work on the payload: counting CRLFs, a naive search
 * for the first header line's first 6 bytes (the needle comes from the
 * data, not from .rodata), and the common prefix of each line with the
 * line before it, strncmp-style.
 */
#include "bench_prog.h"

#define TEXT_LEN (BENCH_MEM_LEN - BENCH_PAYLOAD)
#define NEEDLE 6
#define PREFIX 32

uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	const uint8_t *text = mem + BENCH_PAYLOAD, *needle = text;
	uint32_t crlf = 0, found = 0, first = TEXT_LEN, common = 0, prev = 0;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t i = 0; i + 1 < TEXT_LEN; i++)
		if (text[i] == '\r' && text[i + 1] == '\n')
			crlf++;

	for (uint32_t i = 0; i < 256; i++) {
		if (text[i] == '\n') {
			needle = text + i + 1;
			break;
		}
	}
	for (uint32_t i = 0; i + NEEDLE <= TEXT_LEN; i++) {
		uint32_t j = 0;

		while (j < NEEDLE && text[i + j] == needle[j])
			j++;
		if (j == NEEDLE) {
			found++;
			if (first == TEXT_LEN)
				first = i;
		}
	}

	for (uint32_t i = 1; i + PREFIX <= TEXT_LEN; i++) {
		uint32_t j = 0;

		if (text[i - 1] != '\n')
			continue;
		while (j < PREFIX && text[prev + j] == text[i + j])
			j++;
		common += j;
		prev = i;
	}
	return (uint64_t)crlf << 48 | (uint64_t)found << 32 | (uint64_t)first << 16 | common;
}
