"""A value that must never be printed: passwords and other credentials."""

from __future__ import annotations

__all__ = ["Secret"]

_MASK = "******"


class Secret:
    """Holds a secret string; every text form of it is masked.

    ``str()``, ``repr()``, ``format()`` and pickling never show the value;
    only :meth:`reveal` does, and only the terminal adapter calls it.
    """

    __slots__ = ("__value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret holds a str")
        self.__value = value

    def reveal(self) -> str:
        """The secret itself. Pass it straight to the terminal; never log it."""
        return self.__value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.__value == self.__value

    def __hash__(self) -> int:
        return hash(self.__value)

    def __bool__(self) -> bool:
        return bool(self.__value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")
