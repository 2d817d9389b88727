# A bpf-to-bpf call: sum r1..r5 in a sub-function, keep r6 across the call.
	r6 = 0x64
	r1 = 0x1
	r2 = 0x2
	r3 = 0x3
	r4 = 0x4
	r5 = 0x5
	call sum
	r0 += r6
	exit
sum:
	r0 = r1
	r0 += r2
	r0 += r3
	r0 += r4
	r0 += r5
	r6 = 0x0
	exit
