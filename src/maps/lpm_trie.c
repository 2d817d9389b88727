/*
 * lpm_trie.c - BPF_MAP_TYPE_LPM_TRIE: longest-prefix match over keys
 * { u32 prefixlen; u8 data[]; } (struct bpf_lpm_trie_key_u8), the
 * kernel's semantics: a path-compressed binary trie whose nodes are
 * either entries or "intermediate" nodes (exactly two children, no
 * value) created where two prefixes diverge; a lookup returns the value
 * of the longest matching entry; get_next_key walks entries in postorder,
 * more specific prefixes before less specific ones; a full trie refuses a
 * new prefix with -ENOSPC.  The data bits beyond a key's prefixlen are
 * stored as given, as the kernel stores them.
 *
 * Nodes come from a slab of 2 * max_entries (entries, plus at most one
 * intermediate node per entry).  One lock serializes everything; the
 * value pointer a lookup hands out stays inside the slab.
 */
#include "map.h"

#include <errno.h>
#include <stdlib.h>

#define LPM_DATA_SIZE_MAX 256
#define LPM_KEY_SIZE_MIN (4 + 1)
#define LPM_KEY_SIZE_MAX (4 + LPM_DATA_SIZE_MAX)
#define LPM_NODE_HDR 24u   /* sizeof(struct lpm_node) */
#define LPM_VAL_SIZE_MAX (MAP_KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - 40)  /* kernel: minus its node */
#define LPM_CREATE_FLAG_MASK (BPFVM_F_NO_PREALLOC | BPFVM_F_NUMA_NODE | MAP_F_ACCESS_MASK)
#define LPM_IM 1u          /* intermediate: no value, two children */

struct lpm_node {
	struct lpm_node *child[2];
	uint32_t prefixlen;
	uint32_t flags;
	uint8_t data[];    /* data_size bytes; the value at lpm->value_off */
};

struct lpm_trie {
	struct bpfvm_map map;
	uint32_t lock;
	struct lpm_node *root;
	uint32_t data_size, max_prefixlen;
	uint32_t node_size, value_off;
	uint32_t n_entries;
	char *slab;
	uint64_t slab_size;
	uint32_t capacity, bump;
	struct lpm_node *free;
};

static struct lpm_trie *to_trie(const struct bpfvm_map *map)
{
	return (struct lpm_trie *)map;
}

static int lpm_alloc(struct bpfvm_map *map, struct bpfvm_log *log)
{
	struct lpm_trie *t = to_trie(map);

	if (map->max_entries == 0 || !(map->map_flags & BPFVM_F_NO_PREALLOC) ||
	    (map->map_flags & ~LPM_CREATE_FLAG_MASK) || !map_flags_access_ok(map->map_flags) ||
	    map->key_size < LPM_KEY_SIZE_MIN || map->key_size > LPM_KEY_SIZE_MAX ||
	    map->value_size < 1 || map->value_size > LPM_VAL_SIZE_MAX) {
		log_printf(log, "LPM tries need BPF_F_NO_PREALLOC, key_size 5..260 (u32 prefixlen "
				"and data), value_size > 0, max_entries > 0\n");
		return -EINVAL;
	}
	t->data_size = map->key_size - 4;
	t->max_prefixlen = t->data_size * 8;
	t->value_off = LPM_NODE_HDR + ((t->data_size + 7) & ~7u);
	t->node_size = t->value_off + map->value_stride;
	t->capacity = map->max_entries <= UINT32_MAX / 2 ? map->max_entries * 2 : UINT32_MAX;
	t->slab_size = (uint64_t)t->capacity * t->node_size;
	t->slab = map_area_alloc(map, t->slab_size, false);
	if (!t->slab) {
		log_printf(log, "cannot allocate %llu bytes of nodes\n",
			   (unsigned long long)t->slab_size);
		return -ENOMEM;
	}
	return 0;
}

static void lpm_free(struct bpfvm_map *map)
{
	map_area_free(map, to_trie(map)->slab, to_trie(map)->slab_size);
}

static struct lpm_node *node_alloc(struct lpm_trie *t, const void *value)
{
	struct lpm_node *n = t->free;

	if (n)
		t->free = n->child[0];
	else if (t->bump < t->capacity)
		n = (struct lpm_node *)(t->slab + (uint64_t)t->bump++ * t->node_size);
	else
		return NULL;
	n->child[0] = n->child[1] = NULL;
	n->flags = 0;
	if (value)
		map_copy_value(&t->map, (char *)n + t->value_off, value);
	return n;
}

static void node_free(struct lpm_trie *t, struct lpm_node *n)
{
	if (!n)
		return;
	n->child[0] = t->free;
	t->free = n;
}

static inline unsigned extract_bit(const uint8_t *data, uint32_t index)
{
	return (data[index / 8] >> (7 - index % 8)) & 1;
}

