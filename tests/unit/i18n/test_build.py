"""The wheel carries compiled catalogs: the build hook turns each .po into a .mo that gettext reads."""

from __future__ import annotations

import gettext
import shutil
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_wheel_has_a_compiled_catalog_per_locale(tmp_path: Path) -> None:
    src = tmp_path / "repo"
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("*.mo", "__pycache__"))
    for name in ("pyproject.toml", "hatch_build.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert "notifbot/render/static/chat.css" in names  # the message views' styles (sandbox, console)
        assert {"notifbot/ui/static/console.css", "notifbot/ui/templates/base.html"} <= names  # the console
        assert "notifbot/sandbox/mail/campaign_failure.eml" in names  # the sandbox's "Send a sample" e-mails
        for locale in ("en", "sv"):
            assert f"notifbot/i18n/locales/{locale}/LC_MESSAGES/notifbot.po" in names
            assert f"notifbot/i18n/locales/{locale}/LC_MESSAGES/notifbot.mo" in names
        sv = gettext.GNUTranslations(BytesIO(z.read("notifbot/i18n/locales/sv/LC_MESSAGES/notifbot.mo")))
    assert sv.gettext("just now") == "nyss"
