# Sum the bytes of the input: r1 points to it, r2 holds its length.
	r0 = 0x0
	if r2 == 0x0 goto done
loop:
	r3 = *(u8 *)(r1 + 0x0)
	r0 += r3
	r1 += 0x1
	r2 += -0x1
	if r2 != 0x0 goto loop
done:
	exit
