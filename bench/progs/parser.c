/*
 * parser - branch-heavy: a state machine that parses the HTTP request in
 * the payload (method, target, version, header names and values, body),
 * hashing names, summing the numbers in values and classifying body bytes.
 */
#include "bench_prog.h"

enum { S_METHOD, S_TARGET, S_VERSION, S_NAME, S_VALUE, S_BODY };

BENCH_MAIN uint64_t bench_main(uint8_t *mem, uint64_t len)
{
	uint32_t state = S_METHOD, lines = 0, headers = 0, upper = 0, spaces = 0;
	uint32_t segments = 0, params = 0, bad = 0, words = 0, vowels = 0;
	uint64_t number = 0, numbers = 0, name = 0, names = 0;

	if (len < BENCH_MEM_LEN)
		return 0;
	for (uint32_t i = BENCH_PAYLOAD; i < BENCH_MEM_LEN; i++) {
		uint8_t c = mem[i];

		if (c == '\r')
			continue;
		switch (state) {
		case S_METHOD:
			if (c == ' ')
				state = S_TARGET;
			else if (c < 'A' || c > 'Z')
				bad++;
			break;
		case S_TARGET:
			if (c == ' ')
				state = S_VERSION;
			else if (c == '/')
				segments++;
			else if (c == '?' || c == '&')
				params++;
			break;
		case S_VERSION:
			if (c == '\n') {
				state = S_NAME;
				lines++;
			}
			break;
		case S_NAME:
			if (c == ':') {
				state = S_VALUE;
				headers++;
				names += name;
				name = 0;
			} else if (c == '\n') {
				state = S_BODY; /* the empty line */
			} else {
				if (c >= 'A' && c <= 'Z')
					upper++;
				else if (!(c >= 'a' && c <= 'z') && c != '-')
					bad++;
				name = name * 31 + (c | 0x20);
			}
			break;
		case S_VALUE:
			if (c >= '0' && c <= '9') {
				number = number * 10 + (c - '0');
				break;
			}
			numbers += number;
			number = 0;
			if (c == '\n') {
				state = S_NAME;
				lines++;
			} else if (c == ' ') {
				spaces++;
			}
			break;
		default:
			if (c == ' ')
				words++;
			else if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u')
				vowels++;
			break;
		}
	}
	return names ^ numbers * 0x9e3779b1 ^
	       ((uint64_t)lines << 56 | (uint64_t)headers << 48 | (uint64_t)upper << 36 |
		(uint64_t)spaces << 28 | (uint64_t)(segments + params) << 24 |
		(uint64_t)bad << 20 | (uint64_t)words << 10 | vowels) ^ state;
}
