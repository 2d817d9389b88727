/*
 * flowcount_native.c - flowcount.c's loop in C for gcc -O2: the same pseudo
 * flows (flowcount.h) counted in a static open-addressing table of
 * FC_MAX_ENTRIES slots, with the map's semantics: a lookup finds the entry
 * or none, an insert of a new key fails when the table is full.  The table
 * persists across calls, as the map does across runs.
 */
#include <stdint.h>
#include <string.h>

typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;

#include "flowcount.h"

struct slot {
	struct fc_key key;
	struct fc_value value;
	int used;
};

_Static_assert(sizeof(struct fc_key) == 2 * sizeof(uint64_t), "the key is two words");

static struct slot table[FC_MAX_ENTRIES];
static uint32_t entries;

/* The key as two 64-bit words, for hashing and comparing. */
static void key_words(const struct fc_key *k, uint64_t w[2])
{
	memcpy(w, k, 2 * sizeof(uint64_t));
}

/* A word-at-a-time hash (two independent multiplies, then mixed), as a C programmer would write. */
static uint32_t key_hash(const uint64_t w[2])
{
	uint64_t h = w[0] * 0x9e3779b97f4a7c15ull ^ w[1] * 0xc2b2ae3d27d4eb4full;

	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	return (uint32_t)(h ^ h >> 29);
}

/* The slot holding k, or NULL with *free_slot the first empty slot probed (NULL if full). */
static struct slot *lookup(const struct fc_key *k, struct slot **free_slot)
{
	uint64_t w[2], sw[2];
	uint32_t at;

	key_words(k, w);
	at = key_hash(w) & (FC_MAX_ENTRIES - 1);

	*free_slot = NULL;
	for (uint32_t n = 0; n < FC_MAX_ENTRIES; n++) {
		struct slot *s = &table[(at + n) & (FC_MAX_ENTRIES - 1)];

		if (!s->used) {
			*free_slot = s;
			return NULL;
		}
		key_words(&s->key, sw);
		if (sw[0] == w[0] && sw[1] == w[1])
			return s;
	}
	return NULL;
}

uint64_t flowcount_native(uint8_t *mem, uint64_t len);

uint64_t flowcount_native(uint8_t *mem, uint64_t len)
{
	uint32_t found = 0, hsum = 0;

	if (len < FC_LEN)
		return 0;
	for (uint32_t i = FC_FIRST; i < FC_FIRST + FC_FLOWS; i++) {
		struct fc_key key;
		struct slot *s, *free_slot;
		uint32_t h = fc_flow(mem, i);
		uint64_t bytes = mem[i + 2];

		fc_make_key(&key, h);
		s = lookup(&key, &free_slot);
		if (s) {
			s->value.packets++;
			s->value.bytes += bytes;
			found++;
			hsum += h;
		} else if (free_slot && entries < FC_MAX_ENTRIES) {
			free_slot->key = key;
			free_slot->value.packets = 1;
			free_slot->value.bytes = bytes;
			free_slot->used = 1;
			entries++;
		}
	}
	return found | (hsum & 0xffff) << 16;
}
