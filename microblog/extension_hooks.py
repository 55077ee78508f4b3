"""Request hooks that extensions register app-wide, taken back so microblog/pipeline.py can place
each in the doors that need it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import Flask
from flask import Response as FlaskResponse
from werkzeug.wrappers import Response

# Flask hands an after-step its own Response class; a step may answer with any Response.
Before = Callable[[], Response | None]
After = Callable[[FlaskResponse], Response]
ADOPTED = "microblog.adopted_hooks"


@dataclass(frozen=True)
class Adopted:
    """The hooks an extension registered (`adopt`), of one kind, in the order it registered
    them."""

    extension: str
    kind: Literal["before", "after"]

    @property
    def __name__(self) -> str:  # how `describe` shows it
        return f"{self.extension}:{self.kind}"


@dataclass
class _Hooks:
    before: list[Before] = field(default_factory=list)
    after: list[After] = field(default_factory=list)


def adopt(app: Flask, extension: str, init: Callable[[], Any]) -> None:
    """Run an extension's `init` and take away the app-wide request hooks it registers, for
    the doors to place (as `Adopted(extension, ...)`) or leave out. Its teardown functions stay:
    they only forget per-request state."""
    before_known = list(app.before_request_funcs.get(None, []))
    after_known = list(app.after_request_funcs.get(None, []))
    init()
    hooks: _Hooks = app.extensions.setdefault(ADOPTED, {}).setdefault(extension, _Hooks())
    hooks.before += _take_new(app.before_request_funcs, before_known)
    # Flask runs after_request functions last-registered first: kept here in running order.
    hooks.after += reversed(_take_new(app.after_request_funcs, after_known))


def _take_new(registry: dict[Any, list[Any]], known: list[Any]) -> list[Any]:
    current = registry.get(None, [])
    new = [hook for hook in current if not any(hook is old for old in known)]
    registry[None] = [hook for hook in current if any(hook is old for old in known)]
    return new


def resolve(app: Flask, steps: Sequence[Any]) -> tuple[Any, ...]:
    adopted: dict[str, _Hooks] = app.extensions.get(ADOPTED, {})
    resolved: list[Any] = []
    for step in steps:
        if isinstance(step, Adopted):
            hooks = adopted.get(step.extension)
            resolved += getattr(hooks, step.kind) if hooks else []
        else:
            resolved.append(step)
    return tuple(resolved)
