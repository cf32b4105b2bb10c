"""How xdist work is shared out: whole hosts, every test once, the same answer everywhere."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kit.plugin.scheduling import _Unit, shares, worker_ids

LABELS = ["ssh://a", "ssh://a:2222", "ssh://b", "local://"]

nodeids = st.lists(
    st.tuples(st.sampled_from([*LABELS, None]), st.integers(0, 5)), min_size=1, max_size=40
).map(
    lambda pairs: list(
        dict.fromkeys(
            f"t.py::test_x[{label}-{n}]" if label else f"other.py::test_y[{n}]"
            for label, n in pairs
        )
    )
)


@given(nodeids, st.integers(1, 4))
def test_every_scope_goes_to_exactly_one_worker(ids, count):
    given_out = shares(ids, LABELS, worker_ids(count))
    scopes = [s for share in given_out.values() for s in share]
    assert len(scopes) == len(set(scopes))
    assert set(given_out) == set(worker_ids(count))
    # The longest label wins: ssh://a:2222's tests are not ssh://a's.
    assert ("ssh://a" in scopes) == any("[ssh://a-" in i for i in ids)
    assert shares(list(ids), list(LABELS), worker_ids(count)) == given_out


@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), max_size=30))
def test_unit_counts_what_is_not_done(updates):
    unit = _Unit([f"n{i}" for i in range(4)])
    for key, done in updates:
        unit[f"n{key}"] = done
    assert unit.pending == list(unit.values()).count(False)
