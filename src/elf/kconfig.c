/*
 * kconfig.c - extern variables and functions: the symbols an object uses
 * but does not define.  Those declared __kconfig live in the .kconfig map
 * and get their values at load: LINUX_KERNEL_VERSION (from uname), the
 * libbpf-provided LINUX_HAS_* facts, and CONFIG_* options (from the open
 * options' text, then /proc/config.gz, then /boot/config-RELEASE).  Those
 * declared __ksym name kernel symbols or functions, which user space does
 * not have: a program using one cannot load unless the extern is weak.
 */
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "obj.h"

/* The BTF VAR or FUNC an extern symbol is declared by, and its section. */
static uint32_t extern_btf(const struct bpfvm_object *obj, const char *name, const char **sec)
{
	for (uint32_t id = 1; id < btf_type_cnt(obj->btf); id++) {
		const struct btf_type *ds = btf_type(obj->btf, id);

		if (btf_kind(ds) != BTF_KIND_DATASEC)
			continue;
		for (unsigned i = 0; i < btf_vlen(ds); i++) {
			uint32_t v = btf_secinfos(ds)[i].type;

			if (!strcmp(btf_name(obj->btf, btf_type(obj->btf, v)), name)) {
				*sec = btf_name(obj->btf, ds);
				return v;
			}
		}
	}
	*sec = "";
	for (uint32_t id = 1; id < btf_type_cnt(obj->btf); id++) {
		const struct btf_type *t = btf_type(obj->btf, id);

		if (btf_kind(t) == BTF_KIND_FUNC && !strcmp(btf_name(obj->btf, t), name))
			return id;
	}
	return 0;
}

static int add_extern(struct bpfvm_object *obj, uint32_t sym_idx, uint32_t *kcfg_end)
{
	const struct osym *sym = &obj->syms[sym_idx];
	struct oextern e = { .sym = sym_idx, .weak = sym->bind == STB_WEAK };
	const char *sec;
	struct oextern *grown;
	int64_t size, align;

	if (!obj->btf) {
		obj_err(obj, "extern '%s': externs need BTF (compile with -g)\n", sym->name);
		return -EINVAL;
	}
	e.btf_type = extern_btf(obj, sym->name, &sec);
	if (!e.btf_type || (!*sec && btf_kind(btf_type(obj->btf, e.btf_type)) != BTF_KIND_FUNC)) {
		obj_err(obj, "unresolved symbol '%s': an extern that is neither __kconfig nor "
			     "__ksym, which nothing can provide (link the object that defines it)\n",
			sym->name);
		return -EINVAL;
	}
	e.is_func = btf_kind(btf_type(obj->btf, e.btf_type)) == BTF_KIND_FUNC;
	e.kind = !strcmp(sec, ".kconfig") ? OEXT_KCONFIG : OEXT_KSYM;
	if (e.kind == OEXT_KCONFIG) {
		size = btf_type_size(obj->btf, e.btf_type);
		align = btf_type_align(obj->btf, e.btf_type);
		if (size <= 0 || align <= 0 || size > 4096) {
			obj_err(obj, "extern (kconfig) '%s': its type has no usable size\n", sym->name);
			return -EINVAL;
		}
		e.size = (uint32_t)size;
		e.offset = (*kcfg_end + (uint32_t)align - 1) & ~((uint32_t)align - 1);
		*kcfg_end = e.offset + e.size;
	}
	if (!(e.name = strdup(sym->name)))
		return -ENOMEM;
	if (!(grown = realloc(obj->externs, (obj->nexterns + 1) * sizeof(*grown)))) {
		free(e.name);
		return -ENOMEM;
	}
	obj->externs = grown;
	grown[obj->nexterns++] = e;
	return 0;
}

int obj_collect_externs(struct bpfvm_object *obj)
{
	uint32_t end = 0;

	for (size_t i = 1; i < obj->nsyms; i++) {
		const struct osym *s = &obj->syms[i];
		int err;

		if (s->shndx != SHN_UNDEF || !s->name[0] || s->type == STT_SECTION ||
		    s->type == STT_FILE)
			continue;
		err = add_extern(obj, (uint32_t)i, &end);
		if (err)
			return err;
	}
	return 0;
}

/* ---- values ----------------------------------------------------------------- */

/* "6.18.44-fc" -> KERNEL_VERSION(6, 18, 44), with the kernel's clamp of the last part. */
static uint32_t kernel_version(void)
{
	struct utsname u;
	unsigned a = 0, b = 0, c = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	return (a << 16) + (b << 8) + (c > 255 ? 255 : c);
}

/* Find "NAME=value" in a config text; the value (without quotes handling), or NULL. */
static char *config_lookup_text(const char *text, const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name);

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > n && !strncmp(line, name, n) && line[n] == '=') {
			snprintf(out, outsz, "%.*s", (int)(len - n - 1), line + n + 1);
			return out;
		}
		if (len > 2 && line[0] == '#' && !strncmp(line + 2, name, n) &&
		    !strncmp(line + 2 + n, " is not set", 11)) {
			snprintf(out, outsz, "n");
			return out;
		}
		line = end ? end + 1 : NULL;
	}
	return NULL;
}

