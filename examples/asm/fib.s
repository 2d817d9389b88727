# The 50th Fibonacci number, in a bounded loop.
	r1 = 0x0
	r2 = 0x1
	r3 = 0x32
loop:
	r4 = r1
	r4 += r2
	r1 = r2
	r2 = r4
	r3 += -0x1
	if r3 != 0x0 goto loop
	r0 = r1
	exit
