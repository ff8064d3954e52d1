"""GraphiQL, served by the server itself so that it works without internet.

* `lock.json`: the exact npm packages (version, tarball, sha512 integrity) and the files the
  page loads from each, with their own sha384 integrity.
* `fetch.py`: set-up (scripts/bootstrap, the Dockerfile) downloads the tarballs from the npm
  registry with Python alone, checks them against the lock and extracts those files into
  `vendor/` (git-ignored).
* `page.py`: the page at GET /graphql and its assets under /graphql/ide/, with a
  Content-Security-Policy that allows only the server's own origin.
* `static/`: the page's own script and styles (sign-in form, GraphiQL set-up).

This package imports nothing at import time, so `python -m graphql_api.api.core.ide.fetch`
runs on a bare Python.
"""
