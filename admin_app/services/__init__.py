"""Use cases. The only code that changes customer status or writes the operation log.

Import by module: `from admin_app.services import status_change`. Public functions own their
transaction (they commit once, or roll back and raise); private helpers never commit.
"""
