# The IPv4 header checksum (RFC 1071) of a 20-byte header in the input,
# read as big-endian 16-bit words; a correct header sums to 0.
	r0 = 0x0
	if r2 < 0x14 goto out
	r3 = 0x0
loop:
	r4 = r1
	r4 += r3
	r5 = *(u16 *)(r4 + 0x0)
	r5 = be16 r5
	r0 += r5
	r3 += 0x2
	if r3 < 0x14 goto loop
	r4 = r0
	r4 >>= 0x10
	r0 &= 0xffff
	r0 += r4
	r4 = r0
	r4 >>= 0x10
	r0 += r4
	r0 ^= -0x1
	r0 &= 0xffff
out:
	exit
