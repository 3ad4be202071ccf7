"""make install / make uninstall: the host tool and its man page, under PREFIX and
DESTDIR as packagers expect, and nothing else left behind."""
import os
import subprocess

from ptlab_qemu import ROOT


def make(*args):
    return subprocess.run(["make", "-s", "--no-print-directory", *args], cwd=ROOT,
                          capture_output=True, text=True)


def files_under(d):
    return sorted(os.path.relpath(os.path.join(p, f), d) for p, _, fs in os.walk(d) for f in fs)


def test_install_then_uninstall(tmp_path):
    dest = tmp_path / "stage"
    r = make("install", "DESTDIR=%s" % dest, "PREFIX=/usr")
    assert r.returncode == 0, r.stderr
    assert files_under(dest) == ["usr/bin/ptlab", "usr/share/man/man1/ptlab.1"]
    tool = dest / "usr/bin/ptlab"
    assert os.access(tool, os.X_OK)
    v = subprocess.run([str(tool), "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.startswith("ptlab ")
    man = (dest / "usr/share/man/man1/ptlab.1").read_text()
    assert man.startswith(".") and ".TH PTLAB 1" in man.upper()

    r = make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr")
    assert r.returncode == 0, r.stderr
    assert files_under(dest) == []


def test_install_honours_bindir_and_mandir(tmp_path):
    r = make("install", "DESTDIR=%s" % tmp_path, "PREFIX=/opt/ptlab", "MANDIR=/opt/ptlab/man")
    assert r.returncode == 0, r.stderr
    assert files_under(tmp_path) == ["opt/ptlab/bin/ptlab", "opt/ptlab/man/man1/ptlab.1"]
