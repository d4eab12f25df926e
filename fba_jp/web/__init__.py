"""``fba-jp serve``: the dashboard for sellers and ACP staff, on the same SQLite audit trail.

``app`` builds the Starlette application, ``auth`` holds users, sessions and CSRF, ``queries`` the
indexed, paginated reads, ``routes`` the pages (each with a JSON twin). Imported only by the ``serve``
command, so ``fba-jp gate`` never loads a web framework.
"""
