/*
 * init: starts each program named in its arguments (default: hello) with
 * fork + execve, then stays forever, reaping children (orphans included)
 * and sleeping. `kill PID` ends it.
 */
#include "ulib.h"

int main(int argc, char **argv)
{
	static char *deflt[] = { "hello", 0 };
	char **progs = argc > 1 ? argv + 1 : deflt;

	printf("init: pid %d starting\n", getpid());
	for (int i = 0; progs[i]; i++) {
		int pid = fork();
		if (pid < 0) {
			printf("init: fork: %s\n", strerror(pid));
			continue;
		}
		if (pid == 0) {
			char *args[] = { progs[i], 0 };
			long err = execve(progs[i], args);
			printf("init: execve %s: %s\n", progs[i], strerror(err));
			exit(127);
		}
		printf("init: started %s as pid %d\n", progs[i], pid);
	}
	for (;;) {
		int status, pid = wait(&status);
		if (pid > 0)
			printf("init: reaped pid %d (status 0x%x)\n", pid, status);
		else
			sleep_ms(200);
	}
}
