/* hello: prints its pid, its parent and its arguments. */
#include "ulib.h"

int main(int argc, char **argv)
{
	printf("hello from pid %d (parent %d), argc %d:", getpid(), getppid(), argc);
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	return 0;
}
