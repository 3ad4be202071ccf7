"""test_ptlab_kdump_cache: the index cache of flattened kdump files
(tools/ptlab/kdump_index.c; docs/formats.md, "kdump-compressed").

Small flattened files (scripts/ptlab-mkcore's 4-level core through
scripts/ptlab-convert, and the same file cut into 200 records here) read the
same with and without the cache; the first read writes the index, later ones
use it without rewriting it; a dump that changes (even with its old mtime put
back), an index file that is corrupt, cut short, another file's, or whose
record headers disagree with the file, is detected and the index rebuilt; a
cache directory that cannot be made is no error; --no-cache and
PTLAB_NO_CACHE write nothing. Everything runs under the ASan+UBSan build.
"""
import os
import struct
import subprocess
import zlib

import pytest

from ptlab_tool import PTLAB_SAN, mkcore
from test_ptlab_sources import convert      # scripts/ptlab-convert

KEY_END = 8 + 8 * 8 + 8         # magic, key, record count (kdump_index.c)


def flatten(plain, chunk):
    """The plain kdump file cut into records of chunk bytes, every other pair swapped
    (so that the records are not in offset order), in the flattened form."""
    recs = [(off, plain[off:off + chunk]) for off in range(0, len(plain), chunk)]
    for i in range(0, len(recs) - 1, 4):
        recs[i], recs[i + 1] = recs[i + 1], recs[i]
    head = b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1)
    out = [head.ljust(4096, b"\0")]
    for off, data in recs:
        out.append(struct.pack(">qq", off, len(data)) + data)
    out.append(struct.pack(">qq", -1, 0))
    return b"".join(out)


