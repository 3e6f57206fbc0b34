"""Where registration-wizard uploads wait between steps, and how the wizard keeps track of them.

django-formtools (2.7) stores each step's uploads in ``file_storage`` and their names in the session
(``BaseStorage.set_step_files``). It already keeps a step's upload when the step is posted again
without a file, but three things around that need help: a replaced upload is never deleted, the
per-request ``_files`` cache would hand back the replaced file later in the same request
(jazzband/django-formtools#207), and a kept upload whose file has gone (purged after a day, see
``services.wizard_uploads_purge``) makes ``get_step_files`` raise instead of letting the carrier
choose the file again. The page itself cannot show a kept upload: see ``forms.KeptFileInput``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from formtools.wizard.storage.session import SessionStorage

# How long an upload waits for its wizard to finish before the purge deletes it.
WIZARD_UPLOAD_HOURS = 24
WIZARD_UPLOAD_MAX_AGE = timedelta(hours=WIZARD_UPLOAD_HOURS)


class WizardUploadStorage(FileSystemStorage):
    """Where uploads wait between wizard steps; the checked copies are stored by the services at the end."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(Path(settings.MEDIA_ROOT) / "private" / "wizard")


class KeptUploadsSessionStorage(SessionStorage):
    """Session storage that replaces a step's upload cleanly and forgets uploads whose file has gone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lost_files: list[tuple[str, str]] = []  # (step, file name) forgotten during this request

    def _forget_missing(self, step: str) -> None:
        step_files = self.data[self.step_files_key].get(step, {})
        for field, info in list(step_files.items()):
            if not self.file_storage.exists(info["tmp_name"]):
                del step_files[field]
                self._files.pop((step, field), None)
                self.lost_files.append((step, info["name"]))

    def kept_file_names(self, step: str) -> dict[str, str]:
        """Map each field (with its form prefix) that holds an upload for step to the uploaded file's name."""
        self._forget_missing(step)
        return {field: info["name"] for field, info in self.data[self.step_files_key].get(step, {}).items()}

    def get_step_files(self, step: str) -> Any:
        self._forget_missing(step)
        return super().get_step_files(step)

    def set_step_files(self, step: str, files: Any) -> None:
        previous = dict(self.data[self.step_files_key].get(step, {}))
        super().set_step_files(step, files)
        for field in files or {}:
            if field in previous:
                stale = self._files.pop((step, field), None)
                if stale is not None:
                    stale.close()
                # Deleted after the response, like formtools' own leftovers on reset.
                self._tmp_files.append(previous[field]["tmp_name"])
