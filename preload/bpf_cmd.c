/*
 * bpf_cmd.c - bpf(cmd, attr, size) as Linux 6.18 answers it, on bpfvm:
 * the attribute checks (a tail beyond the kernel's union that is not zero
 * is E2BIG, a non-zero byte after the command's last field EINVAL), the
 * map commands here, programs, BTF and info in bpf_prog.c, links and
 * raw tracepoints here.  A command bpfvm does not serve gets the kernel's
 * answer to an unknown one, EINVAL, and is named under BPFVM_DEBUG.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "bpf_attr.h"
#include "preload.h"

#define BPF_PERF_EVENT_ATTACH 41   /* enum bpf_attach_type's BPF_PERF_EVENT */

static const char *const cmd_names[] = {
	"MAP_CREATE", "MAP_LOOKUP_ELEM", "MAP_UPDATE_ELEM", "MAP_DELETE_ELEM",
	"MAP_GET_NEXT_KEY", "PROG_LOAD", "OBJ_PIN", "OBJ_GET", "PROG_ATTACH", "PROG_DETACH",
	"PROG_TEST_RUN", "PROG_GET_NEXT_ID", "MAP_GET_NEXT_ID", "PROG_GET_FD_BY_ID",
	"MAP_GET_FD_BY_ID", "OBJ_GET_INFO_BY_FD", "PROG_QUERY", "RAW_TRACEPOINT_OPEN", "BTF_LOAD",
	"BTF_GET_FD_BY_ID", "TASK_FD_QUERY", "MAP_LOOKUP_AND_DELETE_ELEM", "MAP_FREEZE",
	"BTF_GET_NEXT_ID", "MAP_LOOKUP_BATCH", "MAP_LOOKUP_AND_DELETE_BATCH", "MAP_UPDATE_BATCH",
	"MAP_DELETE_BATCH", "LINK_CREATE", "LINK_UPDATE", "LINK_GET_FD_BY_ID", "LINK_GET_NEXT_ID",
	"ENABLE_STATS", "ITER_CREATE", "LINK_DETACH", "PROG_BIND_MAP", "TOKEN_CREATE",
	"PROG_STREAM_READ_BY_FD",
};

/* The kernel's CHECK_ATTR: every byte after the command's last field is zero. */
static bool tail_zero(const void *attr, size_t end)
{
	for (size_t i = end; i < PL_ATTR_SIZE; i++)
		if (((const uint8_t *)attr)[i])
			return false;
	return true;
}

