// Runs a command with signal state set up the way a caller can leave it (nohup, a shell's background job, a
// daemon): SIGHUP, SIGCHLD and SIGRTMIN+5 ignored, SIGUSR1 and SIGTERM blocked. The command inherits all of it
// across exec, traced or not (EnvironmentTests).
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: sigstate command...\n"); return 2; }
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGCHLD, SIG_IGN);
    signal(SIGRTMIN + 5, SIG_IGN);
    execvp(argv[1], argv + 1);
    perror("sigstate: exec");
    return 127;
}