/* Leading bits node and key share, up to the shorter of their prefixes. */
static uint32_t prefix_match(const struct lpm_trie *t, const struct lpm_node *node,
			     uint32_t key_plen, const uint8_t *key_data)
{
	uint32_t limit = node->prefixlen < key_plen ? node->prefixlen : key_plen, n = 0;

	(void)t;
	for (uint32_t i = 0; n < limit; i++) {
		uint8_t diff = node->data[i] ^ key_data[i];

		if (diff) {
			n += (uint32_t)__builtin_clz((uint32_t)diff << 24);
			break;
		}
		n += 8;
	}
	return n < limit ? n : limit;
}

static void *lpm_lookup(struct bpfvm_map *map, const void *key, int cpu)
{
	struct lpm_trie *t = to_trie(map);
	const uint8_t *data = (const uint8_t *)key + 4;
	struct lpm_node *node, *found = NULL;
	uint32_t plen;

	(void)cpu;
	memcpy(&plen, key, 4);
	if (plen > t->max_prefixlen)
		return NULL;
	map_lock(&t->lock);
	for (node = t->root; node;) {
		uint32_t m = prefix_match(t, node, plen, data);

		if (m == t->max_prefixlen) {
			found = node;
			break;
		}
		if (m < node->prefixlen)
			break;
		if (!(node->flags & LPM_IM))
			found = node;
		node = node->child[extract_bit(data, node->prefixlen)];
	}
	map_unlock(&t->lock);
	return found ? (char *)found + t->value_off : NULL;
}

/* Room for one more entry, as trie_check_add_elem() decides. */
static int check_add(struct lpm_trie *t, uint64_t flags)
{
	if (flags == BPFVM_EXIST)
		return -ENOENT;
	if (t->n_entries == t->map.max_entries)
		return -ENOSPC;
	t->n_entries++;
	return 0;
}

/* Where a new node for key goes, under the lock; fills the node on that slot. */
static struct lpm_node **find_slot(struct lpm_trie *t, uint32_t plen, const uint8_t *data,
				   struct lpm_node **node_out, uint32_t *match_out)
{
	struct lpm_node **slot = &t->root, *node;
	uint32_t m = 0;

	while ((node = *slot)) {
		m = prefix_match(t, node, plen, data);
		if (node->prefixlen != m || node->prefixlen == plen || node->prefixlen == t->max_prefixlen)
			break;
		slot = &node->child[extract_bit(data, node->prefixlen)];
	}
	*node_out = node;
	*match_out = m;
	return slot;
}

static int insert_locked(struct lpm_trie *t, struct lpm_node *new_node, uint64_t flags,
			 struct lpm_node **garbage)
{
	uint32_t plen = new_node->prefixlen, m;
	struct lpm_node *node, *im, **slot = find_slot(t, plen, new_node->data, &node, &m);
	int err;

	if (!node)
		return (err = check_add(t, flags)) ? err : (*slot = new_node, 0);
	if (node->prefixlen == m) {   /* the same prefix: replace the node */
		if (!(node->flags & LPM_IM) && flags == BPFVM_NOEXIST)
			return -EEXIST;
		if ((node->flags & LPM_IM) && (err = check_add(t, flags)))
			return err;
		new_node->child[0] = node->child[0];
		new_node->child[1] = node->child[1];
		*slot = new_node;
		*garbage = node;
		return 0;
	}
	if ((err = check_add(t, flags)))
		return err;
	if (m == plen) {   /* new_node is a prefix of node: it goes above */
		new_node->child[extract_bit(node->data, m)] = node;
		*slot = new_node;
		return 0;
	}
	im = node_alloc(t, NULL);
	if (!im) {
		t->n_entries--;
		return -ENOMEM;
	}
	im->prefixlen = m;
	im->flags = LPM_IM;
	memcpy(im->data, node->data, t->data_size);
	im->child[extract_bit(new_node->data, m)] = new_node;
	im->child[!extract_bit(new_node->data, m)] = node;
	*slot = im;
	return 0;
}

static long lpm_update(struct bpfvm_map *map, const void *key, const void *value, uint64_t flags,
		       int cpu)
{
	struct lpm_trie *t = to_trie(map);
	struct lpm_node *new_node, *garbage = NULL;
	uint32_t plen;
	int err;

	(void)cpu;
	memcpy(&plen, key, 4);
	if (flags > BPFVM_EXIST || plen > t->max_prefixlen)
		return -EINVAL;
	map_lock(&t->lock);
	new_node = node_alloc(t, value);
	if (!new_node) {
		map_unlock(&t->lock);
		return -ENOMEM;
	}
	new_node->prefixlen = plen;
	memcpy(new_node->data, (const uint8_t *)key + 4, t->data_size);
	err = insert_locked(t, new_node, flags, &garbage);
	if (err)
		node_free(t, new_node);
	node_free(t, garbage);
	map_unlock(&t->lock);
	return err;
}

