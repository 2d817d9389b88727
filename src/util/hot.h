/*
 * hot.h - the code of an event's path, kept together.  In process, an
 * attached system call returns to a cold cache: this VM's kernel leaves
 * the L1 and the TLB of user space empty at each return, so every code
 * page an event's path runs on costs a page walk and every line a fill.
 * Functions marked HOT go to .text.hot, which the linker lays out in one
 * place; HOT_TEXT is the same section for code written in assembly.
 */
#ifndef BPFVM_UTIL_HOT_H
#define BPFVM_UTIL_HOT_H

#define HOT __attribute__((hot))
#define HOT_TEXT ".pushsection .text.hot,\"ax\",@progbits\n"
#define HOT_TEXT_END ".popsection\n"

#endif