/* The kernel's bpf_obj_name_cpy: NUL within 16, letters, digits, '_' and '.' only. */
static int name_ok(const char *name)
{
	size_t i = 0;

	for (; i < 16 && name[i]; i++)
		if (!(name[i] == '_' || name[i] == '.' || (name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9')))
			return -EINVAL;
	return i == 16 ? -EINVAL : 0;
}

static long map_create(void *attr)
{
	struct pl_attr_map_create *a = attr;
	struct pl_obj *inner = NULL, *btf, *o;
	struct pl *s = pl_state();
	char msg[256] = "";
	struct bpfvm_log log = { .buf = msg, .size = sizeof(msg) };
	struct bpfvm_map *map;
	int fd;

	if (!tail_zero(attr, PL_MAP_CREATE_END) || name_ok(a->map_name))
		return -EINVAL;
	if (a->inner_map_fd && !(inner = pl_obj_get((int)a->inner_map_fd, PL_MAP)))
		return -EBADF;
	BPFVM_OPTS(bpfvm_map_opts, mo, .name = a->map_name, .map_flags = a->map_flags,
		   .map_extra = a->map_extra, .inner_map = inner ? inner->map : NULL, .log = &log,
		   .kernel_only = true);
	map = bpfvm_map__new(s->vm, a->map_type, a->key_size, a->value_size, a->max_entries, &mo);
	if (!map) {
		int err = errno;

		pl_debug("MAP_CREATE %s (type %u): %s", a->map_name, a->map_type, msg);
		return -err;
	}
	pthread_mutex_lock(&s->lock);
	o = pl_obj_new(PL_MAP, a->map_name);
	pthread_mutex_unlock(&s->lock);
	if (!o)
		return -ENOMEM;
	o->map = map;
	o->map_type = a->map_type;
	memcpy(o->name, a->map_name, 16);
	if (a->btf_fd && (btf = pl_obj_get((int)a->btf_fd, PL_BTF)))
		o->btf_id = btf->id;
	o->btf_key_type_id = a->btf_key_type_id;
	o->btf_value_type_id = a->btf_value_type_id;
	o->map_extra = a->map_extra;
	if (bpfvm_map__mmap_fd(map) >= 0 && pl_obj_set_file(o, bpfvm_map__mmap_fd(map)))
		return -EMFILE;
	if (a->map_type == BPFVM_MAP_TYPE_PERF_EVENT_ARRAY) {
		o->slots = calloc(bpfvm_map__max_entries(map), sizeof(*o->slots));
		if (!o->slots)
			return -ENOMEM;
		bpfvm_map__set_perf_output(map, pl_perf_output, o);
	}
	if (bpfvm_map__kernel_only(map))
		pl_debug("map %s: type %u is created, but bpfvm cannot run programs that use it\n",
			 a->map_name, a->map_type);
	fd = pl_obj_fd(o);
	return fd;
}

/* Slots that hold objects: the value is a descriptor of the tool's. */
long pl_map_update_fd_slot(struct pl_obj *m, const void *key, const void *value, uint64_t flags)
{
	uint32_t type = bpfvm_map__type(m->map), idx, fd;
	struct pl_obj *o;

	memcpy(&fd, value, 4);
	switch (type) {
	case BPFVM_MAP_TYPE_PERF_EVENT_ARRAY:
		return pl_perf_array_update(m, key, value, flags);
	case BPFVM_MAP_TYPE_PROG_ARRAY:
		if (!(o = pl_obj_get((int)fd, PL_PROG)))
			return -EBADF;
		memcpy(&idx, key, 4);
		return bpfvm_map__set_prog(m->map, idx, o->prog);
	default:   /* maps of maps */
		if (!(o = pl_obj_get((int)fd, PL_MAP)))
			return -EBADF;
		return bpfvm_map__set_inner(m->map, key, o->map);
	}
}

static long map_elem(int cmd, void *attr)
{
	static const size_t ends[] = { [PL_MAP_LOOKUP_ELEM] = 32, [PL_MAP_UPDATE_ELEM] = 32,
				       [PL_MAP_DELETE_ELEM] = 32, [PL_MAP_GET_NEXT_KEY] = 24,
				       [PL_MAP_LOOKUP_AND_DELETE_ELEM] = 32 };
	struct pl_attr_elem *a = attr;
	struct pl_obj *m;
	uint32_t type;
	void *key = (void *)(uintptr_t)a->key, *value = (void *)(uintptr_t)a->value;

	if (!tail_zero(attr, ends[cmd]))
		return -EINVAL;
	if (!(m = pl_obj_get((int)a->map_fd, PL_MAP)))
		return -EBADF;
	type = bpfvm_map__type(m->map);
	switch (cmd) {
	case PL_MAP_LOOKUP_ELEM:
		return bpfvm_map__lookup_elem(m->map, key, value, a->flags);
	case PL_MAP_UPDATE_ELEM:
		if (type == BPFVM_MAP_TYPE_PERF_EVENT_ARRAY || type == BPFVM_MAP_TYPE_PROG_ARRAY ||
		    type == BPFVM_MAP_TYPE_ARRAY_OF_MAPS || type == BPFVM_MAP_TYPE_HASH_OF_MAPS)
			return pl_map_update_fd_slot(m, key, value, a->flags);
		return bpfvm_map__update_elem(m->map, key, value, a->flags);
	case PL_MAP_DELETE_ELEM:
		return bpfvm_map__delete_elem(m->map, key);
	case PL_MAP_GET_NEXT_KEY:
		return bpfvm_map__get_next_key(m->map, key, value);
	default:
		return bpfvm_map__lookup_and_delete_elem(m->map, key, value, a->flags);
	}
}

static long map_freeze(void *attr)
{
	struct pl_obj *m;
	uint32_t fd;

	memcpy(&fd, attr, 4);
	if (!tail_zero(attr, 4))
		return -EINVAL;
	if (!(m = pl_obj_get((int)fd, PL_MAP)))
		return -EBADF;
	return bpfvm_map__freeze(m->map);
}

/* A link: a program on a perf event (BPF_PERF_EVENT), or on a raw tracepoint. */
static long new_link(struct pl_obj *prog, struct pl_obj *perf, const char *where, uint32_t type)
{
	struct pl *s = pl_state();
	struct pl_obj *l;

	pthread_mutex_lock(&s->lock);
	if (s->started) {
		pthread_mutex_unlock(&s->lock);
		pl_debug("%s: attached after the session started: not run\n", where);
		return -EBUSY;
	}
	l = pl_obj_new(PL_LINK, prog->name);
	if (l) {
		l->link_prog = prog;
		l->link_perf = perf;
		l->attach_type = type;
		snprintf(l->where, sizeof(l->where), "%s", where);
	}
	pthread_mutex_unlock(&s->lock);
	return l ? pl_obj_fd(l) : -ENOMEM;
}

static long link_create(void *attr)
{
	struct pl_attr_link_create *a = attr;
	struct pl_obj *prog = pl_obj_get((int)a->prog_fd, PL_PROG), *perf;

	if (!prog)
		return -EBADF;
	if (a->attach_type != BPF_PERF_EVENT_ATTACH) {
		pl_debug("LINK_CREATE: attach type %u is not served by bpfvm\n", a->attach_type);
		return -EINVAL;
	}
	/* an invalid perf fd: EBADF, which libbpf's perf-link probe looks for */
	if (!(perf = pl_obj_get((int)a->target_fd, PL_PERF)))
		return -EBADF;
	if (perf->attached)
		return -EEXIST;
	perf->attached = prog;
	perf->enabled = true;
	return new_link(prog, perf, perf->where, a->attach_type);
}

static long raw_tp_open(void *attr)
{
	struct pl_attr_raw_tp *a = attr;
	struct pl_obj *prog;
	char where[160];

	if (!tail_zero(attr, 24))
		return -EINVAL;
	if (!(prog = pl_obj_get((int)a->prog_fd, PL_PROG)))
		return -EBADF;
	snprintf(where, sizeof(where), "raw_tracepoint/%s", (const char *)(uintptr_t)a->name);
	return new_link(prog, NULL, where, 0);
}

static long prog_bind_map(void *attr)
{
	uint32_t fds[2];

	memcpy(fds, attr, 8);
	if (!tail_zero(attr, 12))
		return -EINVAL;
	if (!pl_obj_get((int)fds[0], PL_PROG) || !pl_obj_get((int)fds[1], PL_MAP))
		return -EBADF;
	return 0;   /* a program holds its maps for as long as it lives already */
}

/*
 * BPF_OBJ_PIN and BPF_OBJ_GET within the session: a path in a bpf
 * file system names an object for as long as the tool runs (nothing is
 * written there); the kernel's errnos: EEXIST for a pinned path, ENOENT
 * for an unknown one or a missing directory, EPERM outside a bpffs.
 */
#define BPF_FS_MAGIC 0xcafe4a11

static int in_bpffs(const char *path)
{
	char dir[256];
	struct statfs st;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if (!(slash = strrchr(dir, '/')))
		return -EINVAL;
	slash[slash == dir] = '\0';
	if (statfs(dir, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC ? 0 : -EPERM;
}

static long obj_pin_get(int cmd, void *attr)
{
	struct pl *s = pl_state();
	const char *path;
	uint64_t upath;
	uint32_t fd;
	struct pl_obj *o = NULL;
	long ret = 0;
	size_t i;

	memcpy(&upath, attr, 8);
	memcpy(&fd, (char *)attr + 8, 4);
	if (!tail_zero(attr, 20) || !(path = (const char *)(uintptr_t)upath))
		return -EINVAL;
	if (strlen(path) >= sizeof(s->pins[0].path))
		return -ENAMETOOLONG;
	if ((ret = in_bpffs(path)))
		return ret;
	for (enum pl_kind k = PL_MAP; k <= PL_LINK && cmd == PL_OBJ_PIN && !o; k++)
		o = pl_obj_get((int)fd, k);
	if (cmd == PL_OBJ_PIN && !o)
		return -EBADF;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->npins && strcmp(s->pins[i].path, path); i++)
		;
	if (cmd == PL_OBJ_GET)
		o = i < s->npins ? s->pins[i].obj : NULL;
	else if (i < s->npins)
		ret = -EEXIST;
	else if (s->npins == PL_MAX_PINS)
		ret = -ENOSPC;
	else {
		snprintf(s->pins[s->npins].path, sizeof(s->pins[0].path), "%s", path);
		s->pins[s->npins++].obj = o;
	}
	pthread_mutex_unlock(&s->lock);
	if (cmd == PL_OBJ_GET)
		return o ? pl_obj_fd(o) : -ENOENT;
	return ret;
}

/*
 * *_GET_NEXT_ID and *_GET_FD_BY_ID over the session's own objects: the
 * kernel's other programs and maps, and its vmlinux and module BTF, are
 * not bpfvm's to list (libbpf then finds no module BTF and goes on).
 */
static long by_id(int cmd, void *attr)
{
	static const enum pl_kind kinds[] = {
		[PL_PROG_GET_NEXT_ID] = PL_PROG, [PL_MAP_GET_NEXT_ID] = PL_MAP,
		[PL_BTF_GET_NEXT_ID] = PL_BTF, [PL_LINK_GET_NEXT_ID] = PL_LINK,
		[PL_PROG_GET_FD_BY_ID] = PL_PROG, [PL_MAP_GET_FD_BY_ID] = PL_MAP,
		[PL_BTF_GET_FD_BY_ID] = PL_BTF, [PL_LINK_GET_FD_BY_ID] = PL_LINK,
	};
	struct pl *s = pl_state();
	uint32_t start, next = 0;
	struct pl_obj *o;

	memcpy(&start, attr, 4);
	if (!tail_zero(attr, 12))
		return -EINVAL;
	if (cmd == PL_PROG_GET_FD_BY_ID || cmd == PL_MAP_GET_FD_BY_ID ||
	    cmd == PL_BTF_GET_FD_BY_ID || cmd == PL_LINK_GET_FD_BY_ID)
		return (o = pl_obj_by_id(kinds[cmd], start)) ? pl_obj_fd(o) : -ENOENT;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nobjs; i++)
		if (s->objs[i]->kind == kinds[cmd] && s->objs[i]->id > start &&
		    (!next || s->objs[i]->id < next))
			next = s->objs[i]->id;
	pthread_mutex_unlock(&s->lock);
	if (!next)
		return -ENOENT;
	memcpy((char *)attr + 4, &next, 4);
	return 0;
}

static long dispatch(int cmd, void *attr)
{
	switch (cmd) {
	case PL_MAP_CREATE: return map_create(attr);
	case PL_MAP_LOOKUP_ELEM:
	case PL_MAP_UPDATE_ELEM:
	case PL_MAP_DELETE_ELEM:
	case PL_MAP_GET_NEXT_KEY:
	case PL_MAP_LOOKUP_AND_DELETE_ELEM: return map_elem(cmd, attr);
	case PL_MAP_FREEZE: return map_freeze(attr);
	case PL_MAP_LOOKUP_BATCH:
	case PL_MAP_LOOKUP_AND_DELETE_BATCH:
	case PL_MAP_UPDATE_BATCH:
	case PL_MAP_DELETE_BATCH: return pl_map_batch(cmd, attr);
	case PL_PROG_LOAD: return pl_prog_load(attr);
	case PL_BTF_LOAD: return pl_btf_load(attr);
	case PL_OBJ_GET_INFO_BY_FD: return pl_obj_info(attr);
	case PL_LINK_CREATE: return link_create(attr);
	case PL_RAW_TRACEPOINT_OPEN: return raw_tp_open(attr);
	case PL_PROG_BIND_MAP: return prog_bind_map(attr);
	case PL_OBJ_PIN:
	case PL_OBJ_GET: return obj_pin_get(cmd, attr);
	case PL_PROG_GET_NEXT_ID:
	case PL_MAP_GET_NEXT_ID:
	case PL_BTF_GET_NEXT_ID:
	case PL_LINK_GET_NEXT_ID:
	case PL_PROG_GET_FD_BY_ID:
	case PL_MAP_GET_FD_BY_ID:
	case PL_BTF_GET_FD_BY_ID:
	case PL_LINK_GET_FD_BY_ID: return by_id(cmd, attr);
	default:
		if (cmd >= 0 && (size_t)cmd < sizeof(cmd_names) / sizeof(cmd_names[0]))
			pl_debug("bpf(BPF_%s) is not served by bpfvm: EINVAL\n", cmd_names[cmd]);
		else
			pl_debug("bpf(%d): unknown command: EINVAL\n", cmd);
		return -EINVAL;
	}
}

long pl_bpf(int cmd, void *uattr, unsigned int size)
{
	uint64_t attr[PL_ATTR_SIZE / 8] = { 0 };

	if (!uattr && size)
		return -EFAULT;
	for (size_t i = PL_ATTR_SIZE; i < size; i++)
		if (((const uint8_t *)uattr)[i])
			return -E2BIG;
	memcpy(attr, uattr, size < PL_ATTR_SIZE ? size : PL_ATTR_SIZE);
	long ret = dispatch(cmd, attr);

	/* what the kernel writes back: log_true_size, info_len and the like */
	if (ret >= 0 || cmd == PL_PROG_LOAD || cmd == PL_BTF_LOAD ||
	    (cmd >= PL_MAP_LOOKUP_BATCH && cmd <= PL_MAP_DELETE_BATCH))
		memcpy(uattr, attr, size < PL_ATTR_SIZE ? size : PL_ATTR_SIZE);
	return ret;
}
