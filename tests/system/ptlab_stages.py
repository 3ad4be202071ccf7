"""ptlab_stages: this project's kernel booted with stop_at= (asm/stop.h), paused
after each named boot stage with that stage's page tables live, and dumped by
QEMU at each pause. Shared by the draw tests and scripts/boot-story.

    with StagedBoot(tmp_path, ["decompressor", "exec"]) as b:
        for st in b.stages():       # QEMU is stopped while the caller looks
            ... st.name, st.cr3, st.text, st.dump ...
        b.monitor.shell("recursive on 510")

The exec stage needs a process: at the shell prompt `run init &` starts one
(init forks, its child execs hello: the pause is in that execve).
"""
import os
import re
from collections import namedtuple

from ptlab_qemu import PROMPT, Monitor

STAGES = ["decompressor", "head_64", "init_mem_mapping", "exec"]
Stage = namedtuple("Stage", "name cr3 text dump")


class StagedBoot:
    """A boot with stop_at=stages (in boot order); the QEMU Monitor is self.monitor."""

    def __init__(self, directory, stages, append="", mem="128M", cpu="max", keep_dumps=True):
        self.dir = str(directory)
        self.names = list(stages)
        self.append = ("stop_at=%s %s" % (",".join(self.names), append)).strip()
        self.mem, self.cpu, self.keep = mem, cpu, keep_dumps
        self.monitor = None

    def __enter__(self):
        self.monitor = Monitor(self.dir, append=self.append, mem=self.mem, cpu=self.cpu,
                               marker="ptlab: stop_at %s:" % self.names[0])
        return self

    def __exit__(self, *exc):
        self.monitor.close()

    def stages(self):
        """Each stage in turn: QEMU stopped, memory dumped to DIR/NAME.elf; the text is what
        the kernel printed since the previous pause, the marker line included. Resumes the
        guest when the caller asks for the next one."""
        m = self.monitor
        clean = lambda s: s.replace("\r\n", "\n").replace("\r", "")
        before = clean(m.output)
        for k, name in enumerate(self.names):
            if k:
                if name == "exec":
                    m.child.expect_exact(PROMPT)
                    before += clean(m.child.before) + PROMPT
                    m.child.sendline("run init &")
                m.child.expect_exact("ptlab: stop_at %s:" % name)
                before += clean(m.child.before)
            m.child.expect(r"CR3=([0-9a-f]{16})")      # all 16 digits, not the first ones
            cr3 = int(m.child.match.group(1), 16)
            text = before + "ptlab: stop_at %s: tables live, CR3=%016x\n" % (name, cr3)
            dump = os.path.join(self.dir, name + ".elf")
            m.command("stop")
            m.command("dump-guest-memory %s" % dump)
            yield Stage(name, cr3, text, dump)
            if not self.keep:
                os.unlink(dump)
            m.command("cont")
            m.child.send("\n")      # a key goes on
            before = ""
        if "exec" in self.names:
            m.child.expect_exact("init: reaped pid")    # hello ran and exited; init stays
            m.shell("")                                  # a fresh prompt


def hexval(text, pattern):
    """The hex number of the first group of pattern in text (which must hold it)."""
    m = re.search(pattern, text)
    assert m, "%r not in:\n%s" % (pattern, text)
    return int(m.group(1), 16)
