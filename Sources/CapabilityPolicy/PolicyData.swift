/// The capability-mode policy as commented data: one entry per syscall of the catalog, in groups, each group
/// with the paragraph that justifies it. `PolicyLoader` parses it (rejecting malformed lines, unknown names,
/// duplicates and unsorted groups); `CapabilityPolicy.standard` is the parsed form.
///
/// Edit this text to change the model; the tests name any syscall left without an entry.
enum PolicyData {
    static let text = """
# captrace capability-mode policy, format 1.
#
# The Capsicum capability mode of FreeBSD (sys/kern/capabilities.conf and the CAPENABLED flags of
# sys/kern/syscalls.master), mapped to Linux. Reviewing this file is reviewing the sandbox model.
#
# One entry per line:   NAME  VERDICT  NAMESPACE  DETAIL  [# COMMENT]
#   VERDICT    allow | deny | conditional
#   NAMESPACE  the namespace a violation reaches: filesystem | network | process | ipc | system | bypass;
#              "-" for allowed calls
#   DETAIL     allow: "-".  deny: the rule it breaks (absolute-path, exec, socket-address, sysv-ipc, posix-mq,
#              system-state, io-uring, cwd-relative, ...) or "by-path" when the rule follows from the path
#              argument (absolute-path, cwd-relative, or unreadable-path).  conditional: the condition under
#              which the call stays inside capability mode:
#                path-relative-to-dirfd  every path is relative to a held directory descriptor and never climbs
#                                        above it with ".."; an empty path with AT_EMPTY_PATH names the
#                                        descriptor itself; resolved as the kernel would, no symlink or magic
#                                        link leads out of it (symlink-escape)
#                resolve-beneath         openat2: as above, or RESOLVE_BENEATH / RESOLVE_IN_ROOT on a descriptor
#                exec-descriptor         execveat of a descriptor: AT_EMPTY_PATH and an empty path (fexecve)
#                target-is-self          the pid, tid, group or clock named is the caller itself
#                no-address              no socket address is named (connected sends; bind/connect never pass)
#                no-namespace-flags      clone/clone3 without CLONE_NEW* flags
#                subcall                 i386 socketcall/ipc: the verdict of the multiplexed call
#                no-raw-protocol         socket: neither a raw IP socket (SOCK_RAW on AF_INET/AF_INET6) nor a
#                                        packet socket (AF_PACKET)
#   COMMENT    required on deny lines (the reason). "linux-only:" starts the comment of a call FreeBSD does
#              not have, and says why the decision was taken.
# A line "[group]" starts a group; "##" lines explain it. Names are sorted within a group. Every syscall of
# the catalog has exactly one entry; the loader rejects anything else.

[descriptor-io]
## Reading, writing, seeking, syncing and inspecting descriptors the process already holds. FreeBSD allows
## these in capability mode subject to the descriptor's rights (read, write, fsync, lseek, pread/pwrite,
## fstat, fstatfs, getdirentries, fcntl, ioctl, flock, dup, close, closefrom, sendfile, copy_file_range,
## posix_fadvise, posix_fallocate): the descriptor is the capability. i386/old-ABI variants follow their
## modern form.
_llseek                       allow       -          -
cachestat                     allow       -          -                        # linux-only: page-cache state of a held descriptor's file
close                         allow       -          -
close_range                   allow       -          -
copy_file_range               allow       -          -
dup                           allow       -          -
dup2                          allow       -          -
dup3                          allow       -          -
fadvise64                     allow       -          -
fadvise64_64                  allow       -          -
fallocate                     allow       -          -
fcntl                         allow       -          -
fcntl64                       allow       -          -
fdatasync                     allow       -          -
flock                         allow       -          -
fstat                         allow       -          -
fstat64                       allow       -          -
fstatfs                       allow       -          -
fstatfs64                     allow       -          -
fsync                         allow       -          -
ftruncate                     allow       -          -
ftruncate64                   allow       -          -
getdents                      allow       -          -
getdents64                    allow       -          -
ioctl                         allow       -          -                        # FreeBSD narrows it per descriptor with cap_ioctls_limit; Linux has no equivalent
lseek                         allow       -          -
oldfstat                      allow       -          -
pread64                       allow       -          -
preadv                        allow       -          -
preadv2                       allow       -          -                        # linux-only: preadv with per-call flags on a held descriptor
pwrite64                      allow       -          -
pwritev                       allow       -          -
pwritev2                      allow       -          -                        # linux-only: pwritev with per-call flags on a held descriptor
read                          allow       -          -
readahead                     allow       -          -                        # linux-only: a page-cache hint on a held descriptor
readdir                       allow       -          -
readv                         allow       -          -
sendfile                      allow       -          -
sendfile64                    allow       -          -
splice                        allow       -          -                        # linux-only: moves data between two held descriptors
sync_file_range               allow       -          -                        # linux-only: fsync of a range of a held descriptor
syncfs                        allow       -          -                        # linux-only: sync of the filesystem of a held descriptor (like sync, which FreeBSD allows)
tee                           allow       -          -                        # linux-only: duplicates pipe data between held descriptors
vmsplice                      allow       -          -                        # linux-only: maps own memory into a held pipe
write                         allow       -          -
writev                        allow       -          -

[descriptor-metadata]
## Changing mode, owner and extended attributes through a held descriptor (FreeBSD: fchmod, fchown,
## extattr_*_fd, __acl_*_fd, futimens, all CAPENABLED). Changing the working directory to a held
## directory (fchdir) reaches nothing new: every later AT_FDCWD lookup is still a violation. FreeBSD denies
## fchdir; Linux differs here because glibc and shells use it to restore a directory they hold.
fchdir                        allow       -          -                        # FreeBSD denies fchdir; allowed here: it names a held descriptor
fchmod                        allow       -          -
fchown                        allow       -          -
fchown32                      allow       -          -
fgetxattr                     allow       -          -
flistxattr                    allow       -          -
fremovexattr                  allow       -          -
fsetxattr                     allow       -          -

[path-lookup-at]
## Path lookups relative to a directory descriptor (FreeBSD: the *at family, CAPENABLED, with lookups held
## beneath the descriptor). Absolute paths, AT_FDCWD and ".." climbing above the descriptor are violations;
## so is a lookup that leaves the descriptor once resolved (a symlink to an absolute path or climbing out, a
## magic link such as /proc/self/fd/N): FreeBSD refuses those lookups in capability mode (symlink-escape);
## an empty path with AT_EMPTY_PATH operates on the descriptor itself (glibc's fstat is
## newfstatat(fd, "", AT_EMPTY_PATH)). A symlink target is stored, not looked up, so symlinkat checks only the
## new link's location.
faccessat                     conditional filesystem path-relative-to-dirfd
faccessat2                    conditional filesystem path-relative-to-dirfd   # linux-only: faccessat with flags (AT_EMPTY_PATH)
fanotify_mark                 conditional filesystem path-relative-to-dirfd   # linux-only: marks a path for a fanotify group; a NULL path marks the descriptor
fchmodat                      conditional filesystem path-relative-to-dirfd
fchmodat2                     conditional filesystem path-relative-to-dirfd   # linux-only: fchmodat with flags (AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH)
fchownat                      conditional filesystem path-relative-to-dirfd
file_getattr                  conditional filesystem path-relative-to-dirfd   # linux-only: reads inode flags (FS_IOC_FSGETXATTR) by an *at lookup
file_setattr                  conditional filesystem path-relative-to-dirfd   # linux-only: sets inode flags (FS_IOC_FSSETXATTR) by an *at lookup
fstatat64                     conditional filesystem path-relative-to-dirfd
futimesat                     conditional filesystem path-relative-to-dirfd
getxattrat                    conditional filesystem path-relative-to-dirfd   # linux-only: extended attributes by an *at lookup
linkat                        conditional filesystem path-relative-to-dirfd
listxattrat                   conditional filesystem path-relative-to-dirfd   # linux-only: extended attributes by an *at lookup
mkdirat                       conditional filesystem path-relative-to-dirfd
mknodat                       conditional filesystem path-relative-to-dirfd
name_to_handle_at             conditional filesystem path-relative-to-dirfd   # linux-only: looks a path up like fstatat and returns its handle
newfstatat                    conditional filesystem path-relative-to-dirfd
openat                        conditional filesystem path-relative-to-dirfd
openat2                       conditional filesystem resolve-beneath          # linux-only: RESOLVE_BENEATH / RESOLVE_IN_ROOT give the kernel Capsicum's beneath-lookup
readlinkat                    conditional filesystem path-relative-to-dirfd
removexattrat                 conditional filesystem path-relative-to-dirfd   # linux-only: extended attributes by an *at lookup
renameat                      conditional filesystem path-relative-to-dirfd
renameat2                     conditional filesystem path-relative-to-dirfd   # linux-only: renameat with flags
setxattrat                    conditional filesystem path-relative-to-dirfd   # linux-only: extended attributes by an *at lookup
statx                         conditional filesystem path-relative-to-dirfd   # linux-only: fstatat with a field mask
symlinkat                     conditional filesystem path-relative-to-dirfd
unlinkat                      conditional filesystem path-relative-to-dirfd
utimensat                     conditional filesystem path-relative-to-dirfd   # a NULL path with a descriptor is futimens
utimensat_time64              conditional filesystem path-relative-to-dirfd

[path-lookup-global]
## Calls that take a path without a directory descriptor resolve it from the root or the working directory:
## global namespaces. FreeBSD leaves them out of capability mode (they fail with ECAPMODE); the rule recorded
## follows from the path: absolute-path, cwd-relative, or unreadable-path.
access                        deny        filesystem by-path                  # global path lookup
chdir                         deny        filesystem by-path                  # changes the working directory by global path
chmod                         deny        filesystem by-path                  # global path lookup
chown                         deny        filesystem by-path                  # global path lookup
chown32                       deny        filesystem by-path                  # global path lookup
creat                         deny        filesystem by-path                  # global path lookup
getcwd                        deny        filesystem cwd-relative             # FreeBSD denies __getcwd: it reveals the working directory's global name
getxattr                      deny        filesystem by-path                  # linux-only: extended attributes by global path (FreeBSD's extattr_get_file is denied)
inotify_add_watch             deny        filesystem by-path                  # linux-only: watches a global path
lchown                        deny        filesystem by-path                  # global path lookup
lchown32                      deny        filesystem by-path                  # global path lookup
lgetxattr                     deny        filesystem by-path                  # linux-only: extended attributes by global path
link                          deny        filesystem by-path                  # global path lookup
listxattr                     deny        filesystem by-path                  # linux-only: extended attributes by global path
llistxattr                    deny        filesystem by-path                  # linux-only: extended attributes by global path
lremovexattr                  deny        filesystem by-path                  # linux-only: extended attributes by global path
lsetxattr                     deny        filesystem by-path                  # linux-only: extended attributes by global path
lstat                         deny        filesystem by-path                  # global path lookup
lstat64                       deny        filesystem by-path                  # global path lookup
mkdir                         deny        filesystem by-path                  # global path lookup
mknod                         deny        filesystem by-path                  # global path lookup
oldlstat                      deny        filesystem by-path                  # global path lookup
oldstat                       deny        filesystem by-path                  # global path lookup
open                          deny        filesystem by-path                  # global path lookup (old capabilities.conf let open enter only to fail and be audited)
readlink                      deny        filesystem by-path                  # global path lookup
removexattr                   deny        filesystem by-path                  # linux-only: extended attributes by global path
rename                        deny        filesystem by-path                  # global path lookup
rmdir                         deny        filesystem by-path                  # global path lookup
setxattr                      deny        filesystem by-path                  # linux-only: extended attributes by global path
stat                          deny        filesystem by-path                  # global path lookup
stat64                        deny        filesystem by-path                  # global path lookup
statfs                        deny        filesystem by-path                  # global path lookup
statfs64                      deny        filesystem by-path                  # global path lookup
symlink                       deny        filesystem by-path                  # global path lookup of the new link
truncate                      deny        filesystem by-path                  # global path lookup
truncate64                    deny        filesystem by-path                  # global path lookup
unlink                        deny        filesystem by-path                  # global path lookup
uselib                        deny        filesystem by-path                  # linux-only: loads a library by global path (a.out era)
utime                         deny        filesystem by-path                  # global path lookup
utimes                        deny        filesystem by-path                  # global path lookup

[exec]
## Replacing the program image. FreeBSD denies execve (a global path) and allows fexecve on a held
## descriptor; Linux's fexecve is execveat(fd, "", argv, envp, AT_EMPTY_PATH). execveat with any other path
## is an exec by name and a violation, even relative to a directory descriptor.
execve                        deny        filesystem exec                     # runs a program named by global path
execveat                      conditional filesystem exec-descriptor          # linux-only: fexecve is its AT_EMPTY_PATH form

[sockets]
## Creating and using sockets without naming an address (FreeBSD: socket, socketpair, accept, accept4,
## listen, getsockname, getpeername, getsockopt, setsockopt, shutdown, recv*, send* — CAPENABLED). Binding
## and connecting name a global address: FreeBSD offers only bindat/connectat relative to a directory
## descriptor (for unix sockets); Linux has no such calls, so bind and connect are violations whenever an
## address is given, and sends are violations when they carry a destination. Creating a raw IP socket
## (SOCK_RAW on AF_INET/AF_INET6) or a packet socket (AF_PACKET) is refused: FreeBSD lets a socket be
## created in capability mode only for protocols marked PR_CAPATTACH (TCP, UDP, SCTP, unix, ...) and
## records CAPFAIL_PROTO otherwise; raw and link-layer sockets see and forge any host's traffic.
accept                        allow       -          -
accept4                       allow       -          -
bind                          conditional network    no-address               # FreeBSD denies bind (only bindat); an address is always a violation
connect                       conditional network    no-address               # FreeBSD denies connect (only connectat); an address is always a violation
getpeername                   allow       -          -
getsockname                   allow       -          -
getsockopt                    allow       -          -
listen                        allow       -          -
recvfrom                      allow       -          -
recvmmsg                      allow       -          -
recvmmsg_time64               allow       -          -
recvmsg                       allow       -          -
sendmmsg                      conditional network    no-address
sendmsg                       conditional network    no-address
sendto                        conditional network    no-address
setsockopt                    allow       -          -
shutdown                      allow       -          -
socket                        conditional network    no-raw-protocol          # raw IP and packet sockets are raw-socket violations (CAPFAIL_PROTO)
socketcall                    conditional network    subcall                  # linux-only: i386 multiplexer of the socket calls; judged as the call it carries
socketpair                    allow       -          -

[pipes-and-events]
## Creating descriptors that name nothing global, and waiting on held ones (FreeBSD: pipe, pipe2, poll,
## ppoll, select, pselect, kqueue, kevent, timerfd_*, CAPENABLED). The Linux event descriptors are the
## kqueue analogues.
_newselect                    allow       -          -
epoll_create                  allow       -          -                        # linux-only: kqueue analogue
epoll_create1                 allow       -          -                        # linux-only: kqueue analogue
epoll_ctl                     allow       -          -                        # linux-only: kevent analogue on held descriptors
epoll_pwait                   allow       -          -                        # linux-only: kevent analogue
epoll_pwait2                  allow       -          -                        # linux-only: kevent analogue
epoll_wait                    allow       -          -                        # linux-only: kevent analogue
eventfd                       allow       -          -                        # linux-only: a counter descriptor, names nothing
eventfd2                      allow       -          -                        # linux-only: a counter descriptor, names nothing
fanotify_init                 allow       -          -                        # linux-only: creates a notification group; marking paths is fanotify_mark
inotify_init                  allow       -          -                        # linux-only: creates a watch descriptor; watching paths is inotify_add_watch
inotify_init1                 allow       -          -                        # linux-only: as inotify_init
inotify_rm_watch              allow       -          -                        # linux-only: removes a watch from a held descriptor
pipe                          allow       -          -
pipe2                         allow       -          -
poll                          allow       -          -
ppoll                         allow       -          -
ppoll_time64                  allow       -          -
pselect6                      allow       -          -
pselect6_time64               allow       -          -
select                        allow       -          -
signalfd                      allow       -          -                        # linux-only: own signals as a descriptor
signalfd4                     allow       -          -                        # linux-only: own signals as a descriptor
timerfd_create                allow       -          -
timerfd_gettime               allow       -          -
timerfd_gettime64             allow       -          -
timerfd_settime               allow       -          -
timerfd_settime64             allow       -          -
userfaultfd                   allow       -          -                        # linux-only: page faults of own memory as a descriptor

[asynchronous-io]
## Linux AIO contexts belong to the process and act on held descriptors (FreeBSD: aio_*, lio_listio,
## CAPENABLED). io_uring is different: its submissions perform opens, connects and more without passing
## through the syscall filter, so nothing it does can be seen or refused.
io_cancel                     allow       -          -
io_destroy                    allow       -          -
io_getevents                  allow       -          -
io_pgetevents                 allow       -          -
io_pgetevents_time64          allow       -          -
io_setup                      allow       -          -
io_submit                     allow       -          -
io_uring_enter                deny        bypass     io-uring                 # linux-only: submissions on a ring escape syscall filtering
io_uring_register             deny        bypass     io-uring                 # linux-only: configures a ring whose operations escape syscall filtering
io_uring_setup                deny        bypass     io-uring                 # linux-only: creates a ring whose operations escape syscall filtering

[memory]
## Operations on the caller's own address space (FreeBSD: mmap, mprotect, madvise, mincore, minherit, mlock*,
## msync, munmap, break — CAPENABLED; mapping a descriptor is subject to its rights).
brk                           allow       -          -
get_mempolicy                 allow       -          -                        # linux-only: own NUMA policy
madvise                       allow       -          -
map_shadow_stack              allow       -          -                        # linux-only: maps an own shadow stack
mbind                         allow       -          -                        # linux-only: own NUMA policy
membarrier                    allow       -          -
memfd_create                  allow       -          -                        # linux-only: anonymous shared memory, FreeBSD's shm_open(SHM_ANON)
memfd_secret                  allow       -          -                        # linux-only: anonymous secret memory
mincore                       allow       -          -
mlock                         allow       -          -
mlock2                        allow       -          -                        # linux-only: mlock with flags
mlockall                      allow       -          -
mmap                          allow       -          -
mmap2                         allow       -          -
mprotect                      allow       -          -
mremap                        allow       -          -                        # linux-only: resizes own mappings
mseal                         allow       -          -                        # linux-only: seals own mappings against change
msync                         allow       -          -
munlock                       allow       -          -
munlockall                    allow       -          -
munmap                        allow       -          -
pkey_alloc                    allow       -          -                        # linux-only: own protection keys
pkey_free                     allow       -          -                        # linux-only: own protection keys
pkey_mprotect                 allow       -          -                        # linux-only: own protection keys
remap_file_pages              allow       -          -                        # linux-only: rearranges own mappings
set_mempolicy                 allow       -          -                        # linux-only: own NUMA policy
set_mempolicy_home_node       allow       -          -                        # linux-only: own NUMA policy
shmdt                         allow       -          -                        # detaches a mapping of own memory; names no SysV id (FreeBSD denies all SysV calls)

[threads-and-sync]
## Thread creation data, futexes and thread-local storage of the caller (FreeBSD: thr_*, _umtx_op, sysarch,
## getcontext/setcontext — CAPENABLED, scoped to the process).
arch_prctl                    allow       -          -                        # sysarch analogue: own FS/GS bases
futex                         allow       -          -                        # _umtx_op analogue, scoped by address space
futex_requeue                 allow       -          -                        # linux-only: futex2, scoped by address space like futex
futex_time64                  allow       -          -
futex_wait                    allow       -          -                        # linux-only: futex2, scoped by address space like futex
futex_waitv                   allow       -          -                        # linux-only: waits on several own futexes
futex_wake                    allow       -          -                        # linux-only: futex2, scoped by address space like futex
get_thread_area               allow       -          -                        # sysarch analogue
modify_ldt                    allow       -          -                        # sysarch analogue: own LDT
rseq                          allow       -          -                        # linux-only: registers own restartable sequences
set_robust_list               allow       -          -
set_thread_area               allow       -          -                        # sysarch analogue
set_tid_address               allow       -          -
vm86                          allow       -          -                        # linux-only: own virtual-8086 mode (ENOSYS on 64-bit kernels)
vm86old                       allow       -          -                        # linux-only: as vm86

[signals]
## Signal dispositions, masks, stacks and waiting, all on the caller (FreeBSD: sigaction, sigprocmask,
## sigaltstack, sigsuspend, sigpending, sigtimedwait, sigwaitinfo, sigreturn — CAPENABLED). Sending a signal
## is allowed only to the caller itself (FreeBSD: kill scoped to the own process, thr_kill to own threads,
## sigqueue likewise; thr_kill2 to other processes is denied).
alarm                         allow       -          -
kill                          conditional process    target-is-self           # pid 0 and negative pids reach process groups
pause                         allow       -          -
rt_sigaction                  allow       -          -
rt_sigpending                 allow       -          -
rt_sigprocmask                allow       -          -
rt_sigqueueinfo               conditional process    target-is-self           # sigqueue
rt_sigreturn                  allow       -          -
rt_sigsuspend                 allow       -          -
rt_sigtimedwait               allow       -          -
rt_sigtimedwait_time64        allow       -          -
rt_tgsigqueueinfo             conditional process    target-is-self           # thr_kill2 with a payload
sgetmask                      allow       -          -
sigaction                     allow       -          -
sigaltstack                   allow       -          -
signal                        allow       -          -
sigpending                    allow       -          -
sigprocmask                   allow       -          -
sigreturn                     allow       -          -
sigsuspend                    allow       -          -
ssetmask                      allow       -          -
tgkill                        conditional process    target-is-self           # thr_kill2: allowed on the caller's own thread group
tkill                         conditional process    target-is-self           # thr_kill: allowed on the caller's own threads

[process-lifecycle]
## Creating and ending processes and reaping own children. FreeBSD allows fork, pdfork and exit; Linux's
## clone family is allowed too — children inherit capability mode — except when it creates namespaces
## (that is unshare, a system change). FreeBSD denies wait4/wait6 and expects process descriptors
## (pdfork/pdwait); Linux differs deliberately: wait* can only reach the caller's own children, which is no
## global namespace.
clone                         conditional system     no-namespace-flags       # CLONE_NEW* makes it unshare
clone3                        conditional system     no-namespace-flags       # linux-only: clone with a struct; glibc's pthread_create
exit                          allow       -          -
exit_group                    allow       -          -                        # linux-only: exit of all threads
fork                          allow       -          -
restart_syscall               allow       -          -                        # linux-only: kernel-internal restart of an interrupted call
vfork                         allow       -          -                        # FreeBSD leaves vfork out; a vfork child is a fork child that shares memory until exec
wait4                         allow       -          -                        # FreeBSD denies wait4; allowed here: it reaches only own children
waitid                        allow       -          -                        # linux-only spelling of wait6: reaches only own children
waitpid                       allow       -          -                        # as wait4

[process-descriptors]
## Acting on a process through a descriptor already held (FreeBSD: pdfork, pdgetpid, pdkill — CAPENABLED).
## pidfd_open is the lookup of a pid, so it is held to the caller itself.
pidfd_getfd                   allow       -          -                        # linux-only: takes a descriptor from a process named by a held pidfd
pidfd_open                    conditional process    target-is-self           # linux-only: a pid lookup; only the caller itself passes
pidfd_send_signal             allow       -          -                        # linux-only: pdkill analogue
process_madvise               allow       -          -                        # linux-only: advice on the memory of a process named by a held pidfd
process_mrelease              allow       -          -                        # linux-only: reaps the memory of a dying process named by a held pidfd

[process-by-pid]
## Scheduling, limits, priorities, identity queries and debugging of a process named by pid. FreeBSD allows
## the scheduling and priority calls with an "XXX needs scoping" note and denies ptrace; captrace applies the
## scoping: allowed on the caller itself (pid 0 or its own pid/tid where the call gives 0 that meaning),
## violations on any other process, process group or user.
get_robust_list               conditional process    target-is-self           # linux-only: reads another thread's futex list by tid
getpgid                       conditional process    target-is-self
getpriority                   conditional process    target-is-self           # PRIO_PGRP and PRIO_USER reach groups
getsid                        conditional process    target-is-self
ioprio_get                    conditional process    target-is-self           # linux-only: I/O priority by pid, group or user
ioprio_set                    conditional process    target-is-self           # linux-only: I/O priority by pid, group or user
kcmp                          conditional process    target-is-self           # linux-only: compares kernel objects of two pids
migrate_pages                 conditional process    target-is-self           # linux-only: moves a process's pages by pid
move_pages                    conditional process    target-is-self           # linux-only: moves a process's pages by pid
prlimit64                     conditional process    target-is-self           # linux-only: getrlimit/setrlimit on any pid
process_vm_readv              conditional process    target-is-self           # linux-only: reads another process's memory
process_vm_writev             conditional process    target-is-self           # linux-only: writes another process's memory
ptrace                        conditional process    target-is-self           # FreeBSD denies ptrace; PTRACE_TRACEME hands the caller to its parent
sched_getaffinity             conditional process    target-is-self           # linux-only: cpuset_getaffinity analogue
sched_getattr                 conditional process    target-is-self           # linux-only: sched_getparam with more fields
sched_getparam                conditional process    target-is-self
sched_getscheduler            conditional process    target-is-self
sched_rr_get_interval         conditional process    target-is-self
sched_rr_get_interval_time64  conditional process    target-is-self
sched_setaffinity             conditional process    target-is-self           # linux-only: cpuset_setaffinity analogue
sched_setattr                 conditional process    target-is-self           # linux-only: sched_setparam with more fields
sched_setparam                conditional process    target-is-self
sched_setscheduler            conditional process    target-is-self
setpgid                       conditional process    target-is-self           # FreeBSD denies setpgid; allowed here only as setpgid(0, 0)/own pid
setpriority                   conditional process    target-is-self

[own-process-state]
## Credentials, limits, resource usage and identity of the caller (FreeBSD: get*id, set*id, getgroups,
## getrlimit, setrlimit, getrusage, setsid, umask, issetugid — CAPENABLED; set*id is controlled by privilege,
## not by capability mode). The 16-bit and 32-bit-id i386 variants follow their modern form.
capget                        allow       -          -                        # linux-only: own capability sets
capset                        allow       -          -                        # linux-only: own capability sets (other pids are refused by the kernel)
getegid                       allow       -          -
getegid32                     allow       -          -
geteuid                       allow       -          -
geteuid32                     allow       -          -
getgid                        allow       -          -
getgid32                      allow       -          -
getgroups                     allow       -          -
getgroups32                   allow       -          -
getitimer                     allow       -          -
getpgrp                       allow       -          -
getpid                        allow       -          -
getppid                       allow       -          -
getresgid                     allow       -          -
getresgid32                   allow       -          -
getresuid                     allow       -          -
getresuid32                   allow       -          -
getrlimit                     allow       -          -
getrusage                     allow       -          -
gettid                        allow       -          -                        # linux-only: thr_self analogue
getuid                        allow       -          -
getuid32                      allow       -          -
landlock_add_rule             allow       -          -                        # linux-only: adds a rule on a held descriptor to a ruleset
landlock_create_ruleset       allow       -          -                        # linux-only: restricting oneself is capability mode's spirit
landlock_restrict_self        allow       -          -                        # linux-only: restricting oneself
lsm_get_self_attr             allow       -          -                        # linux-only: reads the caller's own security-module attributes
nice                          allow       -          -                        # setpriority on the caller itself
personality                   allow       -          -                        # linux-only: own execution domain
prctl                         allow       -          -                        # linux-only: operations on the caller (name, no_new_privs, seccomp, dumpable...)
sched_get_priority_max        allow       -          -
sched_get_priority_min        allow       -          -
sched_yield                   allow       -          -
seccomp                       allow       -          -                        # linux-only: filters the caller itself, like cap_enter
setfsgid                      allow       -          -                        # linux-only: own filesystem gid
setfsgid32                    allow       -          -                        # linux-only: own filesystem gid
setfsuid                      allow       -          -                        # linux-only: own filesystem uid
setfsuid32                    allow       -          -                        # linux-only: own filesystem uid
setgid                        allow       -          -
setgid32                      allow       -          -
setgroups                     allow       -          -                        # FreeBSD leaves setgroups out; its kin set*id are allowed and privilege decides
setgroups32                   allow       -          -                        # as setgroups
setitimer                     allow       -          -
setregid                      allow       -          -
setregid32                    allow       -          -
setresgid                     allow       -          -
setresgid32                   allow       -          -
setresuid                     allow       -          -
setresuid32                   allow       -          -
setreuid                      allow       -          -
setreuid32                    allow       -          -
setrlimit                     allow       -          -
setsid                        allow       -          -
setuid                        allow       -          -
setuid32                      allow       -          -
times                         allow       -          -
ugetrlimit                    allow       -          -
umask                         allow       -          -
uprobe                        allow       -          -                        # linux-only: only the kernel's uprobe trampoline in the caller may call it (SIGILL elsewhere)
uretprobe                     allow       -          -                        # linux-only: only the kernel's uretprobe trampoline in the caller may call it (SIGILL elsewhere)

[clocks-and-timers]
## Reading clocks, sleeping and per-process timers (FreeBSD: clock_gettime, clock_getres, nanosleep,
## gettimeofday, ktimer_*, getitimer/setitimer — CAPENABLED; clock_nanosleep is left out there, an omission
## for a call that only sleeps). A clock id can name another process's CPU clock; that is held to the
## caller itself. Setting clocks changes global state (below, in system).
clock_getres                  conditional process    target-is-self           # the clock id may name another process's CPU clock
clock_getres_time64           conditional process    target-is-self
clock_gettime                 conditional process    target-is-self           # the clock id may name another process's CPU clock
clock_gettime64               conditional process    target-is-self
clock_nanosleep               conditional process    target-is-self
clock_nanosleep_time64        conditional process    target-is-self
gettimeofday                  allow       -          -
nanosleep                     allow       -          -
time                          allow       -          -
timer_create                  conditional process    target-is-self           # ktimer_create; the clock id may name another process
timer_delete                  allow       -          -
timer_getoverrun              allow       -          -
timer_gettime                 allow       -          -
timer_gettime64               allow       -          -
timer_settime                 allow       -          -
timer_settime64               allow       -          -

[trivial-global-state]
## Reading trivial global state that every program needs (FreeBSD: gethostname, getdomainname, uname via
## sysctl, getpagesize, uuidgen, getrandom — CAPENABLED), and flushing all buffers (sync: FreeBSD allows it
## "for now").
getcpu                        allow       -          -                        # linux-only: which CPU the caller runs on (sched_getcpu)
getrandom                     allow       -          -
lsm_list_modules              allow       -          -                        # linux-only: names the active security modules, like uname
oldolduname                   allow       -          -
olduname                      allow       -          -
sync                          allow       -          -
sysfs                         allow       -          -                        # linux-only: lists filesystem type names
sysinfo                       allow       -          -                        # linux-only: memory and load figures, like the sysctls FreeBSD allows
uname                         allow       -          -

[sysv-ipc]
## System V IPC names objects by global keys and global ids; FreeBSD leaves the whole family out of
## capability mode (shmsys, semsys, msgsys and their calls are not CAPENABLED). captrace denies the key
## lookups and the operations on ids alike: an id is a global name, not a held capability. Only shmdt, which
## names own memory, is allowed (see memory).
ipc                           conditional ipc        subcall                  # linux-only: i386 multiplexer of the SysV calls; judged as the call it carries
msgctl                        deny        ipc        sysv-ipc                 # operates on a global message queue id
msgget                        deny        ipc        sysv-ipc                 # looks up a global IPC key
msgrcv                        deny        ipc        sysv-ipc                 # operates on a global message queue id
msgsnd                        deny        ipc        sysv-ipc                 # operates on a global message queue id
semctl                        deny        ipc        sysv-ipc                 # operates on a global semaphore id
semget                        deny        ipc        sysv-ipc                 # looks up a global IPC key
semop                         deny        ipc        sysv-ipc                 # operates on a global semaphore id
semtimedop                    deny        ipc        sysv-ipc                 # operates on a global semaphore id
semtimedop_time64             deny        ipc        sysv-ipc                 # operates on a global semaphore id
shmat                         deny        ipc        sysv-ipc                 # attaches a global shared memory id
shmctl                        deny        ipc        sysv-ipc                 # operates on a global shared memory id
shmget                        deny        ipc        sysv-ipc                 # looks up a global IPC key

[posix-mq]
## POSIX message queues are named in a global namespace (FreeBSD: kmq_open and kmq_unlink are denied; the
## operations on an open queue descriptor are CAPENABLED).
mq_getsetattr                 allow       -          -
mq_notify                     allow       -          -
mq_open                       deny        ipc        posix-mq                 # opens a queue by global name
mq_timedreceive               allow       -          -
mq_timedreceive_time64        allow       -          -
mq_timedsend                  allow       -          -
mq_timedsend_time64           allow       -          -
mq_unlink                     deny        ipc        posix-mq                 # removes a queue by global name

[system]
## Changing global system state. FreeBSD denies all of these in capability mode (mount, unmount, nmount,
## reboot, kldload, settimeofday, adjtime, clock_settime, sethostname, setdomainname, chroot, jail*, swapon,
## acct, quotactl, audit, ktrace, revoke). Linux adds namespaces, BPF, perf, keyrings, the new mount API and
## kernel-log access, all denied for the same reason: they reach far beyond the process's descriptors.
_sysctl                       deny        system     system-state             # linux-only: writes kernel tunables (removed in 5.5; FreeBSD's __sysctl is scoped in-kernel)
acct                          deny        system     system-state             # process accounting to a global file
add_key                       deny        system     system-state             # linux-only: keyrings are shared, named kernel state
adjtimex                      deny        system     system-state             # tunes the system clock
bdflush                       deny        system     system-state             # linux-only: tunes global writeback (removed in 5.15)
bpf                           deny        system     system-state             # linux-only: loads programs and maps into the kernel
chroot                        deny        system     system-state             # changes the root by global path
clock_adjtime                 deny        system     system-state             # tunes a system clock
clock_adjtime64               deny        system     system-state             # tunes a system clock
clock_settime                 deny        system     system-state             # sets a system clock
clock_settime64               deny        system     system-state             # sets a system clock
create_module                 deny        system     system-state             # linux-only: module loading (removed)
delete_module                 deny        system     system-state             # kldunload
finit_module                  deny        system     system-state             # kldload
fsconfig                      deny        system     system-state             # linux-only: new mount API
fsmount                       deny        system     system-state             # linux-only: new mount API
fsopen                        deny        system     system-state             # linux-only: new mount API
fspick                        deny        system     system-state             # linux-only: new mount API, by path
get_kernel_syms               deny        system     system-state             # linux-only: kernel symbol table (removed)
idle                          deny        system     system-state             # linux-only: the old idle-process call (removed)
init_module                   deny        system     system-state             # kldload
ioperm                        deny        system     system-state             # linux-only: direct hardware I/O port access
iopl                          deny        system     system-state             # linux-only: direct hardware I/O port access
kexec_file_load               deny        system     system-state             # linux-only: loads a new kernel
kexec_load                    deny        system     system-state             # linux-only: loads a new kernel
keyctl                        deny        system     system-state             # linux-only: keyrings are shared, named kernel state
listmount                     deny        system     system-state             # linux-only: lists mounts by global mount id
listns                        deny        system     system-state             # linux-only: lists namespaces by global id
lookup_dcookie                deny        system     system-state             # linux-only: resolves a global directory-entry cookie to a path
lsm_set_self_attr             deny        system     system-state             # linux-only: changes the caller's security-module context (a policy transition)
mount                         deny        system     system-state             # mount
mount_setattr                 deny        system     system-state             # linux-only: new mount API
move_mount                    deny        system     system-state             # linux-only: new mount API
nfsservctl                    deny        system     system-state             # linux-only: NFS server control (removed)
open_by_handle_at             deny        system     system-state             # linux-only: opens any file on a mount by handle, bypassing path lookup
open_tree                     deny        system     system-state             # linux-only: new mount API
open_tree_attr                deny        system     system-state             # linux-only: new mount API
perf_event_open               deny        system     system-state             # linux-only: kernel and other-process performance monitoring
pivot_root                    deny        system     system-state             # linux-only: changes the root mount
query_module                  deny        system     system-state             # linux-only: module loading (removed)
quotactl                      deny        system     system-state             # quotactl
quotactl_fd                   deny        system     system-state             # linux-only: quotactl on a held descriptor's filesystem
reboot                        deny        system     system-state             # reboot
request_key                   deny        system     system-state             # linux-only: keyrings are shared, named kernel state
setdomainname                 deny        system     system-state             # setdomainname
sethostname                   deny        system     system-state             # sethostname
setns                         deny        system     system-state             # linux-only: joins a namespace
settimeofday                  deny        system     system-state             # settimeofday
statmount                     deny        system     system-state             # linux-only: reads a mount by global mount id
stime                         deny        system     system-state             # sets the system clock
swapoff                       deny        system     system-state             # swapoff
swapon                        deny        system     system-state             # swapon
syslog                        deny        system     system-state             # linux-only: reads or controls the kernel log
umount                        deny        system     system-state             # unmount
umount2                       deny        system     system-state             # unmount
unshare                       deny        system     system-state             # linux-only: creates namespaces
ustat                         deny        system     system-state             # linux-only: filesystem statistics by global device number
vhangup                       deny        system     system-state             # revoke of the controlling terminal

[not-implemented]
## Names the headers reserve that Linux never implemented (every call fails with ENOSYS). Allowed: they
## reach nothing. FreeBSD has no view on them.
afs_syscall                   allow       -          -                        # linux-only: never implemented
break                         allow       -          -                        # linux-only: never implemented
epoll_ctl_old                 allow       -          -                        # linux-only: never implemented
epoll_wait_old                allow       -          -                        # linux-only: never implemented
ftime                         allow       -          -                        # linux-only: never implemented
getpmsg                       allow       -          -                        # linux-only: never implemented (STREAMS)
gtty                          allow       -          -                        # linux-only: never implemented
lock                          allow       -          -                        # linux-only: never implemented
mpx                           allow       -          -                        # linux-only: never implemented
prof                          allow       -          -                        # linux-only: never implemented
profil                        allow       -          -                        # linux-only: never implemented (FreeBSD's profil is a different, CAPENABLED call)
putpmsg                       allow       -          -                        # linux-only: never implemented (STREAMS)
security                      allow       -          -                        # linux-only: never implemented
stty                          allow       -          -                        # linux-only: never implemented
tuxcall                       allow       -          -                        # linux-only: never implemented
ulimit                        allow       -          -                        # linux-only: never implemented (libc emulates it)
vserver                       allow       -          -                        # linux-only: never implemented
"""
}
