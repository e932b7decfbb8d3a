#!/usr/bin/env python3
"""How many stack frames the notify backend's stacks share with the ptrace backend's, on the same programs.

    Tools/frame-agreement.py [-v] CAPTRACE      (-v: print each disagreeing pair of stacks)

Runs each program below under `captrace run --backend ptrace` and `--backend notify` (observe mode, the same
trigger), pairs their violations in order by (syscall, path or address), and counts, frame by frame from the
innermost, the frames of the ptrace stack that the notify stack has at the same depth with the same module and
file offset. The ptrace stack is exact (the thread is stopped at the syscall); the notify stack is unwound from
the stack pointer and pc of /proc/TID/syscall while the thread waits for its answer. Prints per program and in
total: paired violations, ptrace frames, agreeing frames, and the percentage.
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def programs(work):
    demo = os.path.join(work, "resolver-demo")
    subprocess.run(["gcc", "-O1", "-g", "-o", demo, os.path.join(ROOT, "Examples", "resolver-demo.c")], check=True)
    pcap = os.path.join(ROOT, "Examples", "loopback.pcap")
    # (name, trigger, argv, without a network): names resolve from /etc/hosts only, and the two resolver runs
    # happen in a network namespace of their own (unshare -n) in case a name falls through to DNS.
    return [
        ("resolver demo", "symbol:enter_sandbox", [demo, "localhost"], True),
        ("getent hosts localhost", "main", ["getent", "hosts", "localhost"], True),
        ("tcpdump -r", "symbol:pcap_loop", ["tcpdump", "-r", pcap], False),
        ("dd (start-up)", "exec", ["dd", "if=/dev/zero", "of=/dev/null", "count=1", "status=none"], False),
        ("date", "main", ["date"], False),
        ("python3 -c", "main", ["python3", "-c", "import json, os; os.stat('/etc/hostname')"], False),
    ]


def trace(captrace, backend, trigger, argv, out, no_network):
    cmd = [captrace, "run", "--backend", backend, "--enter-at", trigger, "-q", "-o", out, "--"] + argv
    if no_network:
        cmd = ["unshare", "-n"] + cmd  # a resolver that tries the network fails here, locally
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Trace format 2: modules, frames, stacks and calls are defined once (by id) before violations use them.
    modules, frames_by_id, stacks, calls, events = {}, {}, {}, {}, []
    with open(out) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            e = json.loads(line)
            t = e.get("type")
            if t == "module":
                modules[e["id"]] = e.get("path")
            elif t == "frame":
                frames_by_id[e["id"]] = (modules.get(e.get("module")), e.get("offset"))
            elif t == "stack":
                stacks[e["id"]] = [frames_by_id[i] for i in e["frames"]]
            elif t == "call":
                strings = e.get("strings") or {}
                first = strings[min(strings, key=int)] if strings else None
                calls[e["id"]] = {"syscall": e["syscall"], "detail": first or e.get("sockaddr"),
                                  "stack": stacks.get(e.get("stack"), [])}
            elif t == "violation":
                events.append(calls[e["call"]])
    return events


def key(v):
    return (v["syscall"], v["detail"])


def frames(v):
    return v["stack"]


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    captrace = args[0]
    total = [0, 0, 0]
    with tempfile.TemporaryDirectory() as work:
        for name, trigger, argv, no_network in programs(work):
            a = trace(captrace, "ptrace", trigger, argv, os.path.join(work, "p.jsonl"), no_network)
            b = trace(captrace, "notify", trigger, argv, os.path.join(work, "n.jsonl"), no_network)
            pending = {}
            for v in b:
                pending.setdefault(key(v), []).append(v)
            pairs = agree = count = 0
            for v in a:
                same = pending.get(key(v))
                if not same:
                    continue
                w = same.pop(0)
                pairs += 1
                fa, fb = frames(v), frames(w)
                count += len(fa)
                same_frames = sum(1 for i, f in enumerate(fa) if i < len(fb) and fb[i] == f)
                agree += same_frames
                if verbose and same_frames < len(fa):
                    print(f"  {name}: {key(v)}")
                    for i in range(max(len(fa), len(fb))):
                        x = fa[i] if i < len(fa) else None
                        y = fb[i] if i < len(fb) else None
                        print(f"    {'  ' if x == y else '!='} {x}  {y}")
            pct = 100.0 * agree / count if count else 0.0
            print(f"{name:24s} {pairs:4d} violations  {count:5d} frames  {agree:5d} agree  {pct:5.1f}%")
            total[0] += pairs
            total[1] += count
            total[2] += agree
    pct = 100.0 * total[2] / total[1] if total[1] else 0.0
    print(f"{'total':24s} {total[0]:4d} violations  {total[1]:5d} frames  {total[2]:5d} agree  {pct:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
