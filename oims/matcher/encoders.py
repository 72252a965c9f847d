"""Loading the encoder: once per process, on first use (the worker's; a web
process loads it only for the fit check's draft). A failure is remembered for
`ENCODER_RETRY_SECONDS`, so a missing model does not make every call try again."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

ENCODER_RETRY_SECONDS = 60


def check_encoder_name(name: str | None) -> None:
    """Fail fast for a model path that does not exist (saves importing torch)."""
    if not name:
        return
    raw = name[3:] if name.lower().startswith("st:") else name
    if raw.startswith(("/", "./", "../", "~")) and not Path(raw).expanduser().exists():
        from matching import EncoderUnavailable

        raise EncoderUnavailable(f"Encoder model path {raw!r} does not exist (OIMS_ENCODER).")


class EncoderLoader:
    """The encoder named `name` (OIMS_ENCODER; None: the library's default), loaded once."""

    def __init__(self, name: str | None) -> None:
        self.name = name
        self._encoder = None
        self._error = ""
        self._failed_at = 0.0
        self._lock = threading.RLock()

    def get(self):
        """The loaded encoder; raises EncoderUnavailable (again, without retrying, for a while)."""
        from matching import EncoderUnavailable, get_encoder

        with self._lock:
            if self._encoder is not None:
                return self._encoder
            if self._error and time.monotonic() - self._failed_at < ENCODER_RETRY_SECONDS:
                raise EncoderUnavailable(self._error)
            try:
                check_encoder_name(self.name)
                self._encoder = get_encoder(self.name)
            except EncoderUnavailable as exc:
                self._error = str(exc)
                self._failed_at = time.monotonic()
                log.warning("matching encoder unavailable: %s", exc)
                raise
            self._error = ""
            return self._encoder

    @property
    def available(self) -> bool:
        try:
            self.get()
        except Exception:  # noqa: BLE001 - any failure means "not now"
            return False
        return True