def run(*args, cache=None, env_extra=None):
    """ptlab (ASan+UBSan) with XDG_CACHE_HOME=cache; must exit 0 without a word on stderr."""
    env = dict(os.environ)
    env.pop("PTLAB_NO_CACHE", None)
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
    env.update(env_extra or {})
    r = subprocess.run([PTLAB_SAN] + [str(a) for a in args], capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 0 and r.stderr == "", (args, r.returncode, r.stderr)
    return r.stdout


def index_files(cache):
    d = cache / "ptlab" / "kdump-index"
    return sorted(d.glob("*.idx")) if d.exists() else []


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    """{name: path} of the ELF core and two flattened files of it, and the walk from the ELF."""
    tmp = tmp_path_factory.mktemp("kdcache")
    core = tmp / "l4.elf"
    core.write_bytes(mkcore.scenario_l4())
    segs, notes, _ = convert.read_elf(core)
    files = {"elf": core}
    files["flat"] = tmp / "l4.flat"
    files["flat"].write_bytes(convert.kdump_file(segs, notes, "zlib", True))
    files["many"] = tmp / "l4.many"
    plain = convert.kdump_file(segs, notes, "zlib", False)
    files["many"].write_bytes(flatten(plain, max(64, len(plain) // 200)))
    want = run("maps", "--format", "qemu-tlb", core, cache=tmp / "unused")
    assert want
    return tmp, files, want


@pytest.mark.parametrize("name", ["flat", "many"])
def test_same_output_with_and_without_cache(dumps, tmp_path, name):
    _, files, want = dumps
    cache = tmp_path / "cache"
    assert run("maps", "--format", "qemu-tlb", "--no-cache", files[name], cache=cache) == want
    assert index_files(cache) == []
    assert run("maps", "--format", "qemu-tlb", files[name], cache=cache,
               env_extra={"PTLAB_NO_CACHE": "1"}) == want
    assert index_files(cache) == []
    assert run("maps", "--format", "qemu-tlb", files[name], cache=cache) == want   # builds it
    [idx] = index_files(cache)
    st = os.stat(idx)
    assert run("maps", "--format", "qemu-tlb", files[name], cache=cache) == want   # uses it
    st2 = os.stat(idx)
    assert (st2.st_ino, st2.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), "index rewritten"
    assert run("info", files[name], cache=cache) == run("info", "--no-cache", files[name],
                                                        cache=cache)


def test_index_holds_the_record_headers(dumps, tmp_path):
    """The index file is the magic, the key, n and the n record headers of the file in
    file order (the end record last), then a CRC-32 of all that."""
    _, files, want = dumps
    cache = tmp_path / "cache"
    assert run("maps", "--format", "qemu-tlb", files["many"], cache=cache) == want
    [idx] = index_files(cache)
    b = idx.read_bytes()
    data = files["many"].read_bytes()
    heads, pos = [], 4096
    while True:
        heads.append(data[pos:pos + 16])
        off, size = struct.unpack(">qq", data[pos:pos + 16])
        if off == -1:
            break
        pos += 16 + size
    assert len(heads) > 200
    st = os.stat(files["many"])
    assert b[:8] == b"PTLKDIX1"
    assert struct.unpack("<8Q", b[8:72])[:3] == (st.st_dev, st.st_ino, st.st_size)
    assert struct.unpack("<Q", b[72:80]) == (len(heads),)
    assert b[KEY_END:-4] == b"".join(heads)
    assert struct.unpack("<I", b[-4:]) == (zlib.crc32(b[:-4]),)


def rewrite_index(idx, edit):
    """Replace the index file's body by edit(body) and give it a valid CRC again."""
    body = bytearray(idx.read_bytes()[:-4])
    body = edit(body)
    idx.write_bytes(bytes(body) + struct.pack("<I", zlib.crc32(bytes(body))))


def set_head(body, i, off=None, size=None):
    """Record header i of an index body, its offset and/or size changed."""
    p = KEY_END + 16 * i
    o, s = struct.unpack(">qq", body[p:p + 16])
    body[p:p + 16] = struct.pack(">qq", o if off is None else off, s if size is None else size)
    return body


BAD_INDEXES = {
    "bit flipped": lambda b: None,      # CRC no longer matches (done in the test)
    "cut short": lambda b: None,
    "empty": lambda b: None,
    "one record less": lambda b: (b[:72] + struct.pack("<Q", (len(b) - KEY_END) // 16 - 1) +
                                  b[80:KEY_END] + b[KEY_END + 16:]),
    "first offset wrong": lambda b: set_head(b, 0, off=1 << 40),
    "last size wrong": lambda b: set_head(b, (len(b) - KEY_END) // 16 - 2, size=16),
    "record count wrong": lambda b: b[:72] + struct.pack("<Q", 3) + b[80:],
    "magic wrong": lambda b: b"PTLKDIX0" + b[8:],
}


@pytest.mark.parametrize("how", sorted(BAD_INDEXES))
@pytest.mark.parametrize("name", ["flat", "many"])
def test_corrupt_index_is_rebuilt(dumps, tmp_path, name, how):
    _, files, want = dumps
    cache = tmp_path / "cache"
    assert run("maps", "--format", "qemu-tlb", files[name], cache=cache) == want
    [idx] = index_files(cache)
    good = idx.read_bytes()
    if how == "bit flipped":
        b = bytearray(good)
        b[KEY_END + 16 * 3 + 9] ^= 0x10
        idx.write_bytes(bytes(b))
    elif how == "cut short":
        idx.write_bytes(good[:len(good) // 2])
    elif how == "empty":
        idx.write_bytes(b"")
    else:
        rewrite_index(idx, BAD_INDEXES[how])
    assert idx.read_bytes() != good
    assert run("maps", "--format", "qemu-tlb", files[name], cache=cache) == want
    assert idx.read_bytes() == good, "the index was not rebuilt"


def test_index_of_another_file_is_not_used(dumps, tmp_path):
    """An index file copied over this file's name has another key: rebuilt."""
    _, files, want = dumps
    cache = tmp_path / "cache"
    run("info", files["flat"], cache=cache)
    [flat_idx] = index_files(cache)
    run("info", files["many"], cache=cache)
    [many_idx] = [p for p in index_files(cache) if p != flat_idx]
    good = many_idx.read_bytes()
    many_idx.write_bytes(flat_idx.read_bytes())
    assert run("maps", "--format", "qemu-tlb", files["many"], cache=cache) == want
    assert many_idx.read_bytes() == good


def test_stale_after_the_file_changes(dumps, tmp_path):
    """The dump rewritten in place (same path, same inode): another size, or the same size
    with its old mtime put back; the index is rebuilt and the new contents are read."""
    _, files, want = dumps
    cache = tmp_path / "cache"
    dump = tmp_path / "d.flat"
    other = files["many"].read_bytes()
    dump.write_bytes(files["flat"].read_bytes())
    assert run("maps", "--format", "qemu-tlb", dump, cache=cache) == want
    [idx] = index_files(cache)
    first = idx.read_bytes()

    with open(dump, "r+b") as f:                # same inode, other records
        f.truncate(0)
        f.write(other)
    assert run("maps", "--format", "qemu-tlb", dump, cache=cache) == want
    assert index_files(cache) == [idx] and idx.read_bytes() != first

    # Same size, one record header changed (a valid file still), mtime put back.
    st = os.stat(dump)
    data = bytearray(other)
    data[-16:] = struct.pack(">qq", -1, 1)      # the end record, its (unused) size changed
    before = idx.read_bytes()
    with open(dump, "r+b") as f:
        f.write(bytes(data))
    os.utime(dump, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(dump).st_mtime_ns == st.st_mtime_ns and os.stat(dump).st_size == st.st_size
    assert run("maps", "--format", "qemu-tlb", dump, cache=cache) == want
    after = idx.read_bytes()
    assert after != before and after[-20:-4] == bytes(data[-16:]), "stale index used"


def test_unwritable_cache_dir(dumps, tmp_path):
    """XDG_CACHE_HOME under a regular file: nothing can be made there; no error."""
    _, files, want = dumps
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    for _ in range(2):
        assert run("maps", "--format", "qemu-tlb", files["many"], cache=blocker / "c") == want


def test_home_fallback_and_relative_xdg(dumps, tmp_path):
    """Without XDG_CACHE_HOME (or with a relative one, which XDG says to ignore) the
    cache is $HOME/.cache/ptlab/kdump-index."""
    _, files, want = dumps
    env = {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": "relative/dir"}
    assert run("maps", "--format", "qemu-tlb", files["flat"], env_extra=env) == want
    assert len(index_files(tmp_path / "home" / ".cache")) == 1
    assert not (tmp_path / "relative").exists()


def test_at_most_64_index_files(dumps, tmp_path):
    """Old index files beyond 64 are removed when one is written."""
    _, files, _ = dumps
    cache = tmp_path / "cache"
    d = cache / "ptlab" / "kdump-index"
    d.mkdir(parents=True)
    for i in range(70):
        p = d / ("0-%x.idx" % (i + 1))
        p.write_bytes(b"old")
        os.utime(p, (1000 + i, 1000 + i))
    run("info", files["flat"], cache=cache)
    left = index_files(cache)
    assert len(left) == 64
    assert not (d / "0-1.idx").exists() and (d / "0-46.idx").exists()
