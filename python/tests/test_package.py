"""The installed package: importable from anywhere, self-contained, typed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import weft

SOURCE_TREE = Path(__file__).resolve().parents[1] / "src"


def test_tests_use_the_installed_package_when_asked():
    # tools/test-python.sh sets this: the tests must exercise the wheel, not the source tree.
    package_dir = Path(weft.__file__).resolve().parent
    if os.environ.get("WEFT_PYTHON_EXPECT_INSTALLED") == "1":
        assert SOURCE_TREE not in package_dir.parents, package_dir
        assert "site-packages" in package_dir.parts
    assert (package_dir / "py.typed").is_file()
    assert Path(weft._native.__file__).parent == package_dir


def test_extension_carries_the_library():
    # libweft is linked in statically: the extension needs no libweft.so at run time.
    output = subprocess.run(["ldd", weft._native.__file__], capture_output=True, text=True)
    assert output.returncode == 0, output.stderr
    assert "libweft" not in output.stdout
    assert "not found" not in output.stdout


def test_imports_from_outside_the_repository(tmp_path):
    code = "import weft, asyncio; print(weft.library_version(), weft.Identity.generate().peer_id)"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    version, peer = result.stdout.split()
    assert version == weft.__version__ and peer.startswith("12D3KooW")


def test_public_names():
    for name in weft.__all__:
        assert hasattr(weft, name), name
    assert weft.live_counts().keys() == {"nodes", "threads", "sockets", "timers", "connections",
                                         "streams", "operations"}
