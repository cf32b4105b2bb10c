import pytest

from kit.errors import KitValueError
from kit.facts import FileStat, Probes, parse_facts

RAW = (
    "@@hostkit:files\n"
    "644\troot\troot\tregular file\t/etc/passwd\n"
    "1777\troot\troot\tdirectory\t/tmp\n"
    "600\tkube\tkube\tregular file\t/etc/with space\n"
    "absent\t/etc/missing\n"
    "@@hostkit:packages\n"
    "bash\tinstall ok installed\t5.2.15-2\n"
    "gone\tdeinstall ok config-files\t1.0\n"
    "asked\tbash\n"
    "asked\tgone\n"
    "asked\tnever-heard-of\n"
    "@@hostkit:end\n"
)


def test_file_probes():
    files = parse_facts(RAW).files
    assert files["/etc/passwd"] == FileStat(0o644, "root", "root", "regular file")
    assert files["/tmp"].mode == 0o1777
    assert files["/etc/with space"].owner == "kube"
    assert files["/etc/missing"] is None
    assert "/etc/shadow" not in files


def test_package_probes_every_asked_name_answered():
    assert dict(parse_facts(RAW).packages) == {
        "bash": "5.2.15-2",
        "gone": None,  # removed, configuration left: not installed
        "never-heard-of": None,
    }


def test_no_probes_no_answers():
    facts = parse_facts("@@hostkit:end\n")
    assert facts.files == {} and facts.packages == {}


@pytest.mark.parametrize(
    "probes",
    [
        {"files": ("relative",)},
        {"files": ("/etc/x\n",)},
        {"packages": ("bad name",)},
        {"packages": ("-rf",)},
    ],
)
def test_probes_refuse_bad_names(probes):
    with pytest.raises(KitValueError):
        Probes(**probes)
