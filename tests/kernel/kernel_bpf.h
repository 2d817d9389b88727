/*
 * kernel_bpf.h - the bpf() system call, for the tests and benchmarks that
 * compare bpfvm with the running kernel (tests/kernel/, tests/tools/,
 * bench/): the call itself, and the map creation and program loading they
 * all need.
 *
 * BPFVM_TEST_KERNEL_DENY makes these wrappers behave as a host kernel
 * that lacks features, so that the tests' handling of such a kernel can
 * itself be tested (tests/scripts/test_kernel_skips.sh).  It is a list of
 * helper:ID, map:TYPE, prog:TYPE and insn:OPCODE (numbers, 0x for hex),
 * separated by commas:
 *
 *   helper:54   a program calling helper 54 is refused as a kernel refuses
 *               a helper its program type lacks (EINVAL, and the verifier's
 *               "program of this type cannot use helper bpf_xdp_adjust_meta#54")
 *   map:33      creating a map of type 33 fails as for an unknown type (EINVAL)
 *   prog:6      loading a program of type 6 fails as for an unknown type
 *               (EINVAL, nothing in the log)
 *   insn:0xe5   a program holding an instruction of opcode 0xe5 (may_goto)
 *               is refused as by a kernel without it ("unknown opcode e5")
 */
#ifndef BPFVM_TESTS_KERNEL_BPF_H
#define BPFVM_TESTS_KERNEL_BPF_H

#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* The kernel's name of helper id ("bpf_xdp_adjust_meta"), as its verifier prints it. */
static inline const char *kernel_helper_name(int32_t id)
{
#define KERNEL_HELPER_NAME(x) "bpf_" #x
	static const char *const names[] = { __BPF_FUNC_MAPPER(KERNEL_HELPER_NAME) };
#undef KERNEL_HELPER_NAME

	return id >= 0 && (size_t)id < sizeof(names) / sizeof(names[0]) ? names[id] : "unknown";
}

/* Whether BPFVM_TEST_KERNEL_DENY names kind:id (kind "helper", "map", "prog" or "insn"). */
static inline bool kernel_denied(const char *kind, uint32_t id)
{
	const char *p = getenv("BPFVM_TEST_KERNEL_DENY");
	size_t klen = strlen(kind);

	while (p && *p) {
		char *end;

		if (!strncmp(p, kind, klen) && p[klen] == ':' &&
		    strtoul(p + klen + 1, &end, 0) == id && (*end == ',' || !*end))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/*
 * The simulated refusal of a program (see above): -EINVAL with the
 * kernel's words in log, or 0 when nothing it uses is denied.
 */
static inline int kernel_deny_prog(uint32_t type, const void *insns, size_t cnt, char *log,
				   size_t log_size)
{
	const struct bpf_insn *in = insns;

	if (kernel_denied("prog", type))
		return -EINVAL;
	for (size_t i = 0; i < cnt; i++) {
		if (kernel_denied("insn", in[i].code)) {
			if (log && log_size)
				snprintf(log, log_size, "unknown opcode %02x\nprocessed %zu insns (limit "
					 "1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
					 "mark_read 0\n", in[i].code, i + 1);
			return -EINVAL;
		}
		if (in[i].code != (BPF_JMP | BPF_CALL) || in[i].src_reg != 0 ||
		    !kernel_denied("helper", (uint32_t)in[i].imm))
			continue;
		if (log && log_size)
			snprintf(log, log_size, "%zu: (85) call %s#%d\n"
				 "program of this type cannot use helper %s#%d\n"
				 "processed %zu insns (limit 1000000) max_states_per_insn 0 "
				 "total_states 0 peak_states 0 mark_read 0\n", i,
				 kernel_helper_name(in[i].imm), in[i].imm,
				 kernel_helper_name(in[i].imm), in[i].imm, i + 1);
		return -EINVAL;
	}
	return 0;
}

/* A kernel map: its file descriptor, or -errno. */
static inline int kernel_map_create_inner(uint32_t type, uint32_t key_size, uint32_t value_size,
					  uint32_t max_entries, uint32_t flags, uint64_t extra,
					  int inner_fd)
{
	union bpf_attr a;
	long fd;

	if (kernel_denied("map", type))
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = key_size;
	a.value_size = value_size;
	a.max_entries = max_entries;
	a.map_flags = flags;
	a.map_extra = extra;
	a.inner_map_fd = inner_fd < 0 ? 0 : (uint32_t)inner_fd;
	fd = sys_bpf(BPF_MAP_CREATE, &a);
	return fd < 0 ? -errno : (int)fd;
}

static inline int kernel_map_create(uint32_t type, uint32_t key_size, uint32_t value_size,
				    uint32_t max_entries, uint32_t flags, uint64_t extra)
{
	return kernel_map_create_inner(type, key_size, value_size, max_entries, flags, extra, -1);
}

/*
 * Load cnt instructions (struct bpfvm_insn is struct bpf_insn, bit for
 * bit) as a GPL program of type, expected to attach as attach; with log,
 * the verifier's log at log_level into it.  The program's file
 * descriptor, or -errno.
 */
static inline int kernel_prog_load_as(uint32_t type, uint32_t attach, const void *insns,
				      size_t cnt, uint32_t prog_flags, uint32_t log_level,
				      char *log, size_t log_size)
{
	union bpf_attr a;
	long fd;
	int denied;

	if (log && log_size)
		log[0] = '\0';
	denied = kernel_deny_prog(type, insns, cnt, log, log_size);
	if (denied)
		return denied;
	memset(&a, 0, sizeof(a));
	a.prog_type = type;
	a.expected_attach_type = attach;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)cnt;
	a.license = (uint64_t)(uintptr_t)"GPL";
	a.prog_flags = prog_flags;
	if (log) {
		a.log_buf = (uint64_t)(uintptr_t)log;
		a.log_size = (uint32_t)log_size;
		a.log_level = log_level;
	}
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? -errno : (int)fd;
}

static inline int kernel_prog_load(uint32_t type, const void *insns, size_t cnt,
				   uint32_t prog_flags, uint32_t log_level, char *log,
				   size_t log_size)
{
	return kernel_prog_load_as(type, 0, insns, cnt, prog_flags, log_level, log, log_size);
}

#endif
