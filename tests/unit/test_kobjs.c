/*
 * test_kobjs.c - the kernel objects hooks/kobjs.c lays out per this
 * kernel's BTF (/sys/kernel/btf/vmlinux): a thread's task_struct with its
 * group leader and its parents up to the idle task, each read at the
 * offsets the BTF gives (found here by a walk of the top-level members,
 * independently of kobjs.c's), its cred; a parent that cannot be read
 * ends the chain with NULL; nsproxy->mnt_ns->ns.inum (mountsnoop's
 * MNT_NS); struct filename's name; which addresses are
 * the event's objects.  Under ASan, freeing the event leaves no leak.
 */
#include <errno.h>
#include <string.h>

#include "../../src/btf/btf.h"
#include "../../src/hooks/kobjs.h"
#include "btf_member.h"
#include "test.h"

#define VMLINUX "/sys/kernel/btf/vmlinux"

/* A fake /proc: 300 a thread of 200, child of 100, child of 1; 666 is gone. */
static int facts(void *ctx, int32_t tid, struct hook_task_facts *f)
{
	int *asked = ctx;

	(*asked)++;
	memset(f, 0, sizeof(*f));
	f->pid = tid;
	switch (tid) {
	case 300: f->tgid = 200; f->ppid = 100; break;
	case 200: f->tgid = 200; f->ppid = 100; break;
	case 100: f->tgid = 100; f->ppid = 1; break;
	case 1: f->tgid = 1; f->ppid = 0; break;
	case 400: f->tgid = 400; f->ppid = 666; break;
	default: return -ESRCH;
	}
	snprintf(f->comm, sizeof(f->comm), "task%d", (int)tid);
	f->uid = 1000 + (uint32_t)tid;
	f->egid = 2000 + (uint32_t)tid;
	f->flags = 0x400040;
	f->has_mm = true;
	f->mnt_ns = 4026531841u + (uint32_t)tid;
	return 0;
}

static long offset_of(const struct btf *btf, const char *name, const char *member)
{
	return btf_member_offset(btf, name, member);
}

static uint32_t u32_at(uint64_t obj, long off)
{
	uint32_t v;

	memcpy(&v, (const void *)(uintptr_t)(obj + (uint64_t)off), 4);
	return v;
}

static uint64_t ptr_at(uint64_t obj, long off)
{
	uint64_t v;

	memcpy(&v, (const void *)(uintptr_t)(obj + (uint64_t)off), 8);
	return v;
}

TEST(task_struct_chain_per_btf)
{
	struct btf *btf = btf_load_file(VMLINUX, NULL);
	struct hook_kobj_layout *l = btf ? hook_kobj_layout_new(btf, NULL) : NULL;
	long pid, tgid, comm, parent, real_parent, leader, cred, uid, egid, name;
	long nsproxy, mnt_ns, ns, inum;
	struct hook_kobjs *k;
	uint64_t t, p, c, fn;
	int asked = 0;

	if (!btf) {
		printf("SKIP %s: %s cannot be read\n", test_current_name(), VMLINUX);
		return;
	}
	CHECK(l != NULL);
	pid = offset_of(btf, "task_struct", "pid");
	tgid = offset_of(btf, "task_struct", "tgid");
	comm = offset_of(btf, "task_struct", "comm");
	parent = offset_of(btf, "task_struct", "parent");
	real_parent = offset_of(btf, "task_struct", "real_parent");
	leader = offset_of(btf, "task_struct", "group_leader");
	cred = offset_of(btf, "task_struct", "cred");
	uid = offset_of(btf, "cred", "uid");
	egid = offset_of(btf, "cred", "egid");
	name = offset_of(btf, "filename", "name");
	nsproxy = offset_of(btf, "task_struct", "nsproxy");
	mnt_ns = offset_of(btf, "nsproxy", "mnt_ns");
	ns = offset_of(btf, "mnt_namespace", "ns");
	inum = offset_of(btf, "ns_common", "inum");
	btf_free(btf);
	CHECK(pid > 0 && tgid > 0 && comm > 0 && real_parent > 0 && leader > 0 && cred > 0);
	k = hook_kobjs_new(l, facts, &asked);
	CHECK(k != NULL);
	t = hook_kobj_task(k, 300);
	CHECK(t != 0);
	CHECK_EQ_U64(u32_at(t, pid), 300);
	CHECK_EQ_U64(u32_at(t, tgid), 200);
	CHECK(!strcmp((const char *)(uintptr_t)(t + (uint64_t)comm), "task300"));
	CHECK_EQ_U64(u32_at(ptr_at(t, leader), pid), 200);
	c = ptr_at(t, cred);
	CHECK_EQ_U64(u32_at(c, uid), 1300);
	CHECK_EQ_U64(u32_at(c, egid), 2300);
	CHECK(nsproxy > 0 && mnt_ns >= 0 && ns >= 0 && inum > 0);
	CHECK_EQ_U64(u32_at(ptr_at(ptr_at(t, nsproxy), mnt_ns), ns + inum), 4026532141u);
	/* 300's and 200's parent is the same task, 100; then 1, then the idle task, its own parent */
	p = ptr_at(t, real_parent);
	CHECK_EQ_U64(p, ptr_at(ptr_at(t, leader), real_parent));
	CHECK_EQ_U64(p, ptr_at(t, parent));
	CHECK_EQ_U64(u32_at(p, pid), 100);
	p = ptr_at(p, real_parent);
	CHECK_EQ_U64(u32_at(p, pid), 1);
	p = ptr_at(p, real_parent);
	CHECK_EQ_U64(u32_at(p, pid), 0);
	CHECK(!strcmp((const char *)(uintptr_t)(p + (uint64_t)comm), "swapper/0"));
	CHECK_EQ_U64(ptr_at(p, real_parent), p);
	/* laid out once per event: asked for 300, 200, 100 and 1 only */
	CHECK_EQ_U64(hook_kobj_task(k, 300), t);
	CHECK_EQ_INT(asked, 4);
	/* a parent that is gone ends the chain */
	t = hook_kobj_task(k, 400);
	CHECK(t != 0 && ptr_at(t, real_parent) == 0);
	CHECK(hook_kobjs_contain(k, t + (uint64_t)pid, 4));
	CHECK(!hook_kobjs_contain(k, (uint64_t)(uintptr_t)&asked, 4));
	fn = hook_kobj_filename(k, "/tmp/x", 0x1234);
	CHECK(fn != 0 && !strcmp((const char *)(uintptr_t)ptr_at(fn, name), "/tmp/x"));
	CHECK(hook_kobjs_contain(k, ptr_at(fn, name), 7));
	hook_kobjs_free(k);
	hook_kobj_layout_free(l);
}

TEST_MAIN()
