/*
 * syscalls.c - lookups in the x86-64 system call table (syscalls_x86_64.def).
 */
#include <bpfvm/syscalls.h>

#include <stddef.h>
#include <string.h>

struct syscall_row {
	int nr;
	const char *name;
};

static const struct syscall_row rows[] = {
#define SYSCALL(NR, NAME, ...) { NR, #NAME },
#include "syscalls_x86_64.def"
#undef SYSCALL
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

int bpfvm_syscall_x86_64_nr(const char *name)
{
	for (size_t i = 0; name && i < NROWS; i++)
		if (!strcmp(rows[i].name, name))
			return rows[i].nr;
	return -1;
}

const char *bpfvm_syscall_x86_64_name(int nr)
{
	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].nr == nr)
			return rows[i].name;
	return NULL;
}

int bpfvm_syscall_x86_64_max(void)
{
	int max = -1;

	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].nr > max)
			max = rows[i].nr;
	return max + 1;
}
