"""`ptlab vtop --access` decided by lib/paging's MMU model (docs/mmu.md).

Synthetic dumps from scripts/ptlab-mkcore with CPU states that exercise the
model through the tool: SMAP with and without RFLAGS.AC, SMEP, CR0.WP, the
PAE PDPTE registers (a present PDPTE with reserved bits makes loading CR3
#GP, which the old walk-based verdict reported as a reserved-bit #PF), and
the protection-key note.
"""

import pytest

from ptlab_tool import mkcore, ptlab


P, W, U, A, D, PS, NX = mkcore.P, mkcore.W, mkcore.U, mkcore.A, mkcore.D, mkcore.PS, mkcore.NX
CR4_SMEP, CR4_SMAP, CR4_PKE = 1 << 20, 1 << 21, 1 << 22
RFLAGS_AC = 1 << 18
CR0_PE_PG = 0x80000011


def l4_core(tmp_path, name, cr0=mkcore.CR0_PG_PE_WP, cr4=0, rflags=0x2, extra=None):
    m = mkcore.Phys()
    mkcore.l4_tables(m)
    if extra:
        extra(m)
    path = tmp_path / (name + ".elf")
    path.write_bytes(mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(
        cr0, 0x1000, mkcore.CR4_PAE | cr4, rflags=rflags)]))
    return path


def verdict(core, va, access, user=False):
    r = ptlab("vtop", "--access", access, *(["--user"] if user else []), core, va)
    line = next(l for l in r.stdout.splitlines() if l.startswith("access:"))
    return r, line


@pytest.mark.parametrize("cr4,rflags,access,expect,ec", [
    (CR4_SMAP, 0x2, "r", "page fault", "0x1"),
    (CR4_SMAP, 0x2 | RFLAGS_AC, "r", "allowed", None),
    (CR4_SMAP, 0x2, "x", "allowed", None),           # SMAP never affects fetches
    (CR4_SMEP, 0x2, "x", "page fault", "0x11"),
    (CR4_SMEP, 0x2, "r", "allowed", None),
])
def test_supervisor_access_to_user_page_follows_smap_smep(tmp_path, cr4, rflags, access,
                                                          expect, ec):
    core = l4_core(tmp_path, "s", cr4=cr4, rflags=rflags)
    r, line = verdict(core, "201000", access)
    assert expect in line, r.stdout
    if ec:
        assert "error code %s " % ec in r.stdout
        assert "SMAP" in r.stdout or "SMEP" in r.stdout


def test_supervisor_write_to_readonly_page_allowed_without_wp(tmp_path):
    core = l4_core(tmp_path, "nowp", cr0=CR0_PE_PG)
    r, line = verdict(core, "ffffffff81000000", "w")
    assert "allowed" in line, r.stdout
    r, line = verdict(core, "ffffffff81000000", "w", user=True)
    assert "page fault" in line


def test_pae_pdpte_with_reserved_bits_is_gp_at_cr3_load(tmp_path):
    m = mkcore.Phys()
    m.q(0x1020 + 0 * 8, 0x3000 | P | W)      # R/W is reserved in a PAE PDPTE
    m.q(0x3000 + 2 * 8, 0x4000 | P | W | U)
    m.q(0x4000, 0x5000 | P | W | U)
    path = tmp_path / "pae_bad.elf"
    path.write_bytes(mkcore.elf_core(m.segments(), [mkcore.qemu_cpu_state(
        mkcore.CR0_PG_PE_WP, 0x1020, mkcore.CR4_PAE)], machine=mkcore.EM_386, elf_class=1))
    r, line = verdict(path, "400000", "r")
    assert "#GP" in line and "PDPTE" in line, r.stdout
    assert r.returncode == 1


def test_pae_verdicts_use_the_pdpte_registers(tmp_path):
    path = tmp_path / "pae.elf"
    path.write_bytes(mkcore.scenario_pae())
    r, line = verdict(path, "400010", "w", user=True)
    assert "allowed" in line, r.stdout
    r, line = verdict(path, "400010", "x", user=True)
    assert "page fault" in line and "error code 0x15 " in r.stdout, r.stdout
    r, line = verdict(path, "80000000", "r")     # PDPTE 2 not present
    assert "page fault" in line and "error code 0x0 " in r.stdout, r.stdout


def test_protection_key_is_reported_not_checked(tmp_path):
    def keyed(m):
        m.q(0x4000 + 5 * 8, 0x21000 | P | W | U | A | (3 << 59))
    core = l4_core(tmp_path, "pk", cr4=CR4_PKE, extra=keyed)
    r, line = verdict(core, "205000", "w", user=True)
    assert "allowed" in line, r.stdout
    assert "protection key 3 not checked" in r.stdout
