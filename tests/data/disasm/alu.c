/*
 * alu.c - arithmetic for tests/scripts/test_disasm_llvm.sh: 32- and
 * 64-bit ALU with immediates and registers, shifts, byte swaps, signed
 * division and sign-extending moves and loads (-mcpu=v4), negation.
 * Self-contained: compiled with clang-19 -target bpf -mcpu=v1..v4.
 */
typedef unsigned long long u64;
typedef long long s64;
typedef unsigned int u32;
typedef int s32;
typedef unsigned short u16;
typedef signed char s8;

#define SEC(name) __attribute__((section(name), used))

SEC("xdp") int arith(u64 *ctx)
{
	u64 a = ctx[0], b = ctx[1];
	u32 x = (u32)ctx[2], y = (u32)ctx[3] | 1;
	s64 s = (s64)ctx[4];

	a += b * 3 - (a >> 7);
	a ^= b << 13;
	a |= 0x123456789abcdefull;
	x = x * 7 + (x >> 3) - (y << 2);
	x &= 0xfff0;
	x = x / y + x % y;
	a = a / (b | 1) + a % 1000;
	s = s >> 5;
	s = -s;
#if __BPF_CPU_VERSION__ >= 4
	s = s / (s64)(b | 1) + s % -7;
	x = (u32)((s32)x / (s32)y);
#endif
	return (int)(a + x + (u64)s);
}

SEC("tc") int swaps(u64 *ctx)
{
	u64 v = ctx[0];
	u32 w = (u32)ctx[1];
	u16 h = (u16)ctx[2];

	v = __builtin_bswap64(v);
	w = __builtin_bswap32(w);
	h = __builtin_bswap16(h);
	return (int)(v + w + h);
}

SEC("tc") int extend(u64 *ctx)
{
	s8 c = *(volatile s8 *)ctx;
	short sh = *(volatile short *)((char *)ctx + 2);
	int i = *(volatile int *)((char *)ctx + 4);
	s64 r = c + sh + i;

	r += (s8)ctx[1] + (short)ctx[2] + (s32)ctx[3];
	return (int)(r >> 1);
}

/* The packet loads (ld_abs, ld_ind), as the classic socket filters use them. */
u64 load_byte(void *skb, u64 off) asm("llvm.bpf.load.byte");
u64 load_half(void *skb, u64 off) asm("llvm.bpf.load.half");
u64 load_word(void *skb, u64 off) asm("llvm.bpf.load.word");

SEC("socket") int packet(void *skb)
{
	u64 a = load_byte(skb, 12);
	u64 b = load_half(skb, 14);
	u64 c = load_word(skb, *(volatile u64 *)skb & 7);

	return (int)(a + b + c);
}
