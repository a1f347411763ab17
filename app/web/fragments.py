"""Fragments rendered once per distinct input, for the parts of a page that everyone sees
again and again (the queue's rows, its filter form).

A *pure macro* is a Jinja macro whose output depends on its arguments alone: no
``current_user``, ``request``, ``csrf_token()``, ``url_for`` or flashes inside it (pass
what it needs as arguments). ``pure_macro(template, name, *args)`` renders it once per
distinct ``args`` and keeps the HTML; the arguments *are* the key, so a changed value is
simply a different entry, and nothing ever needs invalidating. The arguments must be
hashable (tuples, named tuples, frozen dataclasses, strings, numbers).
"""
from __future__ import annotations

import functools
from collections.abc import Hashable, Iterable

from flask import current_app
from jinja2 import Template
from markupsafe import Markup

#: fragments kept per process (a queue row is ~1 KB)
CACHE_SIZE = 8192


@functools.lru_cache(maxsize=CACHE_SIZE)
def _render(template: Template, name: str, args: tuple[Hashable, ...]) -> Markup:
    """``template`` is part of the key: a template reloaded in development is a new
    object, so what it renders is not served from the old one's entries."""
    return getattr(template.module, name)(*args)


def pure_macro(template_name: str, name: str, *args: Hashable) -> Markup:
    """The HTML of the pure macro ``name`` of ``template_name`` called with ``args``."""
    return _render(current_app.jinja_env.get_template(template_name), name, args)


def pure_macro_each(template_name: str, name: str,
                    each: Iterable[tuple[Hashable, ...]]) -> Markup:
    """The pure macro called once per argument tuple of ``each``, joined."""
    template = current_app.jinja_env.get_template(template_name)
    return Markup("".join([_render(template, name, args) for args in each]))
