"""An inventory's mistakes name the file, the line and the key, never the value: a value
may be a password (ansible_become_password), and errors reach terminals and CI logs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit import inventory
from kit.errors import KitValueError

SECRET = "hunter2-S3cret"

# (inventory text, the line, the key the message names)
CASES = {
    "space-after-equals": (
        f"[web]\nweb1 ansible_become_password= {SECRET}\n",
        2,
        "ansible_become_password",
    ),
    "vars-line-without-equals": (f"[web]\nweb1\n[web:vars]\n{SECRET}\n", 4, None),
    "bytes-literal": (
        f"[web]\nweb1\n[web:vars]\nansible_become_pass=b'{SECRET}'\n",
        4,
        "ansible_become_pass",
    ),
    "set-literal": (
        f"[web]\nweb1\n[web:vars]\nansible_become_pass={{'{SECRET}'}}\n",
        4,
        "ansible_become_pass",
    ),
    "vault-value": (
        f"[web]\nweb1 ansible_become_pass=$ANSIBLE_VAULT{SECRET}\n",
        2,
        "ansible_become_pass",
    ),
    "group-priority-not-a-number": (
        f"[web]\nweb1\n[web:vars]\nansible_group_priority={SECRET}\n",
        4,
        "ansible_group_priority",
    ),
}


@pytest.mark.parametrize("text,line,key", CASES.values(), ids=CASES.keys())
def test_an_ini_mistake_names_the_line_and_key_and_never_the_value(tmp_path, text, line, key):
    path = tmp_path / "hosts.ini"
    path.write_text(text)
    with pytest.raises(KitValueError) as err:
        inventory.load(path, backend="builtin")
    message = str(err.value)
    assert SECRET not in message, message
    assert message.startswith(f"inventory {path}:{line}: "), message
    assert "\n" not in message
    if key is not None:
        assert key in message, message


WORDS = st.text(
    st.characters(codec="utf-8", exclude_characters="\"'\\#=\n\r", exclude_categories=["Z", "C"]),
    min_size=1,
    max_size=30,
)


def stray_word_error(path, word: str) -> str:
    path.write_text(f"[web]\nweb1 ansible_user=ops ansible_become_password= {word}\n")
    with pytest.raises(KitValueError) as err:
        inventory.load(path, backend="builtin")
    return str(err.value)


@given(WORDS)
def test_a_stray_word_on_a_host_line_is_never_shown(tmp_path_factory, secret):
    path = tmp_path_factory.mktemp("inv") / "hosts.ini"
    # The message is the same whatever the word: nothing of it is shown.
    assert stray_word_error(path, secret) == stray_word_error(path, "placeholder")
