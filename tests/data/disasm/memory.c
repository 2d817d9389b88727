/*
 * memory.c - loads, stores and atomics for tests/scripts/test_disasm_llvm.sh:
 * every access width, stores of immediates, 64-bit constants and
 * relocated globals (lddw), struct copies, atomics of each kind and width
 * the -mcpu level allows.  The file-level asm adds what C does not make:
 * a code section whose first symbol is not at its start, a data symbol in
 * a code section, and a run of zero bytes.
 */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define SEC(name) __attribute__((section(name), used))

struct rec { u64 a; u32 b; u16 c; u8 d, e; u64 tail[4]; };

u64 counter;
u32 counter32;
struct rec records[4];
const char greeting[] = "hello";
static volatile u64 big = 0x1122334455667788ull;

SEC("kprobe/x") int stores(u64 *ctx)
{
	struct rec r = records[ctx[0] & 3];
	volatile u8 buf[16];

	buf[0] = 1;
	*(volatile u16 *)&buf[2] = 0x1234;
	*(volatile u32 *)&buf[4] = 0xdeadbeef;
	*(volatile u64 *)&buf[8] = -2;
	r.a += big;
	r.b = (u32)ctx[1];
	r.c = (u16)ctx[2];
	records[(ctx[0] + 1) & 3] = r;
	return buf[0] + buf[3] + greeting[ctx[3] & 3];
}

SEC("kprobe/y") int atomics(u64 *ctx)
{
	u64 v = ctx[0];

	__sync_fetch_and_add(&counter, v);
	__sync_fetch_and_add(&counter32, (u32)v);
#if __BPF_CPU_VERSION__ >= 3
	v += __sync_fetch_and_add(&counter, 1);
	v += __sync_fetch_and_or(&counter, 2);
	v += __sync_fetch_and_and(&counter, 3);
	v += __sync_fetch_and_xor(&counter, 4);
	__sync_fetch_and_or(&counter, 5);
	__sync_fetch_and_and(&counter, 6);
	__sync_fetch_and_xor(&counter, 7);
	v += __sync_lock_test_and_set(&counter, 8);
	v += __sync_val_compare_and_swap(&counter, 9, v);
	v += __sync_fetch_and_or(&counter32, 2);
	v += __sync_lock_test_and_set(&counter32, 8);
	v += __sync_val_compare_and_swap(&counter32, 9, (u32)v);
#endif
	return (int)v;
}

asm(".section .text.extra,\"ax\",@progbits\n"
    "\tr0 = 1\n"
    "\texit\n"
    ".globl later\n"
    ".type later,@function\n"
    "later:\n"
    "\tif r1 == 0 goto +2\n"
    "\tgoto -3\n"
    "\tr0 = 2\n"
    "\texit\n"
    ".type blob,@object\n"
    "blob:\n"
    "\t.quad 0x6867666564636261\n"
    "\t.byte 1, 2, 3\n"
    ".type after_blob,@function\n"
    "after_blob:\n"
    "\texit\n"
    "\t.quad 0, 0\n"
    "\texit\n");
