"""The one error every instrument driver raises for a device that misbehaves or is gone."""

from __future__ import annotations


class InstrumentError(RuntimeError):
    """A device did not answer, answered wrongly, or does not match its configuration.

    The message names the instrument and what happened; the boat process logs it and polls on.
    """
