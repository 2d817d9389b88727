/*
 * control.c - control flow for tests/scripts/test_disasm_llvm.sh:
 * conditional jumps of every kind, loops, a switch, bpf-to-bpf calls to
 * static and global functions, helper calls, a long straight run inside
 * a branch, and a bounded loop through may_goto (-mcpu=v4).
 */
typedef unsigned long long u64;
typedef long long s64;
typedef unsigned int u32;
typedef int s32;

#define SEC(name) __attribute__((section(name), used))

static long (*trace)(const char *fmt, u32 size, ...) = (void *)6;
static u64 (*ktime)(void) = (void *)5;

static __attribute__((noinline)) s64 clamp(s64 v, s64 lo, s64 hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return v;
}

__attribute__((noinline)) int global_fn(u32 a, s32 b)
{
	int r = 0;

	if (a >= 10) r += 1;
	if (a <= 20) r += 2;
	if (b < -3) r += 4;
	if (b >= -7) r += 8;
	if ((a & 0x30) != 0) r += 16;
	if ((s32)a > b) r += 32;
	return r;
}

SEC("xdp") int branches(u64 *ctx)
{
	u64 t = ktime();
	s64 acc = 0;

	for (int i = 0; i < 16; i++) {
		if (ctx[i & 3] == t)
			break;
		acc += clamp((s64)ctx[i & 3], -100, 100);
	}
	switch (ctx[0] & 7) {
	case 0: acc += 3; break;
	case 1: acc *= 5; break;
	case 2: acc -= global_fn((u32)t, -5); break;
	case 5: acc ^= 0x55; break;
	default: acc = 0;
	}
	{
		char fmt[] = "acc %lld";
		trace(fmt, sizeof(fmt), acc);
	}
	return (int)acc;
}

#define R(x) x x x x x x x x
SEC("tc") int long_jump(u64 *ctx)
{
	u64 v = ctx[0];

	if (v == 12345) {
		R(R(R(v = v * 3 + 1; v ^= v >> 3;)))
	}
	return (int)v;
}

#if __BPF_CPU_VERSION__ >= 4
SEC("tc") int bounded(u64 *ctx)
{
	u64 v = 0;

	for (;;) {
		asm volatile goto("may_goto %l[out]" :::: out);
		v += ctx[v & 3];
		if (v > 1000)
			break;
	}
out:
	return (int)v;
}
#endif
