"""The --stats report: totals, per-vCPU counters and the lock contention table."""
from __future__ import annotations

from typing import Any, List


def _table(rows: List[List[str]]) -> List[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
            for r in rows]


def _code_cache(cc: Any) -> str:
    if cc["file"] is None:
        return f"code cache: off, {cc['compiled']} blocks compiled"
    return (f"code cache: {cc['found']} blocks' code found, {cc['compiled']} compiled; "
            f"{cc['emitted_found']} found as emitted ({cc['file']})")


def format_stats(machine: Any, wall: float) -> str:
    c = machine.counters()
    insns = sum(v["insns"] for v in c["vcpus"])
    tb = c["tb"]
    mips = insns / wall / 1e6 if wall > 0 else 0.0
    out = [f"instructions executed: {insns}",
           f"TBs translated: {tb['translated']} ({tb['insns_translated']} insns, "
           f"{tb['translate_ns'] / 1e6:.1f} ms), live {tb['live']}, chained exits {tb['chained']}, "
           f"regions {tb['regions']}, invalidated {tb['invalidated']} in {tb['invalidations']} page events, "
           f"flushes {tb['flushes']}",
           _code_cache(c["code_cache"]),
           f"wall time: {wall:.3f} s, guest MIPS: {mips:.2f}",
           "per vCPU:"]
    rows = [["vcpu", "state", "insns", "TBs run", "jc hits", "map hits", "translated", "exceptions", "irqs",
             "FP traps", "WFI/WFE", "TLB fills", "TLB flushes"]]
    for i, (v, t) in enumerate(zip(c["vcpus"], c["tlb"])):
        rows.append([f"cpu{i}", v["state"], str(v["insns"]), str(v["tbs"]), str(v["jc_hits"]), str(v["map_hits"]),
                     str(v["translated"]), str(v["exceptions"]), str(v["irqs"]), str(v["fp_traps"]),
                     f"{v['wfi_count']}/{v['wfe_count']}", str(t["fills"]), str(t["flushes"] + t["page_flushes"])])
    out += _table(rows)
    out.append("locks:")
    rows = [["lock", "acquired", "contended", "wait ms", "max wait us", "hold ms"]]
    for name, lk in c["locks"].items():
        rows.append([name, str(lk["acquired"]), str(lk["contended"]), f"{lk['wait_ns'] / 1e6:.2f}",
                     f"{lk['max_wait_ns'] / 1e3:.1f}", f"{lk['hold_ns'] / 1e6:.2f}"])
    out += _table(rows)
    sw = c["safe_work"]
    out.append(f"safe work: {sw['count']} stop-the-world sections, {sw['stopped_ns'] / 1e6:.2f} ms stopped")
    return "\n".join(out)
