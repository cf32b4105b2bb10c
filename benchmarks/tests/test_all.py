"""benchmarks/all.py puts every earlier row beside its rerun."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.all import BENCHMARKS, beside, ssh_commands_before

OLD = """# x

| hosts | RTT ms | suite | wall s | speed-up |
|---|---|---|---|---|
| 4 | 0 | testinfra | 9.07 | 1.0x |
| 4 | 0 | hostkit | 1.91 | 4.7x |
"""


def test_rows_are_matched_by_what_names_them_and_new_columns_show_beside_none():
    new = (
        "| hosts | RTT ms | suite | wall s | speed-up | host processes/host |\n"
        "|---|---|---|---|---|---|\n"
        "| 4 | 0 | hostkit | 1.50 | 6.0x | 20 |\n"
        "| 4 | 0 | testinfra | 9.00 | 1.0x | 40 |\n"
    )
    lines = beside(OLD, new)
    assert lines[1] == (
        "| hosts=4, RTT ms=0, suite=hostkit | wall s: 1.91 → 1.50; speed-up: 4.7x → 6.0x; "
        "host processes/host: - → 20 |"
    )
    assert lines[0].startswith("| hosts=4, RTT ms=0, suite=testinfra | wall s: 9.07 → 9.00")


def test_a_row_gone_from_the_rerun_still_shows_its_old_figures():
    (only,) = beside(OLD.replace("| 4 | 0 | testinfra | 9.07 | 1.0x |\n", ""), "")
    assert only == "| hosts=4, RTT ms=0, suite=hostkit | wall s: 1.91 → -; speed-up: 4.7x → - |"


def test_the_hand_written_per_command_figures_are_read_from_their_after_block():
    text = (Path(__file__).resolve().parents[1] / "results-ssh-commands.md").read_text()
    table = ssh_commands_before(text)
    # The first "after" block: hostkit 3.30, 3.33, 3.36 ms; testinfra 46.88, 45.94, 55.18 ms.
    assert "| hostkit | 3.33 | 14.1x | 2.00 |" in table
    assert "| testinfra | 46.88 | 1.0x | 2.00 |" in table


def test_every_results_file_has_its_benchmark():
    here = Path(__file__).resolve().parents[1]
    written = {b.out for b in BENCHMARKS}
    hand_written = {"results-ssh-commands.md", "results-compare.md"}
    assert {p.name for p in here.glob("results*.md")} - hand_written <= written
