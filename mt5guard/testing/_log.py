"""The deterministic runtime's log: one line per message handled, put together when read."""

from __future__ import annotations

__all__ = ["MessageLog"]


class MessageLog:
    """``"<simulated seconds, 3 decimals> <actor> <message type>"``, one line a message.

    The runtime notes in :attr:`noted` each instant once, as its monotonic
    seconds (a float), and then each message handled in it, as the text
    ``"<actor> <message type>"`` (a str). :meth:`lines` puts the lines
    together the first time they are read: a run whose log nobody reads
    formats no time at all (a float to text costs more than the rest of a
    line).
    """

    __slots__ = ("_lines", "_stamp", "noted")

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._stamp = ""  # the text of the last instant put together
        self.noted: list[float | str] = []
        """Instants (float) and messages (str) since the lines were last put together."""

    def lines(self) -> list[str]:
        """Every line so far (the same list each time, grown by what was noted since)."""
        noted = self.noted
        if noted:
            lines, stamp = self._lines, self._stamp
            for item in noted:
                if item.__class__ is str:
                    lines.append(stamp + item)
                else:
                    stamp = f"{item:.3f} "
            self._stamp = stamp
            noted.clear()
        return self._lines
