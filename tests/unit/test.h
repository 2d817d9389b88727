/*
 * test.h - the unit tests' framework: a test is a function, a check that
 * fails says where and what, and main() prints one line per test and a
 * closing count that tests/run.sh adds up.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_U64(a, b); }
 *   int main(void) { return test_main(); }   -- or TEST_MAIN()
 */
#ifndef BPFVM_TESTS_TEST_H
#define BPFVM_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST_MAX 1024
static struct test_case test_cases[TEST_MAX];
static int test_count;
static int test_failed_now;

#define TEST(NAME)                                                             \
	static void test_##NAME(void);                                         \
	__attribute__((constructor)) static void test_register_##NAME(void)   \
	{                                                                      \
		if (test_count < TEST_MAX)                                     \
			test_cases[test_count++] = (struct test_case){ #NAME, test_##NAME }; \
	}                                                                      \
	static void test_##NAME(void)

#define TEST_FAIL(...)                                                          \
	do {                                                                    \
		if (!test_failed_now)                                           \
			printf("FAIL %s: ", test_current_name());               \
		else                                                            \
			printf("     ... ");                                    \
		printf("%s:%d: ", __FILE__, __LINE__);                          \
		printf(__VA_ARGS__);                                            \
		printf("\n");                                                   \
		test_failed_now = 1;                                            \
	} while (0)

#define CHECK(COND)                                           \
	do {                                                  \
		if (!(COND))                                  \
			TEST_FAIL("check failed: %s", #COND); \
	} while (0)

#define CHECK_EQ_U64(A, B)                                                                   \
	do {                                                                                 \
		uint64_t a_ = (uint64_t)(A), b_ = (uint64_t)(B);                             \
		if (a_ != b_)                                                                \
			TEST_FAIL("%s == 0x%" PRIx64 ", expected %s == 0x%" PRIx64, #A, a_, #B, b_); \
	} while (0)

#define CHECK_EQ_INT(A, B)                                                      \
	do {                                                                    \
		long long a_ = (long long)(A), b_ = (long long)(B);             \
		if (a_ != b_)                                                   \
			TEST_FAIL("%s == %lld, expected %lld", #A, a_, b_);     \
	} while (0)

#define CHECK_STR(A, B)                                                            \
	do {                                                                       \
		const char *a_ = (A), *b_ = (B);                                   \
		if (!a_ || !b_ || strcmp(a_, b_))                                  \
			TEST_FAIL("%s == \"%s\", expected \"%s\"", #A, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

#define CHECK_CONTAINS(HAYSTACK, NEEDLE)                                                \
	do {                                                                            \
		const char *h_ = (HAYSTACK), *n_ = (NEEDLE);                            \
		if (!h_ || !strstr(h_, n_))                                             \
			TEST_FAIL("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_); \
	} while (0)

static const char *test_current;
static inline const char *test_current_name(void) { return test_current; }

static inline int test_main(void)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < test_count; i++) {
		test_current = test_cases[i].name;
		test_failed_now = 0;
		test_cases[i].fn();
		if (test_failed_now)
			failed++;
		else {
			passed++;
			printf("PASS %s\n", test_cases[i].name);
		}
	}
	printf("# %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TEST_MAIN() \
	int main(void) { return test_main(); }

#endif