static int delete_locked(struct lpm_trie *t, uint32_t plen, const uint8_t *data)
{
	struct lpm_node **trim = &t->root, **trim2 = trim, *node, *parent = NULL;
	uint32_t m = 0;

	while ((node = *trim)) {
		m = prefix_match(t, node, plen, data);
		if (node->prefixlen != m || node->prefixlen == plen)
			break;
		parent = node;
		trim2 = trim;
		trim = &node->child[extract_bit(data, node->prefixlen)];
	}
	if (!node || node->prefixlen != plen || node->prefixlen != m || (node->flags & LPM_IM))
		return -ENOENT;
	t->n_entries--;
	if (node->child[0] && node->child[1]) {   /* still needed where it is */
		node->flags |= LPM_IM;
		return 0;
	}
	if (parent && (parent->flags & LPM_IM) && !node->child[0] && !node->child[1]) {
		/* The parent only joined node and its sibling: the sibling takes its place. */
		*trim2 = parent->child[node == parent->child[0]];
		node_free(t, parent);
		node_free(t, node);
		return 0;
	}
	*trim = node->child[0] ? node->child[0] : node->child[1];
	node_free(t, node);
	return 0;
}

static long lpm_delete(struct bpfvm_map *map, const void *key)
{
	struct lpm_trie *t = to_trie(map);
	uint32_t plen;
	int err;

	memcpy(&plen, key, 4);
	if (plen > t->max_prefixlen)
		return -EINVAL;
	map_lock(&t->lock);
	err = delete_locked(t, plen, (const uint8_t *)key + 4);
	map_unlock(&t->lock);
	return err;
}

/* The leftmost entry under root (every intermediate node has two children). */
static struct lpm_node *leftmost(struct lpm_node *node)
{
	struct lpm_node *found = NULL;

	while (node) {
		if (node->flags & LPM_IM) {
			node = node->child[0];
		} else {
			found = node;
			node = node->child[0] ? node->child[0] : found->child[1];
		}
	}
	return found;
}

/* Postorder successor of key's entry; the first entry when key is missing. */
static struct lpm_node *next_locked(struct lpm_trie *t, const void *key, struct lpm_node **stack)
{
	const uint8_t *data = key ? (const uint8_t *)key + 4 : NULL;
	struct lpm_node *node;
	uint32_t plen = 0, m = 0;
	int sp = -1;

	if (key)
		memcpy(&plen, key, 4);
	if (!key || plen > t->max_prefixlen)
		return leftmost(t->root);
	for (node = t->root; node;) {
		stack[++sp] = node;
		m = prefix_match(t, node, plen, data);
		if (node->prefixlen != m || node->prefixlen == plen)
			break;
		node = node->child[extract_bit(data, node->prefixlen)];
	}
	if (!node || node->prefixlen != m || (node->flags & LPM_IM))
		return leftmost(t->root);
	for (node = stack[sp]; sp > 0; sp--) {
		struct lpm_node *parent = stack[sp - 1];

		if (parent->child[0] == node && parent->child[1])
			return leftmost(parent->child[1]);
		if (!(parent->flags & LPM_IM))
			return parent;
		node = parent;
	}
	return NULL;
}

static int lpm_get_next_key(struct bpfvm_map *map, const void *key, void *next_key)
{
	struct lpm_trie *t = to_trie(map);
	struct lpm_node **stack = malloc(sizeof(*stack) * (t->max_prefixlen + 2)), *next;

	if (!stack)
		return -ENOMEM;
	map_lock(&t->lock);
	next = t->root ? next_locked(t, key, stack) : NULL;
	if (next) {
		memcpy(next_key, &next->prefixlen, 4);
		memcpy((uint8_t *)next_key + 4, next->data, t->data_size);
	}
	map_unlock(&t->lock);
	free(stack);
	return next ? 0 : -ENOENT;
}

static bool lpm_owns(const struct bpfvm_map *map, uintptr_t addr, uint64_t size)
{
	const struct lpm_trie *t = to_trie(map);
	uintptr_t base = (uintptr_t)t->slab;
	uint64_t off;

	if (addr < base || addr - base >= t->slab_size)
		return false;
	off = (addr - base) % t->node_size;
	return off >= t->value_off && off - t->value_off + size <= map->value_size;
}

const struct map_ops lpm_trie_map_ops = {
	.obj_size = sizeof(struct lpm_trie),
	.alloc = lpm_alloc,
	.free = lpm_free,
	.lookup = lpm_lookup,
	.update = lpm_update,
	.delete = lpm_delete,
	.get_next_key = lpm_get_next_key,
	.owns = lpm_owns,
};
