"""The engine's imports, one module per interface of ``wit/`` with the same name, each function named like
the WIT function. Every function takes the call's :class:`~aos_accounts.call.CallState` first, then the
WIT parameters in plain form, and returns the plain ``ok`` value or raises ``DriverError``."""
