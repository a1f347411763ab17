"""The console's view helpers, used by the blueprints (and the factory) only - never by the
services, the jobs or the commands:

- ``ui``: rendering a page or an HTMX fragment, flash notices, the acting moderator, form
  parsing, cached URL building;
- ``markup``: small HTML builders (badges, scores, amounts) used as template globals;
- ``fragments``: pure Jinja macros rendered once per distinct input and kept;
- ``errors``: the error pages (HTML, HTMX fragment or JSON);
- ``params``: the query-string and path values, checked in one place (the bounded ``int``
  URL converter, NUL refused, typed query values: a clear 400/404, never a 500).
"""
