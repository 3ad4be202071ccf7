"""ptlab_tool: what the host-tool tests share: running build/ptlab (the
ASan+UBSan build by default, which must report no sanitizer error and not die
of a signal) and scripts/ptlab-mkcore, which writes small synthetic dumps.
"""
import importlib.machinery
import importlib.util
import os
import subprocess

from ptlab_qemu import BUILD, ROOT

PTLAB = os.path.join(BUILD, "ptlab")
PTLAB_SAN = os.path.join(BUILD, "san", "ptlab")


def _load_mkcore():
    path = os.path.join(ROOT, "scripts", "ptlab-mkcore")
    loader = importlib.machinery.SourceFileLoader("ptlab_mkcore", path)
    spec = importlib.util.spec_from_loader("ptlab_mkcore", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


mkcore = _load_mkcore()


def ptlab(*args, san=True, timeout=60, check=False):
    """Run ptlab (the sanitizer build by default); returns the CompletedProcess.
    check: the exit status must be 0."""
    r = subprocess.run([PTLAB_SAN if san else PTLAB] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    assert r.returncode >= 0, "killed by signal %d" % -r.returncode
    if check:
        assert r.returncode == 0, "ptlab %s: exit %d\n%s" % (" ".join(map(str, args)), r.returncode,
                                                           r.stderr)
    return r