static char *config_lookup_file(const char *path, const char *name, char *out, size_t outsz)
{
	gzFile f = gzopen(path, "r");
	char line[1024];
	char *found = NULL;

	if (!f)
		return NULL;
	while (!found && gzgets(f, line, sizeof(line)))
		found = config_lookup_text(line, name, out, outsz);
	gzclose(f);
	if (found) {
		size_t l = strlen(out);
		if (l && out[l - 1] == '\n')
			out[l - 1] = '\0';
	}
	return found;
}

static char *config_value(const struct bpfvm_object *obj, const char *name, char *out, size_t n)
{
	struct utsname u;
	char path[512];

	if (obj->kconfig && config_lookup_text(obj->kconfig, name, out, n))
		return out;
	if (config_lookup_file("/proc/config.gz", name, out, n))
		return out;
	if (!uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		if (config_lookup_file(path, name, out, n))
			return out;
	}
	return NULL;
}

/* Store a textual value into an extern of its BTF type; 0 or -EINVAL (message logged). */
static int store_value(struct bpfvm_object *obj, const struct oextern *e, const char *val,
		       uint8_t *dst)
{
	const struct btf_type *t = btf_type(obj->btf, btf_skip_mods(obj->btf,
					    btf_type(obj->btf, e->btf_type)->type));
	bool tri = val[0] && !val[1] && strchr("ynm", val[0]);

	if (t && btf_kind(t) == BTF_KIND_ARRAY && val[0] == '"') {
		size_t len = strlen(val);

		if (len < 2 || val[len - 1] != '"' || len - 2 >= e->size)
			goto nofit;
		memcpy(dst, val + 1, len - 2);
		return 0;
	}
	if (t && btf_kind(t) == BTF_KIND_INT && (btf_int_encoding(t) & BTF_INT_BOOL) && tri) {
		if (val[0] == 'm')
			goto nofit;
		dst[0] = val[0] == 'y';
		return 0;
	}
	if (t && btf_kind(t) == BTF_KIND_INT && e->size == 1 && (btf_int_encoding(t) & BTF_INT_CHAR) && tri) {
		dst[0] = (uint8_t)val[0];
		return 0;
	}
	if (t && (btf_kind(t) == BTF_KIND_ENUM || btf_kind(t) == BTF_KIND_INT) && tri) {
		uint64_t v = val[0] == 'y' ? 1 : val[0] == 'm' ? 2 : 0;
		memcpy(dst, &v, e->size < 8 ? e->size : 8);
		return 0;
	}
	if (t && (btf_kind(t) == BTF_KIND_INT || btf_kind(t) == BTF_KIND_ENUM)) {
		char *end;
		bool sign = btf_kind(t) == BTF_KIND_INT && (btf_int_encoding(t) & BTF_INT_SIGNED);
		long long sv = strtoll(val, &end, 0);
		unsigned long long uv = (unsigned long long)sv;

		if (!*val || *end)
			goto nofit;
		if (e->size < 8 && (sign ? (sv < -(1ll << (e->size * 8 - 1)) || sv >= (1ll << (e->size * 8 - 1)))
					 : uv >> (e->size * 8)))
			goto nofit;
		memcpy(dst, &uv, e->size < 8 ? e->size : 8);
		return 0;
	}
nofit:
	obj_err(obj, "extern (kconfig) '%s': value '%s' does not fit its type (%u bytes)\n",
		e->name, val, e->size);
	return -EINVAL;
}

int obj_kconfig_fill(struct bpfvm_object *obj, uint8_t *data, size_t size)
{
	for (size_t i = 0; i < obj->nexterns; i++) {
		const struct oextern *e = &obj->externs[i];
		char val[512];
		const char *v = NULL;
		int err;

		if (e->kind != OEXT_KCONFIG || e->offset + (size_t)e->size > size)
			continue;
		if (!strcmp(e->name, "LINUX_KERNEL_VERSION"))
			snprintf(val, sizeof(val), "%u", kernel_version()), v = val;
		else if (!strcmp(e->name, "LINUX_HAS_BPF_COOKIE") ||
			 !strcmp(e->name, "LINUX_HAS_SYSCALL_WRAPPER"))
			v = "1";
		else if (!strncmp(e->name, "CONFIG_", 7))
			v = config_value(obj, e->name, val, sizeof(val));
		if (!v && e->weak)
			continue;
		if (!v) {
			obj_err(obj, "extern (kconfig) '%s': no value found (not a CONFIG_ option of "
				     "this kernel, nor one bpfvm provides)\n", e->name);
			return -EINVAL;
		}
		err = store_value(obj, e, v, data + e->offset);
		if (err)
			return err;
	}
	return 0;
}
