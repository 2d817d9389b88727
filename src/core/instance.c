/*
 * instance.c - the instance's list of programs.  Creating and destroying an
 * instance is execution's (vm/vm.c), which knows every layer it sets up.
 */
#include "instance.h"

#include "program.h"

void vm_add_prog(struct bpfvm *vm, struct bpfvm_prog *prog)
{
	prog->next = vm->progs;
	vm->progs = prog;
}

void vm_remove_prog(struct bpfvm *vm, struct bpfvm_prog *prog)
{
	for (struct bpfvm_prog **p = &vm->progs; *p; p = &(*p)->next) {
		if (*p == prog) {
			*p = prog->next;
			return;
		}
	}
}
