"""Hatch build hook: compiles the gettext catalogs (.po) to .mo files, so the binaries are built, never committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

LOCALES = Path("src/notifbot/i18n/locales")


class CatalogBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Writes each `locales/<lang>/LC_MESSAGES/<domain>.mo` beside its `.po` and ships it in the wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compiles every catalog; fuzzy entries are left out, as `pybabel compile` does."""
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root)
        for po in sorted((root / LOCALES).glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as f:
                catalog = read_po(f)
            mo = po.with_suffix(".mo")
            with mo.open("wb") as f:
                write_mo(f, catalog)
            if version != "editable":  # an editable install reads the .mo beside its .po in src/
                relative = mo.relative_to(root).as_posix()
                build_data["force_include"][str(mo)] = relative.removeprefix("src/")
